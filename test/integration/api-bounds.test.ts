/**
 * What one request may ask of the API is bounded, and what it answers says
 * no more than it should: caps on what a signal carries and on alerts per
 * Alertmanager notification (a 400 naming the field, nothing recorded),
 * hosts a page at a time, durations within reason, readiness without the
 * failing dependency's message. A signal delivered again indexes the run
 * Temporal answered with, and old signals are pruned.
 */
import { Client as PgClient, Pool } from 'pg';
import { SIGNAL_LIMITS } from '../../api/schemas';
import { signStart } from '../../config/decision-signature';
import { prunePowerActionIntents } from '../../db/power-actions';
import { pruneSignals } from '../../db/signals';
import { remediationWorkflowId, type RemediationInput } from '../../domain/remediation';
import { injectFault } from '../../providers/simulated/admin';
import { createTestEnv, DEFAULT_TEST_POLICIES, type TestEnv } from '../support/env';
import { eventually, hostSignal, http, webhookAlert, webhookNotification } from '../support/http';

let env: TestEnv;
let operator: string;
beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 1 } });
  operator = await env.token('ops-bot', 'operator');
  await env.startWorker();
});
afterAll(() => env.close());

const count = async (table: string) =>
  (await env.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;

const alert = (labels: Record<string, string>, annotations: Record<string, string> = {}) =>
  webhookAlert({ alertname: 'NodeExporterNoise', ...labels }, annotations);
const webhook = webhookNotification;
const many = (n: number, make: (i: number) => [string, string]) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => make(i)));

describe('caps on what signals carry', () => {
  const L = SIGNAL_LIMITS;
  const cases: [string, string, unknown, string, RegExp][] = [
    [
      'one alert more than a notification may hold',
      '/v1/integrations/alertmanager',
      webhook(Array.from({ length: L.alertsPerWebhook + 1 }, (_, i) => alert({ instance: `cmp-a-0${(i % 3) + 1}` }))),
      'body.alerts',
      /at most 10000 alerts per notification; set the webhook's max_alerts at or below it/,
    ],
    [
      'a label value one character too long, in the third alert',
      '/v1/integrations/alertmanager',
      webhook([alert({}), alert({}), alert({ rack: 'r'.repeat(L.labelValueChars + 1) })]),
      'body.alerts.2.labels.rack',
      /label values are at most 4096 characters/,
    ],
    [
      'a label name one character too long',
      '/v1/integrations/alertmanager',
      webhook([alert({ ['n'.repeat(L.labelNameChars + 1)]: 'x' })]),
      'body.alerts.0.labels.',
      /label names are at most 256 characters/,
    ],
    [
      'one label more than a signal may carry',
      '/v1/signals',
      hostSignal('cmp-a-01', 'HostDown', { labels: many(L.labelsPerSignal + 1, (i) => [`l${i}`, 'v']) }),
      'body.labels',
      /129 labels; at most 128 are accepted/,
    ],
    [
      'an annotation one character too long',
      '/v1/signals',
      hostSignal('cmp-a-01', 'HostDown', { annotations: { description: 'd'.repeat(L.annotationValueChars + 1) } }),
      'body.annotations.description',
      /annotation values are at most 16384 characters/,
    ],
    [
      'a fingerprint longer than any Alertmanager makes',
      '/v1/integrations/alertmanager',
      webhook([{ ...alert({}), fingerprint: 'f'.repeat(201) }]),
      'body.alerts.0.fingerprint',
      /at most 200 characters|<=200/,
    ],
  ];
  test.each(cases)('%s is a 400 naming the field, and nothing is recorded', async (_n, path, body, field, message) => {
    const before = await count('signals');
    const res = await http('POST', `${env.apiUrl}${path}`, operator, body);
    expect(res.status).toBe(400);
    expect(res.body.error.message.startsWith(field)).toBe(true);
    expect(res.body.error.message).toMatch(message);
    expect(await count('signals')).toBe(before);
  });

  test('what is at the caps is accepted: a full notification of alerts with the longest labels', async () => {
    const before = await count('signals');
    const alerts = Array.from({ length: 200 }, (_, i) =>
      alert(
        { instance: `node-${i}`, ...many(L.labelsPerSignal - 2, (j) => [`l${j}`, 'v']) },
        { description: 'd'.repeat(L.annotationValueChars) },
      ),
    );
    alerts[0]!.labels.rack = 'r'.repeat(L.labelValueChars);
    delete alerts[0]!.labels.l0;
    const res = await http('POST', `${env.apiUrl}/v1/integrations/alertmanager`, operator, webhook(alerts));
    expect(res.status).toBe(200);
    expect(await count('signals')).toBe(before + 200);
  });
});

describe('bounded answers', () => {
  test('hosts come a page at a time, and following `next` lists each host once', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const query: string = after ? `?limit=2&after=${after}` : '?limit=2';
      const res = await http('GET', `${env.apiUrl}/v1/hosts${query}`, operator);
      expect(res.status).toBe(200);
      expect(res.body.hosts.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.hosts.map((h: { id: string }) => h.id));
      after = res.body.next;
      pages++;
    } while (after);
    expect(seen).toEqual(['cmp-a-01', 'cmp-a-02', 'cmp-a-03']);
    expect(pages).toBe(2);
  });

  test('a page larger than 1000 hosts is a 400 naming the limit', async () => {
    const res = await http('GET', `${env.apiUrl}/v1/hosts?limit=100000`, operator);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^query\.limit: /);
  });

  test('a duration too far back is a 400 naming `since`, not a 500', async () => {
    const res = await http('GET', `${env.apiUrl}/v1/hosts/cmp-a-01/telemetry?since=99999999999999999d`, operator);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('query.since: a duration of at most 3650d (ten years)');
  });

  test('readiness says a dependency is unavailable without its address, user or message', async () => {
    const dead = new Pool({ connectionString: 'postgres://shipshape:s3cret-pw@127.0.0.1:1/shipshape' });
    const app = await env.serveApp({ db: dead });
    try {
      const res = await http('GET', `${app.url}/readyz`, null);
      expect(res).toEqual({
        status: 503,
        body: { status: 'not-ready', checks: { postgres: 'unavailable', temporal: 'ok' } },
      });
    } finally {
      await app.close();
      await dead.end();
    }
  });
});

test('a signal delivered again after its first delivery started the run indexes the run Temporal answered with', async () => {
  // The first delivery reached Temporal and started the run, but its answer was lost (the API timed out, no
  // worker had picked the run up yet): the signal stays queued, and the redispatcher delivers it again with a
  // new remediation id of its own. A world of its own: the run must not have recorded anything before then.
  const own = await createTestEnv({
    fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 1 },
    redispatchEveryMs: 500,
  });
  try {
    const host = 'cmp-a-02';
    await injectFault(own.db, host, { unhealthy: 'power supply failed' });
    const signalId = '00000000-0000-4000-8000-000000000001';
    const policy = DEFAULT_TEST_POLICIES.find((p) => p.name === 'hardware-fault')!; // waits for approval
    const input: RemediationInput = {
      remediationId: 'first-delivery',
      host,
      zone: 'zone-a',
      policy: policy.policy,
      trigger: { signalId, name: 'HardwareFault', fingerprint: 'fp-1', severity: 'critical', status: 'firing' },
      requestedBy: 'ops-bot',
    };
    // Started as the API starts it: signed with the decision key (an unsigned start fails at once).
    const workflowId = remediationWorkflowId(host, own.workflowIdPrefix);
    await own.client.workflow.start('remediationWorkflow', {
      workflowId,
      taskQueue: own.taskQueue,
      args: [{ ...input, startSignature: signStart(own.keys.decisionKeys, workflowId, input) }],
    });
    await own.db.query(
      `INSERT INTO signals (id, source, name, resource_kind, resource_id, host, severity, status, fingerprint, received_by, outcome, outcome_reason)
       VALUES ($1, 'test', 'HardwareFault', 'host', $2, $2, 'critical', 'firing', 'fp-1', 'ops-bot', 'queued', 'Temporal away')`,
      [signalId, host],
    );
    await own.startWorker();
    const delivered = await eventually('the redelivery', async () => {
      const { rows } = await own.db.query('SELECT outcome, remediation_id FROM signals WHERE id = $1', [signalId]);
      return rows[0]?.outcome === 'queued' ? undefined : rows[0];
    });
    expect(delivered).toEqual({ outcome: 'started', remediation_id: 'first-delivery' });
    const phase = await eventually('the run recorded its progress', async () => {
      const { rows } = await own.db.query(`SELECT phase FROM remediations WHERE id = 'first-delivery'`);
      return rows[0]?.phase === 'auditing' ? undefined : rows[0]?.phase;
    });
    expect(phase).toBe('awaiting-approval');
    const { rows } = await own.db.query('SELECT id FROM remediations WHERE host = $1', [host]);
    expect(rows).toEqual([{ id: 'first-delivery' }]);
  } finally {
    await own.close();
  }
});

test('signals past their retention are pruned, except those of an open remediation and those not yet delivered', async () => {
  const old = "now() - interval '100 days'";
  const res = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal('cmp-a-03', 'NoSuchAlert'));
  expect(res.body.outcome).toBe('no-policy');
  const noPolicy = res.body.signalId;
  await env.db.query(`UPDATE signals SET received_at = ${old} WHERE id = $1`, [noPolicy]);
  // A remediation that waits for approval, and its trigger made old too.
  await injectFault(env.db, 'cmp-a-01', { unhealthy: 'power supply failed' });
  const open = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal('cmp-a-01', 'HardwareFault'));
  expect(open.body.outcome).toBe('started');
  await env.db.query(`UPDATE signals SET received_at = ${old} WHERE id = $1`, [open.body.signalId]);
  // Queued for delivery (on no host the redispatcher can claim, so it stays queued while this test runs).
  const undelivered = '00000000-0000-4000-8000-000000000002';
  await env.db.query(
    `INSERT INTO signals (id, received_at, source, name, resource_kind, resource_id, severity, status, fingerprint, received_by, outcome)
     VALUES ($1, ${old}, 'test', 'HostDown', 'host', 'cmp-x-99', 'critical', 'firing', 'fp-2', 'ops-bot', 'queued')`,
    [undelivered],
  );
  const before = await count('signals');
  expect(await pruneSignals(env.db, 90)).toBe(1);
  expect(await count('signals')).toBe(before - 1);
  const left = await env.db.query('SELECT id FROM signals WHERE id = ANY($1::uuid[])', [[noPolicy, undelivered]]);
  expect(left.rows).toEqual([{ id: undelivered }]);
  const ofOpenRun = await env.db.query('SELECT id FROM signals WHERE id = $1', [open.body.signalId]);
  expect(ofOpenRun.rows).toHaveLength(1);
});

test('an Alertmanager notification is recorded whole or not at all, so its retry records each alert once', async () => {
  // PostgreSQL refuses the third alert's row part-way through (a trigger stands in for any failure there;
  // the superuser adds it, since the application role may not).
  const superuser = new PgClient({ connectionString: env.superuserUrl });
  await superuser.connect();
  await superuser.query(`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.name = 'Poison' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`);
  await superuser.query(
    `CREATE TRIGGER refuse_poison BEFORE INSERT ON signals FOR EACH ROW EXECUTE FUNCTION refuse_poison()`,
  );
  const notification = webhook([
    alert({ alertname: 'Fine', instance: 'cmp-a-03:9100' }),
    alert({ alertname: 'Fine', instance: 'node-x:9100' }),
    alert({ alertname: 'Poison', instance: 'node-y:9100' }),
    alert({ alertname: 'Fine', instance: 'node-z:9100' }),
  ]);
  const before = await count('signals');
  try {
    const failed = await http('POST', `${env.apiUrl}/v1/integrations/alertmanager`, operator, notification);
    expect(failed.status).toBeGreaterThanOrEqual(500); // Alertmanager retries a 5xx
    expect(await count('signals')).toBe(before);
  } finally {
    await superuser.query('DROP TRIGGER refuse_poison ON signals');
    await superuser.query('DROP FUNCTION refuse_poison()');
    await superuser.end();
  }
  const retried = await http('POST', `${env.apiUrl}/v1/integrations/alertmanager`, operator, notification);
  expect(retried.status).toBe(200);
  expect(await count('signals')).toBe(before + 4);
});

test('power-action intents past the retention are pruned; a recent one is kept for its retries', async () => {
  await env.db.query(
    `INSERT INTO power_action_intents (workflow_id, run_id, activity_id, host, action, requested_at, issued_at)
     VALUES ('wf-old', 'r1', '7', 'cmp-a-01', 'power-cycle', now() - interval '100 days', now() - interval '100 days'),
            ('wf-new', 'r1', '7', 'cmp-a-01', 'power-cycle', now(), NULL)`,
  );
  expect(await prunePowerActionIntents(env.db, 90)).toBe(1);
  const { rows } = await env.db.query(`SELECT workflow_id FROM power_action_intents WHERE workflow_id LIKE 'wf-%'`);
  expect(rows).toEqual([{ workflow_id: 'wf-new' }]);
});
