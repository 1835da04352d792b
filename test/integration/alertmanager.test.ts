/**
 * The round trip with a real Prometheus Alertmanager in front of Shipshape:
 * an alert posted to Alertmanager reaches the webhook as Alertmanager groups
 * and sends it (its fingerprint, bearer token from a file), remediates the
 * host, and the resolved notification Alertmanager sends later is recorded.
 */
import { injectFault } from '../../activities/providers/simulated-admin';
import { startAlertmanager, type PostableAlert, type RunningAlertmanager } from '../support/alertmanager';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, http } from '../support/http';

let env: TestEnv;
let alertmanager: RunningAlertmanager;
let operator: string;

beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 2 } });
  operator = await env.token('alertmanager', 'operator');
  await env.startWorker();
  alertmanager = await startAlertmanager({ webhookUrl: `${env.apiUrl}/v1/integrations/alertmanager`, bearerToken: operator });
});
afterAll(async () => {
  await alertmanager?.stop();
  await env?.close();
});

interface SignalRow {
  source: string;
  name: string;
  severity: string;
  status: string;
  fingerprint: string;
  labels: Record<string, string>;
  received_by: string;
  outcome: string | null;
  outcome_reason: string | null;
  remediation_id: string | null;
}

// The API has no read route for signals; the table is what the webhook wrote.
async function signalsFor(host: string, status: 'firing' | 'resolved'): Promise<SignalRow[]> {
  const { rows } = await env.db.query<SignalRow>(
    `SELECT source, name, severity, status, fingerprint, labels, received_by, outcome, outcome_reason, remediation_id
       FROM signals WHERE host = $1 AND status = $2 ORDER BY received_at`,
    [host, status],
  );
  return rows;
}

/** Wait for Shipshape to have recorded a signal; on a time-out, say what Alertmanager logged. */
async function recorded(host: string, status: 'firing' | 'resolved', timeoutMs: number): Promise<SignalRow> {
  try {
    return await eventually(`a ${status} signal for ${host}`, async () => {
      const row = (await signalsFor(host, status))[0];
      return row?.outcome ? row : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nAlertmanager's log:\n${alertmanager.logTail()}`);
  }
}

test('an alert sent through Alertmanager remediates the host and returns it, and its resolution is recorded for the host', async () => {
  const host = 'cmp-a-02';
  await injectFault(env.db, host, { unhealthy: 'node exporter down' });
  const alert: PostableAlert = {
    labels: { alertname: 'HostDown', instance: `${host}:9100`, job: 'node', severity: 'page' },
    annotations: { summary: `node exporter on ${host} is down` },
    startsAt: new Date().toISOString(),
  };
  await alertmanager.postAlerts([alert]);
  const [held] = await alertmanager.alerts();
  expect(held?.labels).toEqual(alert.labels);

  // Alertmanager's webhook, not a hand-made payload: its receiver, its fingerprint, the token it read from its file.
  const firing = await recorded(host, 'firing', 10_000);
  expect(firing).toMatchObject({
    source: 'alertmanager/shipshape',
    name: 'HostDown',
    severity: 'critical',
    fingerprint: held!.fingerprint,
    labels: alert.labels,
    received_by: 'alertmanager',
    outcome: 'started',
  });

  const done = await eventually('the remediation to end', async () => {
    const r = (await http('GET', `${env.apiUrl}/v1/remediations/${firing.remediation_id}`, operator)).body;
    return r.closedAt ? r : undefined;
  }, 30_000);
  expect(done).toMatchObject({ host, phase: 'returned', poolState: 'in-service' });
  const sim = (await env.db.query('SELECT compute_enabled, health, power_cycles FROM sim_hosts WHERE id = $1', [host])).rows[0];
  expect(sim).toEqual({ compute_enabled: true, health: 'ok', power_cycles: 1 });
  // Alertmanager sent the still-firing group once: repeat_interval holds back repeats.
  expect(await signalsFor(host, 'firing')).toHaveLength(1);

  await alertmanager.postAlerts([{ ...alert, endsAt: new Date(Date.now() - 1000).toISOString() }]);
  const resolved = await recorded(host, 'resolved', 10_000);
  expect(resolved).toMatchObject({
    source: 'alertmanager/shipshape',
    name: 'HostDown',
    fingerprint: held!.fingerprint,
    received_by: 'alertmanager',
    outcome: 'ignored',
    outcome_reason: `resolved; nothing running for ${host}`,
    remediation_id: null,
  });
});
