/**
 * Capacity leases do not outlive their runs. With the shipped guards (one host
 * per zone out for remediation at once), a run terminated from Temporal keeps
 * its lease, since only the workflow's finish gives it back; the worker's
 * reaper asks Temporal, sees the run closed, releases the lease with an audit
 * record, and the zone's next host is remediated. A person can also give a
 * lease back by hand, audited.
 *
 * Zones of 8 hosts: the terminated run's host stays out of service (its
 * compute service is still disabled), and the shipped guards let 2 of 8 be
 * out, so what blocks the next host is the lease alone.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { injectFault, simulatedHostName } from '../../providers/simulated/admin';
import { parseGuards } from '../../policies/guards-schema';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';
import { pollingSince, spawnWorkerProcess, WORKER_MAIN } from '../support/worker-process';

const SHIPPED_FILE = join(__dirname, '..', '..', 'policies', 'guards.yaml');
const SHIPPED = parseGuards(SHIPPED_FILE, readFileSync(SHIPPED_FILE, 'utf8'));
/**
 * The reaper's interval in these tests. The default (60 s) would make the test
 * a minute longer and prove nothing more: the pass is the same whatever the interval.
 */
const REAP_SECONDS = 2;

let env: TestEnv;
let operator: string;
let admin: string;
const children: ChildProcess[] = [];

async function startWorker(reapSeconds: number): Promise<ChildProcess> {
  const startedAt = new Date();
  const child = spawnWorkerProcess(env, {
    SHIPSHAPE_GUARDS_FILE: SHIPPED_FILE,
    SHIPSHAPE_LEASE_REAP_SECONDS: String(reapSeconds),
    SHIPSHAPE_SIM_MIGRATION_SECONDS: '2',
    SHIPSHAPE_SIM_POWER_ON_SECONDS: '2',
  });
  children.push(child);
  await pollingSince(env, startedAt);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  if (!existsSync(WORKER_MAIN))
    throw new Error(`${WORKER_MAIN} is missing: run "npm run build" before the tests (npm test does)`);
  env = await createTestEnv({
    fleet: { zones: ['zone-a', 'zone-b'], hostsPerZone: 8, serversPerHost: 1 },
    guards: () => SHIPPED,
  });
  operator = await env.token('ops-bot', 'operator');
  admin = await env.token('ada', 'admin');
});
afterAll(async () => {
  for (const c of children) await stop(c);
  await env.close();
});

const view = async (id: string) => (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;
const leases = async (): Promise<{ host: string }[]> =>
  (await http('GET', `${env.apiUrl}/v1/guards`, operator)).body.leases;
async function alert(host: string): Promise<string> {
  await injectFault(env.db, host, { unhealthy: 'kernel panic' });
  const res = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host));
  expect([res.body.outcome, res.body.reason]).toEqual(['started', expect.anything()]);
  return res.body.remediationId;
}
async function returned(id: string) {
  return eventually(
    `${id} over`,
    async () => {
      const v = await view(id);
      return ['returned', 'awaiting-operator', 'stood-down'].includes(v.phase) ? v : undefined;
    },
    120_000,
  );
}
async function terminateOnceItHoldsTheLease(host: string, id: string): Promise<void> {
  await eventually(`${host} holding the lease`, async () =>
    (await leases()).some((l) => l.host === host) ? true : undefined,
  );
  await env.client.workflow.getHandle((await view(id)).workflowId).terminate('test: terminated from Temporal');
}

test("a run terminated from Temporal gives its zone's lease back within the reaper's interval, audited, and the zone's next host is remediated", async () => {
  const worker = await startWorker(REAP_SECONDS);
  const [h1, h2] = [1, 2].map((i) => simulatedHostName('zone-a', i)) as [string, string];
  const first = await alert(h1);
  await terminateOnceItHoldsTheLease(h1, first);
  const terminatedAt = Date.now();

  await eventually('the lease given back', async () => ((await leases()).length === 0 ? true : undefined), 30_000);
  // Within one interval, with time for the pass itself and this test's polling.
  expect(Date.now() - terminatedAt).toBeLessThan(REAP_SECONDS * 1000 + 5_000);
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log?host=${h1}&limit=500`, operator)).body.entries;
  expect(audit.filter((e: { action: string }) => e.action === 'capacity lease released')).toEqual([
    expect.objectContaining({
      actorKind: 'system',
      actor: 'lease-reaper',
      remediationId: first,
      reason: expect.stringMatching(
        /^zone-a: its run .* is closed: terminated; the workflow never gave the lease back/,
      ),
    }),
  ]);

  // The run's other leftover: its remediation, still open in the index, is closed as cancelled with the reason,
  // so the host shows no remediation under way and repeats of its alert no longer join a run that is gone.
  const closed = await eventually('the terminated remediation closed', async () => {
    const v = await view(first);
    return v.phase === 'cancelled' ? v : undefined;
  });
  expect(closed.outcome.reason).toMatch(/ended in Temporal without finishing: terminated; the host is left as/);
  const open = await http('GET', `${env.apiUrl}/v1/remediations?host=${h1}&state=open`, operator);
  expect(open.body.remediations).toEqual([]);

  const second = await alert(h2);
  const done = await returned(second);
  expect([done.phase, done.handOff]).toEqual(['returned', null]);
  await stop(worker);
}, 240_000);

test('a remediation waiting for a zone whose lease a terminated run holds goes on its next poll, without waiting for the reaper', async () => {
  // The reaper's timer is off: only the guard activity's own check of the holders can free the zone.
  const worker = await startWorker(0);
  const [h1, h2] = [1, 2].map((i) => simulatedHostName('zone-b', i)) as [string, string];
  const first = await alert(h1);
  await eventually(`${h1} holding the lease`, async () =>
    (await leases()).some((l) => l.host === h1) ? true : undefined,
  );
  const second = await alert(h2);
  await eventually('the second waiting for capacity', async () =>
    (await view(second)).phase === 'waiting-for-capacity' ? true : undefined,
  );
  await env.client.workflow.getHandle((await view(first)).workflowId).terminate('test: terminated from Temporal');

  const done = await returned(second);
  expect([done.phase, done.handOff]).toEqual(['returned', null]);
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log?host=${h1}&limit=500`, operator)).body.entries;
  expect(audit.filter((e: { action: string }) => e.action === 'capacity lease released')).toEqual([
    expect.objectContaining({ actorKind: 'system', actor: 'lease-reaper', remediationId: first }),
  ]);
  await stop(worker);
}, 240_000);

test('an admin gives a lease back by hand, with a reason, audited; anyone else, or without a reason, or for a host without one, is refused and changes nothing', async () => {
  // No worker runs: the lease below belongs to a run Temporal never heard of, which a reaper would release itself.
  const host = simulatedHostName('zone-a', 5);
  await env.db.query(
    `INSERT INTO remediations (id, host, workflow_id, run_id, policy_name, policy_version, phase, requested_by)
     VALUES ('r-by-hand', $1, 'remediation/by-hand', 'run-1', 'host-down', 'v1', 'draining', 'test')`,
    [host],
  );
  await env.db.query(`INSERT INTO guard_leases (remediation_id, host, zone) VALUES ('r-by-hand', $1, 'zone-a')`, [
    host,
  ]);
  const url = `${env.apiUrl}/v1/guards/leases/${host}/release`;

  expect((await http('POST', url, operator, { reason: 'stuck' })).status).toBe(403);
  const noReason = await http('POST', url, admin, { reason: '  ' });
  expect([noReason.status, noReason.body.error.message]).toEqual([
    400,
    'body.reason: is required: say why the lease is given back',
  ]);
  expect((await http('POST', url, admin, {})).status).toBe(400);
  const elsewhere = await http(
    'POST',
    `${env.apiUrl}/v1/guards/leases/${simulatedHostName('zone-a', 6)}/release`,
    admin,
    {
      reason: 'stuck',
    },
  );
  expect([elsewhere.status, elsewhere.body.error.code]).toEqual([404, 'not_found']);
  expect((await leases()).map((l) => l.host)).toEqual([host]);

  const res = await http('POST', url, admin, { reason: 'run lost in the Temporal outage of 28 Nov' });
  expect([res.status, res.body]).toEqual([200, { host, zone: 'zone-a', remediationId: 'r-by-hand', released: true }]);
  expect(await leases()).toEqual([]);
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=r-by-hand`, operator)).body.entries;
  expect(audit).toEqual([
    expect.objectContaining({
      actorKind: 'person',
      actor: 'ada',
      host,
      action: 'capacity lease released',
      reason: 'zone-a: run lost in the Temporal outage of 28 Nov',
    }),
  ]);
  expect((await http('POST', url, admin, { reason: 'again' })).status).toBe(404);
});
