/**
 * The round trip with a real Prometheus Alertmanager in front of Shipshape:
 * an alert posted to Alertmanager reaches the webhook as Alertmanager groups
 * and sends it (its fingerprint, bearer token from a file), remediates the
 * host, and the resolved notification Alertmanager sends later is recorded.
 */
import { injectFault } from '../../providers/simulated/admin';
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
  alertmanager = await startAlertmanager({
    webhookUrl: `${env.apiUrl}/v1/integrations/alertmanager`,
    bearerToken: operator,
  });
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
    return await eventually(
      `a ${status} signal for ${host}`,
      async () => {
        const row = (await signalsFor(host, status))[0];
        return row?.outcome ? row : undefined;
      },
      timeoutMs,
    );
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

  const done = await eventually(
    'the remediation to end',
    async () => {
      const r = (await http('GET', `${env.apiUrl}/v1/remediations/${firing.remediation_id}`, operator)).body;
      return r.closedAt ? r : undefined;
    },
    30_000,
  );
  expect(done).toMatchObject({ host, phase: 'returned', poolState: 'in-service' });
  const sim = (await env.db.query('SELECT compute_enabled, health, power_cycles FROM sim_hosts WHERE id = $1', [host]))
    .rows[0];
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

describe('a group of thousands of alerts (a rack going dark)', () => {
  const GROUP = 5000;
  const PER_HOST_FAULTS = 200;
  const rack = 'r7';
  let rackAlertmanager: RunningAlertmanager;

  beforeAll(async () => {
    // Grouped by rack, as a rack or monitoring-wide outage arrives: one notification carries the whole group.
    rackAlertmanager = await startAlertmanager({
      webhookUrl: `${env.apiUrl}/v1/integrations/alertmanager`,
      bearerToken: operator,
      groupBy: ['rack'],
    });
  });
  afterAll(() => rackAlertmanager?.stop());

  /** 2 × 200 hardware faults on known hosts, 1,600 alerts no policy covers, and 3,000 for hosts Shipshape does not know. */
  function rackAlerts(): PostableAlert[] {
    const startsAt = new Date().toISOString();
    const summary = {
      summary:
        'a long enough annotation, as real alert rules carry: the description of what is wrong and the runbook link',
    };
    return Array.from({ length: GROUP }, (_, i): PostableAlert => {
      if (i < 2 * PER_HOST_FAULTS) {
        const host = i % 2 === 0 ? 'cmp-a-01' : 'cmp-a-03';
        return {
          labels: { alertname: 'HardwareFault', instance: `${host}:9100`, rack, component: `dimm-${i}` },
          annotations: summary,
          startsAt,
        };
      }
      if (i < 2000)
        return {
          labels: {
            alertname: 'DiskAlmostFull',
            instance: `cmp-a-0${i % 2 === 0 ? 1 : 3}:9100`,
            rack,
            device: `sd${i}`,
          },
          annotations: summary,
          startsAt,
        };
      return { labels: { alertname: 'HostDown', instance: `r7-node-${i}:9100`, rack }, annotations: summary, startsAt };
    });
  }

  const rackSignals = async () =>
    (
      await env.db.query<{
        fingerprint: string;
        name: string;
        host: string | null;
        outcome: string | null;
        remediation_id: string | null;
      }>(`SELECT fingerprint, name, host, outcome, remediation_id FROM signals WHERE labels->>'rack' = $1`, [rack])
    ).rows;

  test('every alert of a 5,000-alert group sent through Alertmanager is recorded, and the faults of each host join one remediation', async () => {
    await injectFault(env.db, 'cmp-a-01', { unhealthy: 'DIMM errors' });
    await injectFault(env.db, 'cmp-a-03', { unhealthy: 'DIMM errors' });
    await rackAlertmanager.postAlerts(rackAlerts());
    const held = (await rackAlertmanager.alerts()).filter((a) => a.labels.rack === rack);
    expect(held).toHaveLength(GROUP);

    // Alertmanager may send the group more than once while it fills; each alert must be there at least once.
    const fingerprints = await eventually(
      'every alert of the group recorded',
      async () => {
        const recorded = new Set((await rackSignals()).map((s) => s.fingerprint));
        return recorded.size >= GROUP ? recorded : undefined;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nAlertmanager's log:\n${rackAlertmanager.logTail()}`);
    });
    expect([...fingerprints].sort()).toEqual(held.map((a) => a.fingerprint).sort());
    // Answered inside Alertmanager's notification deadline: no flush failed, none was retried.
    const failedFlushes = rackAlertmanager
      .logTail(Number.MAX_SAFE_INTEGER)
      .split('\n')
      .filter((line) => /Notify for alerts failed|Notify attempt failed/.test(line));
    expect(failedFlushes).toEqual([]);

    const decided = await eventually(
      'every signal of the group decided',
      async () => {
        const rows = await rackSignals();
        return rows.every((s) => s.outcome) ? rows : undefined;
      },
      180_000,
    );
    const outcomes = (name: string) => new Set(decided.filter((s) => s.name === name).map((s) => s.outcome));
    expect(outcomes('HostDown')).toEqual(new Set(['ignored']));
    expect(outcomes('DiskAlmostFull')).toEqual(new Set(['no-policy']));
    for (const host of ['cmp-a-01', 'cmp-a-03']) {
      const faults = decided.filter((s) => s.name === 'HardwareFault' && s.host === host);
      expect(new Set(faults.map((s) => s.remediation_id)).size).toBe(1);
      expect(faults.filter((s) => s.outcome === 'started')).toHaveLength(1);
      const open = await env.db.query('SELECT id FROM remediations WHERE host = $1', [host]);
      expect(open.rows.map((r) => r.id)).toEqual([faults[0]!.remediation_id]);
    }
  });
});
