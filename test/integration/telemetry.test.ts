/**
 * The telemetry sweep on the real Temporal dev server and PostgreSQL, over
 * the simulated fleet's BMCs and three misbehaving Redfish endpoints: current
 * state through the API, a crossed threshold remediated through the signal
 * pipeline, per-host errors that do not stop the sweep, the schedule, and
 * reading a host on demand.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createLogger } from '../../config/logger';
import { injectHardwareFault, pointBmcAt, repairByHand } from '../../providers/simulated/admin';
import { syncInventory } from '../../activities/inventory';
import { recordHistoryIfAsked } from '../support/history';
import { ensureSweepSchedule, sweepScheduleId } from '../../workers/schedule';
import type { telemetrySweepWorkflow } from '../../workflows/telemetry';
import { createTestEnv, testPolicy, type TestEnv } from '../support/env';
import { eventually, http } from '../support/http';

let env: TestEnv;
let bot: string;
let viewer: string;
const servers: Server[] = [];

/** A BMC that misbehaves in one way on every request. */
async function badBmc(behaviour: 'hang' | 'http-500' | 'garbage'): Promise<string> {
  const server = createServer((_req, res) => {
    if (behaviour === 'hang') return; // never answers
    if (behaviour === 'http-500') {
      res.writeHead(500).end('internal error');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        Systems: { '@odata.id': '/redfish/v1/Systems' },
        Members: [{ '@odata.id': '/redfish/v1/Systems/1' }],
        PowerState: 7,
      }),
    );
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

beforeAll(async () => {
  env = await createTestEnv({
    fleet: { zones: ['zone-a', 'zone-b'], hostsPerZone: 3, serversPerHost: 2 },
    policies: [
      // Zone b, as the shipped inlet-temperature policy does it: drain, tell facilities, wait, check. (The list is in priority order.)
      {
        ...testPolicy(
          'inlet-wait',
          ['InletTemperatureHigh'],
          {
            confirm: ['bmc-health'],
            ladder: [
              { action: 'notify', message: 'check the CRAC unit' },
              { action: 'wait', seconds: 4 },
            ],
            verify: { attempts: 2, intervalSeconds: 1 },
          },
          { zones: ['zone-b'] },
        ),
        priority: 10,
      },
      testPolicy('hot-inlet', ['InletTemperatureHigh'], {
        confirm: ['bmc-health'],
        verify: { attempts: 2, intervalSeconds: 1 },
      }),
    ],
    telemetry: { readDeadlineMs: 2000 },
    redispatchEveryMs: 300,
  });
  bot = await env.token('ops-bot', 'operator');
  viewer = await env.token('victor', 'viewer');
  await env.startWorker();
});
afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  await env.close();
});

const sweep = () =>
  env.client.workflow.execute<typeof telemetrySweepWorkflow>('telemetrySweepWorkflow', {
    taskQueue: env.taskQueue,
    workflowId: `${env.workflowIdPrefix}sweep-${randomUUID()}`,
    args: [{ batchSize: 2 }],
  });
const host = async (id: string) => (await http('GET', `${env.apiUrl}/v1/hosts/${id}`, viewer)).body;

test('a sweep reads every host: power, temperatures, fans, power supplies, CPU and memory health, firmware, utilisation, through the API', async () => {
  const summary = await sweep();
  expect(summary).toMatchObject({ hosts: 6, ok: 6, failed: 0, signals: 0 });

  const h = await host('cmp-a-01');
  expect(h).toMatchObject({
    id: 'cmp-a-01',
    zone: 'zone-a',
    power: 'on',
    health: 'ok',
    bmcReachable: true,
    psuRedundancy: 'ok',
  });
  expect(h.temperatures.find((t: { context: string }) => t.context === 'Intake')).toMatchObject({ celsius: 23 });
  expect(h.fans).toHaveLength(4);
  expect(h.powerSupplies).toHaveLength(2);
  expect(h.system.processors).toMatchObject({ count: 2, health: 'ok' });
  expect(h.system.memory).toMatchObject({ health: 'ok', correctableErrors: 0 });
  expect(h.bmc).toMatchObject({ address: 'sim://cmp-a-01', firmware: 'SIM-BMC 5.10', error: null });
  expect(h.utilisation).toMatchObject({ vcpus: { used: 8, total: 64 }, ramMiB: { used: 16384 } });
  expect(h.lastSeenAt).not.toBeNull();

  const series = (await http('GET', `${env.apiUrl}/v1/hosts/cmp-a-01/telemetry?metric=inlet_c&since=1h`, viewer)).body;
  expect(series.series.inlet_c).toEqual([expect.objectContaining({ value: 23 })]);
  expect(Object.keys(series.series)).toEqual(['inlet_c']);

  const fleet = (await http('GET', `${env.apiUrl}/v1/fleet/summary`, viewer)).body;
  expect(fleet).toMatchObject({ hosts: 6, byHealth: { ok: 6 }, byRole: { compute: 6 }, bmcUnreachable: 0 });
  expect(fleet.byZone['zone-b']).toMatchObject({ hosts: 3, utilisation: { vcpus: { used: 24, total: 192 } } });
  expect(fleet.lastSweep).toMatchObject({ id: summary.sweepId, hosts: 6, readOk: 6, readFailed: 0 });

  const filtered = (await http('GET', `${env.apiUrl}/v1/hosts?zone=zone-b&role=compute&health=ok`, viewer)).body.hosts;
  expect(filtered.map((x: { id: string }) => x.id)).toEqual(['cmp-b-01', 'cmp-b-02', 'cmp-b-03']);
});

test('bad queries name the field and the reason', async () => {
  const badMetric = await http('GET', `${env.apiUrl}/v1/hosts/cmp-a-01/telemetry?metric=volts`, viewer);
  expect(badMetric.status).toBe(400);
  expect(badMetric.body.error.message).toMatch(/^query\.metric:/);
  const badSince = await http('GET', `${env.apiUrl}/v1/hosts/cmp-a-01/telemetry?since=yesterday`, viewer);
  expect(badSince.status).toBe(400);
  expect(badSince.body.error.message).toMatch(/^query\.since: must be an ISO 8601 time or a duration/);
  expect((await http('GET', `${env.apiUrl}/v1/hosts?health=purple`, viewer)).status).toBe(400);
  expect((await http('GET', `${env.apiUrl}/v1/hosts/nope/telemetry`, viewer)).status).toBe(404);
});

test('an inlet temperature crossing its threshold raises a signal, the matching policy remediates, and the clearance is signalled as resolved', async () => {
  const id = 'cmp-a-02';
  await injectHardwareFault(env.db, id, { inletCelsius: 41 });
  const summary = await sweep();
  expect(summary.signals).toBe(1);

  const remediation = await eventually('the telemetry signal to start a remediation', async () => {
    const { rows } = await env.db.query(
      `SELECT outcome, remediation_id, severity FROM signals WHERE host = $1 AND source = 'telemetry' AND name = 'InletTemperatureHigh'`,
      [id],
    );
    return rows[0]?.outcome === 'started' ? rows[0] : undefined;
  });
  expect(remediation.severity).toBe('critical');

  // A power cycle does not cool a room: verification fails and a person gets the host.
  const handedOff = await eventually('hand-off', async () => {
    const r = (await http('GET', `${env.apiUrl}/v1/remediations/${remediation.remediation_id}`, bot)).body;
    return r.phase === 'awaiting-operator' ? r : undefined;
  });
  expect(handedOff.handOff.reason).toMatch(/verification failed: BMC critical: inlet temperature 41/);
  expect((await host(id)).health).toBe('critical');

  await repairByHand(env.db, id);
  expect(
    (
      await http('POST', `${env.apiUrl}/v1/remediations/${remediation.remediation_id}/hand-back`, bot, {
        comment: 'CRAC unit fixed',
      })
    ).status,
  ).toBe(200);
  await eventually('returned', async () => {
    const r = (await http('GET', `${env.apiUrl}/v1/remediations/${remediation.remediation_id}`, bot)).body;
    return r.phase === 'returned' ? r : undefined;
  });

  // A repeat sweep while hot raised nothing new; now cool, the next sweep resolves it.
  const after = await sweep();
  expect(after.signals).toBe(1);
  const { rows } = await env.db.query(
    `SELECT status FROM signals WHERE host = $1 AND source = 'telemetry' ORDER BY received_at`,
    [id],
  );
  expect(rows.map((r) => r.status)).toEqual(['firing', 'resolved']);
  expect(await host(id)).toMatchObject({ health: 'ok', conditions: {} });
});

test('a host whose inlet cools while the policy waits is checked after the wait, verified and returned, never handed off', async () => {
  const id = 'cmp-b-01';
  await injectHardwareFault(env.db, id, { inletCelsius: 37 });
  await sweep();
  const signal = await eventually('the remediation to start', async () => {
    const { rows } = await env.db.query(
      `SELECT remediation_id, policy_name, severity FROM signals WHERE host = $1 AND source = 'telemetry' AND outcome = 'started'`,
      [id],
    );
    return rows[0];
  });
  expect(signal).toMatchObject({ policy_name: 'inlet-wait', severity: 'warning' });
  await eventually('the notice to facilities', async () =>
    env.notifications.some((n) => n.host === id && n.reason === 'check the CRAC unit') ? true : undefined,
  );
  await injectHardwareFault(env.db, id, { inletCelsius: 25 });
  const done = await eventually('returned', async () => {
    const r = (await http('GET', `${env.apiUrl}/v1/remediations/${signal.remediation_id}`, bot)).body;
    return r.outcome ? r : undefined;
  });
  expect(done.phase).toBe('returned');
  const steps = done.steps.map((st: { name: string }) => st.name);
  expect(steps).toEqual(expect.arrayContaining(['wait 4s', 'fixed? (check 1)', 'verify (check 1)']));
  expect(steps).not.toContain('hand-off');

  // RECORD_TELEMETRY_HISTORY=<name> stores this run's history for the replay test (test/fixtures/<name>-history.json).
  recordHistoryIfAsked(env, id, 'RECORD_TELEMETRY_HISTORY');
});

test("a BMC that times out, answers 500 or returns garbage is that host's error; the sweep finishes for every other host", async () => {
  const cases = {
    'cmp-b-01': await badBmc('hang'),
    'cmp-b-02': await badBmc('http-500'),
    'cmp-b-03': await badBmc('garbage'),
  };
  for (const [id, address] of Object.entries(cases))
    await pointBmcAt(env.db, id, { address, systemId: null, credentialsRef: null });
  await syncInventory(env.db, env.provider);

  const summary = await sweep();
  expect(summary).toMatchObject({ hosts: 6, ok: 3, failed: 3 });
  const errors = Object.fromEntries(summary.errors.map((e) => [e.host, e.error]));
  expect(errors['cmp-b-01']).toMatch(/reading took longer than 2s|no answer/);
  expect(errors['cmp-b-02']).toMatch(/GET \/redfish\/v1\/ answered HTTP 500/);
  expect(errors['cmp-b-03']).toMatch(/PowerState: .*expected string/);

  const b2 = await host('cmp-b-02');
  expect(b2).toMatchObject({ bmcReachable: false, health: 'warning', power: 'on' });
  expect(b2.conditions.BmcUnreachable.reason).toMatch(/BMC cannot be read \(http\)/);
  const a1 = await host('cmp-a-01');
  expect(a1).toMatchObject({ bmcReachable: true, health: 'ok' });
  const fleet = (await http('GET', `${env.apiUrl}/v1/fleet/summary`, viewer)).body;
  expect(fleet.bmcUnreachable).toBe(3);
  // Each raised one BmcUnreachable signal; no policy matches it here, so it is recorded as such.
  await eventually('BmcUnreachable signals decided', async () => {
    const { rows } = await env.db.query(
      `SELECT host, outcome FROM signals WHERE name = 'BmcUnreachable' ORDER BY host`,
    );
    return rows.length === 3 && rows.every((r) => r.outcome === 'no-policy') ? rows : undefined;
  });
});

test('POST /v1/hosts/{id}/refresh reads the host now through the worker; operators only', async () => {
  await injectHardwareFault(env.db, 'cmp-a-03', { psusFailed: 1 });
  expect((await http('POST', `${env.apiUrl}/v1/hosts/cmp-a-03/refresh`, viewer)).status).toBe(403);
  expect((await http('POST', `${env.apiUrl}/v1/hosts/nope/refresh`, bot)).status).toBe(404);
  const res = await http('POST', `${env.apiUrl}/v1/hosts/cmp-a-03/refresh`, bot);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ psuRedundancy: 'lost', health: 'critical' });
  expect(res.body.conditions.PowerSupplyRedundancyLost.severity).toBe('critical');
});

test('the sweep schedule is created, updated and removed from configuration, and a triggered run sweeps', async () => {
  const logger = createLogger('silent', 'test');
  const opts = { prefix: env.workflowIdPrefix, taskQueue: env.taskQueue, logger };
  await ensureSweepSchedule(env.client, { ...opts, everySeconds: 3600 });
  await ensureSweepSchedule(env.client, { ...opts, everySeconds: 1800 });
  const handle = env.client.schedule.getHandle(sweepScheduleId(env.workflowIdPrefix));
  const described = await handle.describe();
  expect(described.spec.intervals?.[0]?.every).toBe(1_800_000);
  const { rows: before } = await env.db.query('SELECT count(*)::int AS n FROM telemetry_sweeps');
  await handle.trigger();
  await eventually('the scheduled sweep to finish', async () => {
    const { rows } = await env.db.query(
      'SELECT count(*)::int AS n FROM telemetry_sweeps WHERE finished_at IS NOT NULL',
    );
    return rows[0].n > before[0].n ? true : undefined;
  });
  await ensureSweepSchedule(env.client, { ...opts, everySeconds: 0 });
  await expect(handle.describe()).rejects.toThrow(/not found/i);
});
