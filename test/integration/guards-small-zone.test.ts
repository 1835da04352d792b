/**
 * The guards a new operator gets, on the zone size a first try has: three
 * computes. The shipped policies/guards.yaml is read as the worker reads it;
 * nothing in it is tuned. The remediation policies are the test ones (short
 * waits), because the guards are what is under test.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGuardActivities } from '../../activities/guards';
import { injectFault, simulatedHostName } from '../../providers/simulated/admin';
import type { GuardConfig } from '../../domain/guards';
import { parseGuards } from '../../policies/guards-schema';
import { createTestEnv, PERMISSIVE_GUARDS, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';
import { WORKER_MAIN } from '../support/worker-process';

const SHIPPED_FILE = join(__dirname, '..', '..', 'policies', 'guards.yaml');
const SHIPPED = parseGuards(SHIPPED_FILE, readFileSync(SHIPPED_FILE, 'utf8'));

let env: TestEnv;
let operator: string;
let admin: string;

beforeAll(async () => {
  // Migrations of 4 s: the first host is still out when the second alert's remediation asks for a lease.
  env = await createTestEnv({
    fleet: { zones: ['zone-a', 'zone-b'], hostsPerZone: 3, serversPerHost: 1 },
    migrationSeconds: 4,
    guards: () => SHIPPED,
  });
  operator = await env.token('ops-bot', 'operator');
  admin = await env.token('ada', 'admin');
  await env.startWorker();
});
afterAll(() => env.close());

const view = async (id: string) => (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;
const zoneNow = async (zone: string) =>
  (await http('GET', `${env.apiUrl}/v1/guards`, operator)).body.zones.find((z: { zone: string }) => z.zone === zone);
async function alert(host: string): Promise<string> {
  await injectFault(env.db, host, { unhealthy: 'kernel panic' });
  const res = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host));
  expect(res.body.outcome).toBe('started');
  return res.body.remediationId;
}

test("the worker's start-up log says, per zone, how many hosts may go out now and why", async () => {
  if (!existsSync(WORKER_MAIN))
    throw new Error(`${WORKER_MAIN} is missing: run "npm run build" before the tests (npm test does)`);
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      // A queue of its own: this worker is here for its log, not to take this file's remediations.
      TEMPORAL_TASK_QUEUE: `${env.taskQueue}-log`,
      SHIPSHAPE_WORKFLOW_ID_PREFIX: env.workflowIdPrefix,
      SHIPSHAPE_SWEEP_INTERVAL_SECONDS: '0',
      SHIPSHAPE_GUARDS_FILE: SHIPPED_FILE,
      SHIPSHAPE_KEYS_FILE: env.keysFile,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const lines: string[] = [];
    const lineReader = createInterface({ input: child.stdout! });
    lineReader.on('line', (line) => {
      if (!line.startsWith('{')) return; // the Temporal SDK's own lines are not JSON
      const msg = (JSON.parse(line) as { msg?: string }).msg;
      if (msg?.startsWith('guards: ')) lines.push(msg);
    });
    await eventually('a guards line per zone', async () => (lines.length >= 2 ? true : undefined), 60_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}; the worker's stderr:\n${stderr.slice(-4000)}`);
      },
    );
    expect(lines).toEqual([
      expect.stringMatching(
        /^guards: zone-a: 3 hosts, 3 in service, 0 out, 0 leases; may take out 1 now: .*0 of 3 hosts of zone-a out of service; at most 1 may be \(the stricter of 3 hosts and 25 % of 3, never below one host\)/,
      ),
      expect.stringMatching(/^guards: zone-b: 3 hosts, 3 in service, 0 out, 0 leases; may take out 1 now: /),
    ]);
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((ok) => child.once('exit', ok));
  }
});

test('a zone of 3 with the shipped guards remediates one host, then another within the hour, without waiting for a person; the third take-out within the hour trips the breaker', async () => {
  const [h1, h2, h3] = [1, 2, 3].map((i) => simulatedHostName('zone-a', i)) as [string, string, string];
  expect(await zoneNow('zone-a')).toMatchObject({ hosts: 3, inService: 3, out: 0, leases: 0, mayTakeOutNow: 1 });

  const first = await alert(h1);
  const duringFirst = await eventually('the first host out', async () => {
    const z = await zoneNow('zone-a');
    return z.out === 1 ? z : undefined;
  });
  expect(duringFirst).toMatchObject({
    inService: 2,
    leases: 1,
    mayTakeOutNow: 0,
    why: expect.stringMatching(/1 of 3 hosts of zone-a out of service; at most 1 may be/),
  });
  // Alerted while the first is out: it waits for capacity, not for a person, and goes once the first is back.
  const second = await alert(h2);
  const waiting = await eventually('the second waiting for capacity', async () => {
    const v = await view(second);
    return v.phase === 'waiting-for-capacity' ? v : undefined;
  });
  expect(waiting.waitingFor.map((b: { guard: string }) => b.guard)).toEqual(
    expect.arrayContaining(['zone-concurrency', 'zone-out-of-service']),
  );
  expect(waiting.waitingFor.map((b: { guard: string }) => b.guard)).not.toEqual(expect.arrayContaining(['breaker']));
  expect(waiting.waitingFor.map((b: { guard: string }) => b.guard)).not.toEqual(
    expect.arrayContaining(['capacity-floor']),
  );

  for (const id of [first, second]) {
    const done = await eventually(
      `${id} returned`,
      async () => {
        const v = await view(id);
        return ['returned', 'awaiting-operator', 'stood-down'].includes(v.phase) ? v : undefined;
      },
      90_000,
    );
    expect([done.host, done.phase, done.handOff]).toEqual([done.host, 'returned', null]);
  }

  // Two of three hosts taken out within the hour: the third is for a person to allow.
  expect(await zoneNow('zone-a')).toMatchObject({
    out: 0,
    mayTakeOutNow: 0,
    boundBy: ['breaker'],
    why: expect.stringMatching(/^circuit breaker of zone-a tripped .*2 of 3 hosts of zone-a taken out within 60 min/),
  });
  const third = await alert(h3);
  const held = await eventually('the third held by the breaker', async () => {
    const v = await view(third);
    return v.phase === 'waiting-for-capacity' ? v : undefined;
  });
  expect(held.waitingFor.map((b: { guard: string }) => b.guard)).toEqual(['breaker']);
  expect(
    (
      await http('POST', `${env.apiUrl}/v1/guards/breakers/zone-a/reset`, admin, {
        comment: 'two unrelated kernel panics',
      })
    ).status,
  ).toBe(200);
  const done = await eventually(
    'the third returned after the reset',
    async () => {
      const v = await view(third);
      return v.phase === 'returned' ? v : undefined;
    },
    90_000,
  );
  expect(done.handOff).toBeNull();
}, 240_000);

test('a host holding a lease counts as out of service before its pool state follows', async () => {
  // Tuned: only the out-of-service limit may hold, so the lease alone must be what blocks.
  const guards: GuardConfig = { ...PERMISSIVE_GUARDS, maxOutOfServicePerZone: { count: 1 } };
  const activities = createGuardActivities({ db: env.db, guards: () => guards });
  const [h1, h2] = [1, 2].map((i) => simulatedHostName('zone-b', i)) as [string, string];
  await env.db.query(
    `INSERT INTO remediations (id, host, workflow_id, run_id, policy_name, policy_version, phase, requested_by) VALUES ('lease-only', $1, 'w', 'r', 'host-down', '1', 'auditing', 'test')`,
    [h1],
  );
  expect(await activities.acquireCapacity({ remediationId: 'lease-only', host: h1, zone: 'zone-b' })).toEqual({
    acquired: true,
    trippedBreaker: null,
  });
  expect((await env.db.query('SELECT pool_state FROM hosts WHERE id = $1', [h1])).rows[0].pool_state).toBe(
    'in-service',
  );

  const blocked = await activities.acquireCapacity({ remediationId: 'lease-only-2', host: h2, zone: 'zone-b' });
  expect(blocked).toMatchObject({
    acquired: false,
    blockers: [{ guard: 'zone-out-of-service', reason: '1 of 3 hosts of zone-b out of service; at most 1 may be' }],
  });
  await activities.releaseCapacity('lease-only');
  await env.db.query(`UPDATE remediations SET phase = 'false-alarm', closed_at = now() WHERE id = 'lease-only'`);
});
