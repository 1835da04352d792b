/**
 * Fleet-wide guards against the real dev server and PostgreSQL: however many
 * alerts arrive, Shipshape never takes out more than the guards allow.
 */
import { injectFault, simulatedHostName } from '../../providers/simulated/admin';
import type { GuardConfig } from '../../domain/guards';
import { WEEKDAYS } from '../../domain/windows';
import { createTestEnv, DEFAULT_TEST_POLICIES, PERMISSIVE_GUARDS, testPolicy, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';

let env: TestEnv;
let guards: GuardConfig = PERMISSIVE_GUARDS;
let operator: string;
let admin: string;

beforeAll(async () => {
  env = await createTestEnv({
    fleet: { zones: ['zone-a', 'zone-b', 'zone-c'], hostsPerZone: 20, serversPerHost: 1 },
    guards: () => guards,
    policies: [
      ...DEFAULT_TEST_POLICIES,
      // A ladder whose first step cannot fix a host that only a power cycle fixes, checked for 30 s.
      testPolicy('slow-fix', ['SlowFix'], {
        ladder: [{ action: 'restart-compute-service', fixWithinSeconds: 30 }, { action: 'power-cycle' }],
      }),
    ],
  });
  operator = await env.token('ops-bot', 'operator');
  admin = await env.token('ada', 'admin');
  await env.startWorker();
});
afterAll(() => env.close());
beforeEach(() => {
  guards = { ...PERMISSIVE_GUARDS };
});

const view = async (id: string) => (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;
const phaseOf = (id: string, phase: string, timeoutMs = 60_000) =>
  eventually(
    `${id} ${phase}`,
    async () => {
      const v = await view(id);
      return v.phase === phase ? v : undefined;
    },
    timeoutMs,
  );
async function alert(host: string, fault = true, name = 'HostDown'): Promise<string> {
  if (fault) await injectFault(env.db, host, { unhealthy: 'guard test' });
  const res = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host, name));
  expect(res.body.outcome).toBe('started');
  return res.body.remediationId;
}

test('when 100 alerts for all 20 hosts of a zone arrive at once, hosts out of service never exceed the zone cap of 3 at any moment', async () => {
  guards = { ...PERMISSIVE_GUARDS, maxConcurrentPerZone: { count: 3 } };
  const hosts = Array.from({ length: 20 }, (_, i) => simulatedHostName('zone-a', i + 1));
  // A rack-wide monitoring storm: every host alerts five times, 8 of the 20 are really unhealthy.
  const unhealthy = hosts.filter((_, i) => i % 5 < 2);
  for (const h of unhealthy) await injectFault(env.db, h, { unhealthy: 'rack PDU glitch' });
  const storm = hosts.flatMap((h) =>
    Array.from({ length: 5 }, () => http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(h))),
  );
  const answers = await Promise.all(storm);
  expect(answers.filter((a) => a.body.outcome === 'started')).toHaveLength(20);
  const ids = [...new Set(answers.map((a) => a.body.remediationId as string))];
  expect(ids).toHaveLength(20);
  let maxOut = 0;
  let sawWaiting = false;
  const deadline = Date.now() + 180_000;
  for (;;) {
    const { rows } = await env.db.query(
      `SELECT (SELECT count(*)::int FROM sim_hosts WHERE zone = 'zone-a' AND NOT compute_enabled) AS disabled,
              (SELECT count(*)::int FROM hosts WHERE zone = 'zone-a' AND pool_state <> 'in-service') AS out,
              (SELECT count(*)::int FROM remediations WHERE phase = 'waiting-for-capacity') AS waiting,
              (SELECT count(*)::int FROM remediations WHERE id = ANY($1) AND phase IN ('returned', 'false-alarm')) AS returned`,
      [ids],
    );
    const s = rows[0];
    maxOut = Math.max(maxOut, s.disabled, s.out);
    sawWaiting ||= s.waiting > 0;
    if (s.returned === ids.length || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(maxOut).toBe(3); // reached, never exceeded
  expect(sawWaiting).toBe(true);
  const phases = await Promise.all(ids.map(async (id) => [(await view(id)).host, (await view(id)).phase]));
  for (const [host, phase] of phases)
    expect([host, phase]).toEqual([host, unhealthy.includes(host) ? 'returned' : 'false-alarm']);
}, 240_000);

test('the circuit breaker trips when 15 % of a zone was taken out, holds, and lets automation go on only after a person resets it', async () => {
  guards = { ...PERMISSIVE_GUARDS, breaker: { percent: 15, windowMinutes: 60 } };
  const first = [1, 2, 3].map((i) => simulatedHostName('zone-b', i));
  for (const h of first) await phaseOf(await alert(h), 'returned');
  const guardsNow = (await http('GET', `${env.apiUrl}/v1/guards`, operator)).body;
  expect(guardsNow.breakers).toEqual([
    expect.objectContaining({ zone: 'zone-b', reason: expect.stringMatching(/3 of 20 hosts of zone-b/) }),
  ]);

  const held = await alert(simulatedHostName('zone-b', 4));
  const waiting = await phaseOf(held, 'waiting-for-capacity');
  expect(waiting.waitingFor.map((b: { guard: string }) => b.guard)).toEqual(['breaker']);
  await new Promise((r) => setTimeout(r, 2500)); // it holds: several polls later it still waits
  expect((await view(held)).phase).toBe('waiting-for-capacity');
  expect(
    (await env.db.query('SELECT compute_enabled FROM sim_hosts WHERE id = $1', [simulatedHostName('zone-b', 4)]))
      .rows[0].compute_enabled,
  ).toBe(true);

  expect((await http('POST', `${env.apiUrl}/v1/guards/breakers/zone-b/reset`, operator, {})).status).toBe(403);
  const reset = await http('POST', `${env.apiUrl}/v1/guards/breakers/zone-b/reset`, admin, {
    comment: 'checked the rack: PDU replaced',
  });
  expect(reset.status).toBe(200);
  await phaseOf(held, 'returned');
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log`, operator)).body.entries.map(
    (e: { action: string }) => e.action,
  );
  expect(audit).toEqual(expect.arrayContaining(['circuit breaker tripped', 'circuit breaker reset']));
  expect((await http('POST', `${env.apiUrl}/v1/guards/breakers/zone-b/reset`, admin, {})).status).toBe(409);
});

test('a host that comes back within its cooldown is handed to an operator instead of going round again', async () => {
  guards = { ...PERMISSIVE_GUARDS, cooldownMinutes: 30 };
  const host = simulatedHostName('zone-c', 1);
  await phaseOf(await alert(host), 'returned');
  const again = await phaseOf(await alert(host), 'awaiting-operator');
  expect(again.handOff.reason).toMatch(/remediated 0\.\d min ago \(cooldown 30 min\): the last fix did not stick/);
  expect(
    (await env.db.query('SELECT compute_enabled FROM sim_hosts WHERE id = $1', [host])).rows[0].compute_enabled,
  ).toBe(true);
  await http('POST', `${env.apiUrl}/v1/remediations/${again.remediationId}/cancel`, operator, {});
});

test('a host remediated more often than max attempts allows is handed to an operator', async () => {
  guards = { ...PERMISSIVE_GUARDS, maxAttempts: { count: 1, windowMinutes: 60 } };
  const host = simulatedHostName('zone-c', 2);
  await phaseOf(await alert(host), 'returned');
  const again = await phaseOf(await alert(host), 'awaiting-operator');
  expect(again.handOff.reason).toBe('2 remediations of this host within 60 min (at most 1)');
  await http('POST', `${env.apiUrl}/v1/remediations/${again.remediationId}/cancel`, operator, {});
});

test('a closed maintenance window delays action until it opens', async () => {
  const opens = new Date(Date.now() + 6000);
  const hhmmss = (d: Date) => d.toISOString().slice(11, 19);
  const endsAt = new Date(Math.min(opens.getTime() + 3_600_000, new Date(opens).setUTCHours(23, 59, 59, 0)));
  guards = {
    ...PERMISSIVE_GUARDS,
    windows: [
      {
        name: 'soon',
        effect: 'allow',
        days: [WEEKDAYS[opens.getUTCDay()]!],
        start: hhmmss(opens),
        end: hhmmss(endsAt),
        timezone: 'UTC',
      },
    ],
  };
  const host = simulatedHostName('zone-c', 3);
  const id = await alert(host);
  const waiting = await phaseOf(id, 'waiting-for-capacity');
  expect(waiting.waitingFor).toEqual([{ guard: 'maintenance-window', reason: 'outside every allowing window (soon)' }]);
  expect(
    (await env.db.query('SELECT compute_enabled FROM sim_hosts WHERE id = $1', [host])).rows[0].compute_enabled,
  ).toBe(true);
  const done = await phaseOf(id, 'returned');
  const disabledAt = done.steps.find((s: { name: string }) => s.name === 'disable compute service').startedAt;
  expect(Date.parse(disabledAt)).toBeGreaterThanOrEqual(opens.getTime() - 1000); // clock granularity of the window check
});

test('when a person has taken the host out themselves, automation stands down and says why', async () => {
  const host = simulatedHostName('zone-c', 4);
  await env.db.query(
    `UPDATE sim_hosts SET compute_enabled = false, disabled_reason = 'RMA ticket 4711' WHERE id = $1`,
    [host],
  );
  const id = await alert(host);
  const done = await phaseOf(id, 'stood-down');
  expect(done.outcome.reason).toBe(
    `compute service on ${host} was disabled outside Shipshape ("RMA ticket 4711"); automation stands down`,
  );
  const sim = (await env.db.query('SELECT disabled_reason, power_cycles FROM sim_hosts WHERE id = $1', [host])).rows[0];
  expect(sim).toEqual({ disabled_reason: 'RMA ticket 4711', power_cycles: 0 });
  expect(done.poolState).toBe('out-of-service');
});

test('when a person re-enables a host while Shipshape has it out, automation stands down instead of fighting them', async () => {
  const host = simulatedHostName('zone-c', 7);
  await injectFault(env.db, host, { unhealthy: 'kernel panic', fixedOnlyBy: 'power-cycle' });
  const id = (await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host, 'SlowFix'))).body.remediationId;
  // The restart is on the record: Shipshape now checks for 30 s whether it fixed the host.
  await eventually('the restart recorded', async () => {
    const entries = (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${id}`, operator)).body.entries;
    return entries.some((e: { action: string }) => e.action === 'restart-compute-service') ? true : undefined;
  });
  await env.db.query(`UPDATE sim_hosts SET compute_enabled = true, disabled_reason = NULL WHERE id = $1`, [host]);
  const done = await phaseOf(id, 'stood-down');
  expect(done.outcome.reason).toBe(
    `compute service on ${host} was re-enabled outside Shipshape during the remediation; automation stands down`,
  );
  expect((await env.db.query('SELECT power_cycles FROM sim_hosts WHERE id = $1', [host])).rows[0].power_cycles).toBe(0);
  expect(done.poolState).toBe('in-service');
  expect(
    (
      await env.db.query(
        'SELECT count(*)::int AS n FROM guard_leases WHERE remediation_id = $1 AND released_at IS NULL',
        [id],
      )
    ).rows[0].n,
  ).toBe(0);
});

test('a global pause holds every new remediation at the gate until an admin resumes', async () => {
  expect((await http('POST', `${env.apiUrl}/v1/guards/pause`, operator, { comment: 'x' })).status).toBe(403);
  expect((await http('POST', `${env.apiUrl}/v1/guards/pause`, admin, { comment: 'incident 42' })).status).toBe(200);
  expect((await http('POST', `${env.apiUrl}/v1/guards/pause`, admin, {})).status).toBe(409);
  const id = await alert(simulatedHostName('zone-c', 5));
  const waiting = await phaseOf(id, 'waiting-for-capacity');
  expect(waiting.waitingFor).toEqual([{ guard: 'pause', reason: 'automation paused by ada: incident 42' }]);
  expect((await http('POST', `${env.apiUrl}/v1/guards/resume`, admin, {})).status).toBe(200);
  await phaseOf(id, 'returned');
});

test('a remediation that waits longer than the wait timeout escalates to an operator', async () => {
  guards = { ...PERMISSIVE_GUARDS, waitTimeoutMinutes: 0.05 }; // 3 s
  await http('POST', `${env.apiUrl}/v1/guards/pause`, admin, { comment: 'long incident' });
  try {
    const id = await alert(simulatedHostName('zone-c', 6));
    const escalated = await phaseOf(id, 'awaiting-operator');
    expect(escalated.handOff.reason).toBe('waited 0.05 min for capacity: automation paused by ada: long incident');
  } finally {
    await http('POST', `${env.apiUrl}/v1/guards/resume`, admin, {});
  }
});
