/**
 * A power cycle is issued once, whenever its worker dies. A real worker process
 * is killed (SIGKILL) at each point of a power-cycle step, a new one takes
 * over, and the remediation completes with the host power-cycled exactly once.
 * The simulated fleet lives in PostgreSQL, so its cycle count outlives the
 * worker; its power call can be made slow, as OpenStack's is (it waits up to
 * 120 s for "power off"), so the kill can land while the call is in flight,
 * before or after the host goes off.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { injectFault, simulatedHostName } from '../../providers/simulated/admin';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';
import { pollingSince, spawnWorkerProcess, WORKER_MAIN } from '../support/worker-process';

let env: TestEnv;
let operator: string;
const children: ChildProcess[] = [];

/** Long enough that the host is still off when the retry looks (heartbeat timeout 10 s + 1 s back-off). */
const POWER_ON_SECONDS = '20';

async function startWorker(extra: Record<string, string> = {}): Promise<ChildProcess> {
  const startedAt = new Date();
  const child = spawnWorkerProcess(env, {
    SHIPSHAPE_SIM_MIGRATION_SECONDS: '1',
    SHIPSHAPE_SIM_POWER_ON_SECONDS: POWER_ON_SECONDS,
    ...extra,
  });
  children.push(child);
  await pollingSince(env, startedAt);
  return child;
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill(signal);
  await exited;
}

/** Attempts of the run's power-cycle activity: 2 when the first died with its worker and the second finished. */
async function powerCycleAttempts(remediationId: string): Promise<number[]> {
  const view = (await http('GET', `${env.apiUrl}/v1/remediations/${remediationId}`, operator)).body;
  const history = await env.client.workflow.getHandle(view.workflowId).fetchHistory();
  const scheduled = new Set(
    (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'powerCycle')
      .map((e) => String(e.eventId)),
  );
  return (history.events ?? [])
    .filter((e) => scheduled.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)))
    .map((e) => e.activityTaskStartedEventAttributes!.attempt!);
}

const powerCycles = async (host: string): Promise<number> =>
  (await env.db.query('SELECT power_cycles FROM sim_hosts WHERE id = $1', [host])).rows[0].power_cycles;

/** Poll tightly: the kill must land within milliseconds of the moment it aims at. */
async function when(what: string, probe: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 5));
  }
}

/**
 * Start a remediation of `host` on a worker with `workerEnv`, kill that worker
 * at `killAt`, start a plain one, and return the remediation once it is over.
 */
async function remediateKillingOnce(host: string, workerEnv: Record<string, string>, killAt: () => Promise<void>) {
  await injectFault(env.db, host, { unhealthy: 'kernel panic' });
  const doomed = await startWorker(workerEnv);
  const res = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host));
  expect(res.body.outcome).toBe('started');
  await killAt();
  await stop(doomed, 'SIGKILL');
  const replacement = await startWorker();
  try {
    const done = await eventually(
      `the remediation of ${host} over after the kill`,
      async () => {
        const v = (await http('GET', `${env.apiUrl}/v1/remediations/${res.body.remediationId}`, operator)).body;
        return ['returned', 'awaiting-operator', 'stood-down'].includes(v.phase) ? v : undefined;
      },
      150_000,
    );
    // The kill hit the power-cycle activity: its first attempt died, the second finished.
    expect(await powerCycleAttempts(res.body.remediationId)).toEqual([2]);
    return done;
  } finally {
    await stop(replacement, 'SIGTERM');
  }
}

beforeAll(async () => {
  if (!existsSync(WORKER_MAIN))
    throw new Error(`${WORKER_MAIN} is missing: run "npm run build" before the tests (npm test does)`);
  // One host per zone per test: the shipped guards let one host of a small zone out at a time.
  env = await createTestEnv({
    fleet: { zones: ['zone-a', 'zone-b', 'zone-c', 'zone-d', 'zone-e'], hostsPerZone: 4, serversPerHost: 1 },
  });
  operator = await env.token('ops-bot', 'operator');
});
afterAll(async () => {
  for (const c of children) await stop(c, 'SIGKILL');
  await env.close();
});

test('a worker killed while the power-off call is in flight: the next one finishes the cycle without a second one', async () => {
  const host = simulatedHostName('zone-a', 1);
  // A call of 12 s: the host goes off 6 s in, the call answers 6 s later. The kill lands in those 6 s.
  const done = await remediateKillingOnce(host, { SHIPSHAPE_SIM_POWER_CALL_SECONDS: '12' }, () =>
    when('the host powered off', async () => (await powerCycles(host)) === 1),
  );
  expect([done.phase, done.handOff]).toEqual(['returned', null]);
  expect(await powerCycles(host)).toBe(1);
}, 240_000);

test('a worker killed during the power-on wait, after the cycle was issued: the next one only waits', async () => {
  const host = simulatedHostName('zone-b', 1);
  const done = await remediateKillingOnce(host, {}, async () => {
    await when('the host powered off', async () => (await powerCycles(host)) === 1);
    await new Promise((ok) => setTimeout(ok, 3_000)); // well into the wait: heartbeats with `issued` have gone out
  });
  expect([done.phase, done.handOff]).toEqual(['returned', null]);
  expect(await powerCycles(host)).toBe(1);
}, 240_000);

test('a worker killed right after the provider took the power cycle, before any heartbeat said so: no second cycle', async () => {
  const host = simulatedHostName('zone-c', 1);
  // The simulated call answers as soon as the host is off; killed within milliseconds of that, the
  // worker has had no time to send the heartbeat that says "issued".
  const done = await remediateKillingOnce(host, {}, () =>
    when('the host powered off', async () => (await powerCycles(host)) === 1),
  );
  expect([done.phase, done.handOff]).toEqual(['returned', null]);
  expect(await powerCycles(host)).toBe(1);
}, 240_000);

test('a power call that blocks longer than the heartbeat timeout is not taken for a dead worker: one attempt, one cycle', async () => {
  const host = simulatedHostName('zone-d', 1);
  await injectFault(env.db, host, { unhealthy: 'kernel panic' });
  // 24 s against a heartbeat timeout of 10 s: the host goes off 12 s in, and is on again 2 s later.
  const worker = await startWorker({ SHIPSHAPE_SIM_POWER_CALL_SECONDS: '24', SHIPSHAPE_SIM_POWER_ON_SECONDS: '2' });
  try {
    const res = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host));
    const done = await eventually(
      `the remediation of ${host} over`,
      async () => {
        const v = (await http('GET', `${env.apiUrl}/v1/remediations/${res.body.remediationId}`, operator)).body;
        return ['returned', 'awaiting-operator', 'stood-down'].includes(v.phase) ? v : undefined;
      },
      150_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}; the host was power-cycled ${await powerCycles(host)} times meanwhile`);
    });
    expect([done.phase, done.handOff]).toEqual(['returned', null]);
    expect(await powerCycleAttempts(res.body.remediationId)).toEqual([1]);
    expect(await powerCycles(host)).toBe(1);
  } finally {
    await stop(worker, 'SIGTERM');
  }
}, 240_000);

test('a worker killed before the provider acted on its request: the host is on, the cycle is not issued again on a guess, and a person gets the host', async () => {
  const host = simulatedHostName('zone-e', 1);
  // A call of 12 s whose cut would come 6 s in: killed as soon as the intent is written, the request never acts.
  const done = await remediateKillingOnce(host, { SHIPSHAPE_SIM_POWER_CALL_SECONDS: '12' }, () =>
    when('the intent written', async () => {
      const r = await env.db.query('SELECT 1 FROM power_action_intents WHERE host = $1', [host]);
      return r.rowCount === 1;
    }),
  );
  expect(done.phase).toBe('awaiting-operator');
  expect(done.handOff.reason).toMatch(/whether it was issued is unknown, so it is not issued again/);
  expect(await powerCycles(host)).toBe(0);
}, 240_000);
