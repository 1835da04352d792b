/**
 * What the lease reaper hears from Temporal about the run holding a lease,
 * against the real dev server: a run that continued as new is followed to the
 * run it became, a closed one says how it closed, and an unknown one is gone.
 */
import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { temporalHolderRuns } from '../../activities/lease-reaper';
import { shipshapeDataConverter } from '../../workers/data-converter';
import { continueOnce, finish } from '../support/continue-once-workflow';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually } from '../support/http';

let env: TestEnv;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `holder-runs-${randomUUID()}`;

beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 1, serversPerHost: 0 } });
  connection = await NativeConnection.connect({ address: env.temporalAddress });
  worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('../support/continue-once-workflow'),
    dataConverter: shipshapeDataConverter(env.keys), // the test env's client encrypts every payload
  });
  running = worker.run();
}, 120_000);
afterAll(async () => {
  worker.shutdown();
  await running;
  await connection.close();
  await env.close();
});

test('a run that continued as new is followed to the run it became, and reads closed once that one closes', async () => {
  const workflowId = `${env.workflowIdPrefix}continue-once`;
  const handle = await env.client.workflow.start(continueOnce, { taskQueue, workflowId, args: [0] });
  const first = handle.firstExecutionRunId;
  const lookup = temporalHolderRuns(env.client);

  const followed = await eventually('the second run running', async () => {
    const run = await lookup(workflowId, first);
    return run.state === 'running' && run.runId !== first ? run : undefined;
  });
  expect((await env.client.workflow.getHandle(workflowId, first).describe()).status.name).toBe('CONTINUED_AS_NEW');

  await env.client.workflow.getHandle(workflowId).signal(finish);
  await env.client.workflow.getHandle(workflowId).result();
  expect(await lookup(workflowId, first)).toEqual({ state: 'closed', runId: followed.runId, status: 'COMPLETED' });
});

test('a workflow or run Temporal never heard of is gone', async () => {
  const lookup = temporalHolderRuns(env.client);
  expect(await lookup(`${env.workflowIdPrefix}never-started`, '')).toEqual({ state: 'not-found' });
  expect(await lookup(`${env.workflowIdPrefix}never-started`, randomUUID())).toEqual({ state: 'not-found' });
});
