/**
 * Signals at the edge: duplicate storms join one remediation, Alertmanager's
 * webhook is understood as Alertmanager sends it, and bad input or bad tokens
 * get the documented 4xx with nothing recorded.
 */
import { injectFault } from '../../providers/simulated/admin';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';

let env: TestEnv;
let operator: string;
let viewer: string;

beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 6, serversPerHost: 2 } });
  operator = await env.token('ops-bot', 'operator');
  viewer = await env.token('victor', 'viewer');
  await env.startWorker();
});
afterAll(() => env.close());

const signalCount = async () => (await env.db.query('SELECT count(*)::int AS n FROM signals')).rows[0].n as number;

describe('a storm of duplicate alerts', () => {
  test('50 duplicate alerts for one host start exactly one workflow run and all 50 are recorded', async () => {
    const host = 'cmp-a-01';
    await injectFault(env.db, host, { unhealthy: 'host unreachable' });
    const signal = hostSignal(host);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => http('POST', `${env.apiUrl}/v1/signals`, operator, signal)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(202));
    const outcomes = results.map((r) => r.body.outcome);
    expect(outcomes.filter((o) => o === 'started')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'joined')).toHaveLength(49);
    expect(new Set(results.map((r) => r.body.remediationId)).size).toBe(1);

    const recorded = await env.db.query('SELECT outcome, remediation_id FROM signals WHERE host = $1', [host]);
    expect(recorded.rowCount).toBe(50);
    expect(new Set(recorded.rows.map((r) => r.remediation_id)).size).toBe(1);

    // Temporal agrees: one execution for the host's workflow ID.
    const id = results[0]!.body.remediationId;
    await eventually('returned', async () => {
      const r = (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;
      return r.phase === 'returned' ? r : undefined;
    });
    const runs = await eventually('visibility', async () => {
      const found = [];
      for await (const wf of env.client.workflow.list({
        query: `WorkflowId = '${env.workflowIdPrefix}remediation/${host}'`,
      }))
        found.push(wf);
      return found.length > 0 ? found : undefined;
    });
    expect(runs).toHaveLength(1);
    const rows = await env.db.query('SELECT count(*)::int AS n FROM remediations WHERE host = $1', [host]);
    expect(rows.rows[0].n).toBe(1);
  });
});

describe('the Alertmanager webhook', () => {
  const payload = (status: 'firing' | 'resolved', labels: Record<string, string>) => ({
    version: '4',
    groupKey: '{}:{alertname="HostDown"}',
    truncatedAlerts: 0,
    status,
    receiver: 'shipshape',
    groupLabels: { alertname: 'HostDown' },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    alerts: [
      {
        status,
        labels,
        annotations: { summary: 'node exporter down' },
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example:9090/graph',
        fingerprint: 'a1b2c3d4e5f60708',
      },
    ],
  });

  test('a firing alert takes its host from the instance label without the port and starts a remediation; resolved joins it', async () => {
    const host = 'cmp-a-02';
    await injectFault(env.db, host, { unhealthy: 'node exporter down' });
    const firing = await http(
      'POST',
      `${env.apiUrl}/v1/integrations/alertmanager`,
      operator,
      payload('firing', { alertname: 'HostDown', instance: `${host}:9100`, severity: 'page' }),
    );
    expect(firing.status).toBe(200);
    expect(firing.body.results).toEqual([expect.objectContaining({ outcome: 'started', host, alertname: 'HostDown' })]);
    const stored = (
      await env.db.query('SELECT severity, source, fingerprint FROM signals WHERE id = $1', [
        firing.body.results[0].signalId,
      ])
    ).rows[0];
    expect(stored).toEqual({ severity: 'critical', source: 'alertmanager/shipshape', fingerprint: 'a1b2c3d4e5f60708' });

    const resolved = await http(
      'POST',
      `${env.apiUrl}/v1/integrations/alertmanager`,
      operator,
      payload('resolved', { alertname: 'HostDown', instance: `${host}:9100` }),
    );
    expect(resolved.body.results[0]).toMatchObject({
      outcome: 'joined',
      remediationId: firing.body.results[0].remediationId,
    });
  });

  test('alerts for hosts Shipshape does not know are recorded as ignored with the reason', async () => {
    const res = await http(
      'POST',
      `${env.apiUrl}/v1/integrations/alertmanager`,
      operator,
      payload('firing', { alertname: 'HostDown', host: 'no-such-host' }),
    );
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({
      outcome: 'ignored',
      reason: 'no host "no-such-host" in the inventory',
    });
    const noHost = await http(
      'POST',
      `${env.apiUrl}/v1/integrations/alertmanager`,
      operator,
      payload('firing', { alertname: 'Watchdog' }),
    );
    expect(noHost.body.results[0].reason).toMatch(/no "host" or "instance" label/);
  });

  test('40 groups arriving at once for one host are all recorded and decided, and join one remediation', async () => {
    const host = 'cmp-a-05';
    await injectFault(env.db, host, { unhealthy: 'DIMM errors' });
    const group = (g: number) => ({
      ...payload('firing', {}),
      groupKey: `{}:{component="c${g}"}`,
      alerts: Array.from({ length: 5 }, (_, i) => ({
        ...payload('firing', {}).alerts[0]!,
        labels: { alertname: 'HardwareFault', host, component: `c${g}`, dimm: `${i}` },
        fingerprint: `group${g}alert${i}`,
      })),
    });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, g) =>
        http('POST', `${env.apiUrl}/v1/integrations/alertmanager`, operator, group(g)),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
    const rows = await eventually(
      'all 200 decided',
      async () => {
        const { rows } = await env.db.query('SELECT outcome, remediation_id FROM signals WHERE host = $1', [host]);
        return rows.length === 200 && rows.every((r) => r.outcome) ? rows : undefined;
      },
      60_000,
    );
    expect(rows.filter((r) => r.outcome === 'started')).toHaveLength(1);
    expect(new Set(rows.map((r) => r.remediation_id)).size).toBe(1);
  });

  test('a group Alertmanager cut short (max_alerts) is recorded, and the answer says how many alerts never arrived', async () => {
    const res = await http('POST', `${env.apiUrl}/v1/integrations/alertmanager`, operator, {
      ...payload('firing', { alertname: 'Watchdog', host: 'cmp-a-06' }),
      truncatedAlerts: 3,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      truncatedAlerts: 3,
      results: [expect.objectContaining({ outcome: 'no-policy', host: 'cmp-a-06' })],
    });
  });

  test('an alert no policy covers is recorded as no-policy', async () => {
    const res = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal('cmp-a-03', 'DiskAlmostFull'));
    expect(res.body).toMatchObject({
      outcome: 'no-policy',
      remediationId: null,
      reason: 'no policy matches DiskAlmostFull',
    });
  });
});

describe('bad input and bad tokens', () => {
  const cases: [string, () => Promise<{ status: number; body: any }>, number, RegExp][] = [
    [
      'no token',
      () => http('POST', `${env.apiUrl}/v1/signals`, null, hostSignal('cmp-a-04')),
      401,
      /missing Authorization header/,
    ],
    [
      'an unknown token',
      () => http('POST', `${env.apiUrl}/v1/signals`, 'shp_not-a-real-token', hostSignal('cmp-a-04')),
      401,
      /not valid/,
    ],
    [
      'a viewer posting a signal',
      () => http('POST', `${env.apiUrl}/v1/signals`, viewer, hostSignal('cmp-a-04')),
      403,
      /victor has role viewer; this needs operator/,
    ],
    [
      'malformed JSON',
      () => http('POST', `${env.apiUrl}/v1/signals`, operator, undefined, '{"source": "x",'),
      400,
      /^body: not valid JSON/,
    ],
    [
      'a wrong type',
      () => http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal('cmp-a-04', 'HostDown', { severity: 5 })),
      400,
      /^body\.severity: /,
    ],
    [
      'an unknown field',
      () => http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal('cmp-a-04', 'HostDown', { colour: 'red' })),
      400,
      /unknown field\(s\): colour/,
    ],
    [
      'a missing field',
      () => http('POST', `${env.apiUrl}/v1/signals`, operator, { ...hostSignal('cmp-a-04'), name: undefined }),
      400,
      /^body\.name: /,
    ],
    [
      'a bad date',
      () =>
        http(
          'POST',
          `${env.apiUrl}/v1/signals`,
          operator,
          hostSignal('cmp-a-04', 'HostDown', { startsAt: 'yesterday' }),
        ),
      400,
      /^body\.startsAt: must be an ISO 8601 date-time/,
    ],
    [
      'a body over 1 MiB anywhere but the Alertmanager webhook',
      () =>
        http(
          'POST',
          `${env.apiUrl}/v1/signals`,
          operator,
          hostSignal('cmp-a-04', 'HostDown', { annotations: { summary: 'x'.repeat(1024 * 1024) } }),
        ),
      413,
      /^body: larger than the 1 MiB limit/,
    ],
    [
      'an unknown host',
      () => http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal('cmp-z-99')),
      422,
      /^resource\.id: no host "cmp-z-99"/,
    ],
    [
      'a wrong Alertmanager version',
      () => http('POST', `${env.apiUrl}/v1/integrations/alertmanager`, operator, { version: '3', alerts: [] }),
      400,
      /body\.version: must be "4"/,
    ],
    [
      'an Alertmanager alert with a bad startsAt',
      () =>
        http('POST', `${env.apiUrl}/v1/integrations/alertmanager`, operator, {
          version: '4',
          groupKey: 'g',
          status: 'firing',
          receiver: 'r',
          groupLabels: {},
          commonLabels: {},
          commonAnnotations: {},
          externalURL: '',
          alerts: [
            {
              status: 'firing',
              labels: { alertname: 'HostDown', host: 'cmp-a-04' },
              annotations: {},
              startsAt: 'soon',
            },
          ],
        }),
      400,
      /^body\.alerts\.0\.startsAt: must be an RFC 3339 date-time/,
    ],
    [
      'an operator trying to approve',
      () => http('POST', `${env.apiUrl}/v1/remediations/nope/approve`, operator, {}),
      403,
      /needs approver/,
    ],
    [
      'an unknown query parameter',
      () => http('GET', `${env.apiUrl}/v1/hosts?colour=red`, viewer),
      400,
      /unknown field\(s\): colour/,
    ],
    [
      'an unknown route',
      () => http('GET', `${env.apiUrl}/v1/nothing-here`, viewer),
      404,
      /no route GET \/v1\/nothing-here/,
    ],
  ];

  test.each(cases)('%s gets the documented error and records nothing', async (_name, call, status, message) => {
    const before = await signalCount();
    const res = await call();
    expect(res.status).toBe(status);
    expect(res.body.error).toEqual({
      code: expect.any(String),
      message: expect.stringMatching(message),
      details: expect.any(Object),
    });
    expect(await signalCount()).toBe(before);
  });

  test('an unknown remediation id is a 404 for those allowed to act', async () => {
    const approver = await env.token('ada', 'approver');
    const res = await http('POST', `${env.apiUrl}/v1/remediations/nope/approve`, approver, {});
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe('no remediation "nope"');
  });

  test('readiness reports PostgreSQL and Temporal reachable', async () => {
    const res = await http('GET', `${env.apiUrl}/readyz`, null);
    expect(res).toEqual({ status: 200, body: { status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } } });
  });

  test('the OpenAPI document describes every route', async () => {
    const res = await http('GET', `${env.apiUrl}/openapi.json`, null);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/signals',
        '/v1/integrations/alertmanager',
        '/v1/remediations/{id}/approve',
        '/v1/hosts/{id}',
        '/v1/audit-log',
        '/v1/guards',
        '/v1/guards/breakers/{zone}/reset',
      ]),
    );
  });
});
