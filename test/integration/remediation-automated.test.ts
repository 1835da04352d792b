/**
 * The automated path through the real API, the real Temporal dev server and
 * a real PostgreSQL: an alert for an unhealthy host is confirmed, the host is
 * drained, repaired, verified and returned, and the audit log tells it all.
 */
import { injectFault } from '../../providers/simulated/admin';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';

let env: TestEnv;
let operator: string;

beforeAll(async () => {
  env = await createTestEnv();
  operator = await env.token('ops-bot', 'operator');
  await env.startWorker();
});
afterAll(() => env.close());

async function remediationOf(id: string) {
  return (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;
}

test('an alert for an unhealthy host drains it, power-cycles it, verifies it and returns it to the pool', async () => {
  const host = 'cmp-a-01';
  await injectFault(env.db, host, { unhealthy: 'BMC: CPU1 machine check' });
  const serversBefore = (await env.db.query('SELECT id FROM sim_servers WHERE host = $1 ORDER BY id', [host])).rows.map(
    (r) => r.id,
  );
  expect(serversBefore.length).toBeGreaterThan(0);

  const res = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host));
  expect(res.status).toBe(202);
  expect(res.body.outcome).toBe('started');
  const id = res.body.remediationId as string;

  const done = await eventually('remediation returned', async () => {
    const r = await remediationOf(id);
    return r.phase === 'returned' ? r : undefined;
  });
  expect(done.poolState).toBe('in-service');
  expect(done.outcome.reason).toMatch(/returned to the pool/);
  expect(done.steps.map((s: { name: string }) => s.name)).toEqual(
    expect.arrayContaining(['audit', 'disable compute service', 'power-cycle', 'enable compute service']),
  );

  // Every server now runs on another host of the same zone, moved exactly once.
  const servers = await env.db.query(
    'SELECT s.id, s.host, h.zone FROM sim_servers s JOIN sim_hosts h ON h.id = s.host WHERE s.id = ANY($1)',
    [serversBefore],
  );
  for (const s of servers.rows) {
    expect(s.host).not.toBe(host);
    expect(s.zone).toBe('zone-a');
  }
  const moves = await env.db.query('SELECT server_id, count(*)::int AS n FROM sim_migrations GROUP BY server_id');
  expect(moves.rows.map((m) => m.n)).toEqual(serversBefore.map(() => 1));

  // The host is back: enabled, healthy, in service.
  const sim = (await env.db.query('SELECT compute_enabled, health, power_cycles FROM sim_hosts WHERE id = $1', [host]))
    .rows[0];
  expect(sim).toEqual({ compute_enabled: true, health: 'ok', power_cycles: 1 });
  const hostView = (await http('GET', `${env.apiUrl}/v1/hosts/${host}`, operator)).body;
  expect(hostView.poolState).toBe('in-service');
  expect(hostView.health).toBe('ok');
  expect(hostView.openRemediationId).toBeNull();

  // The audit log tells the story in order.
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log?host=${host}`, operator)).body.entries as {
    action: string;
    reason: string;
    actorKind: string;
  }[];
  const actions = audit.map((a) => a.action);
  const order = [
    'remediation started',
    'problem confirmed',
    'drain started',
    'compute service disabled',
    'server moved',
    'repair started',
    'power-cycle',
    'verification started',
    'verification passed',
    'remediation returned',
  ];
  let last = -1;
  for (const action of order) {
    const at = actions.indexOf(action, last + 1);
    expect({ action, found: at > last }).toEqual({ action, found: true });
    last = at;
  }
  expect(audit.find((a) => a.action === 'compute service disabled')?.reason).toMatch(/^shipshape: /);
  expect(audit.every((a) => a.actorKind === 'policy')).toBe(true);
});

test('a healthy host is a false alarm: nothing is drained and the outcome is recorded', async () => {
  const host = 'cmp-b-02';
  const res = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host, 'NovaComputeDown'));
  expect(res.body.outcome).toBe('started');
  const done = await eventually('false alarm', async () => {
    const r = await remediationOf(res.body.remediationId);
    return r.phase === 'false-alarm' ? r : undefined;
  });
  expect(done.outcome.reason).toMatch(/healthy/);
  const sim = (await env.db.query('SELECT compute_enabled, power_cycles FROM sim_hosts WHERE id = $1', [host])).rows[0];
  expect(sim).toEqual({ compute_enabled: true, power_cycles: 0 });
  const moves = await env.db.query('SELECT count(*)::int AS n FROM sim_migrations WHERE source = $1', [host]);
  expect(moves.rows[0].n).toBe(0);
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log?host=${host}`, operator)).body.entries;
  expect(audit.map((a: { action: string }) => a.action)).toEqual(['remediation started', 'remediation false-alarm']);
});
