/**
 * Nothing lost when Temporal is away: the signal is recorded and answered
 * `queued`, and the redispatcher delivers it once Temporal answers.
 */
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { injectFault } from '../../providers/simulated/admin';
import { createApp } from '../../api/app';
import { startRedispatcher } from '../../api/redispatch';
import { SignalDispatcher } from '../../api/dispatch';
import { createLogger } from '../../config/logger';
import { createTestEnv, PERMISSIVE_GUARDS, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 1 } });
  await env.startWorker();
});
afterAll(() => env.close());

test('a signal accepted while Temporal is unreachable is queued, then delivered and remediated when Temporal is back', async () => {
  const host = 'cmp-a-01';
  await injectFault(env.db, host, { unhealthy: 'down' });
  const logger = createLogger('silent', 'test');
  // An API whose Temporal is a closed port.
  const deadConnection = await Connection.connect({ address: '127.0.0.1:1', connectTimeout: 200 }).catch(() =>
    Connection.lazy({ address: '127.0.0.1:1' }),
  );
  const deadClient = new Client({ connection: deadConnection });
  const { app } = createApp({
    db: env.db,
    client: deadClient,
    connection: deadConnection,
    taskQueue: env.taskQueue,
    workflowIdPrefix: env.workflowIdPrefix,
    policies: env.policies,
    hostLabel: 'host',
    keys: env.keys,
    codecCorsOrigins: ['http://localhost:8233'],
    logger,
    guards: () => PERMISSIVE_GUARDS,
  });
  const server = await new Promise<Server>((ok) => {
    const s = app.listen(0, () => ok(s));
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const token = await env.token('ops-bot', 'operator');

  const res = await http('POST', `${url}/v1/signals`, token, hostSignal(host));
  server.close();
  expect(res.status).toBe(202);
  expect(res.body).toMatchObject({ outcome: 'queued', remediationId: null });
  expect((await env.db.query('SELECT outcome FROM signals WHERE id = $1', [res.body.signalId])).rows[0].outcome).toBe(
    'queued',
  );

  // Temporal is back (the live client): the redispatcher delivers the queued signal.
  const dispatcher = new SignalDispatcher({
    db: env.db,
    client: env.client,
    taskQueue: env.taskQueue,
    workflowIdPrefix: env.workflowIdPrefix,
    policies: env.policies,
    logger,
    decisionKeys: env.keys.decisionKeys,
  });
  const stop = startRedispatcher(env.db, dispatcher, logger, 200);
  try {
    const delivered = await eventually('redispatched', async () => {
      const row = (await env.db.query('SELECT outcome, remediation_id FROM signals WHERE id = $1', [res.body.signalId]))
        .rows[0];
      return row.outcome === 'started' ? row : undefined;
    });
    await eventually('returned', async () => {
      const r = (await http('GET', `${env.apiUrl}/v1/remediations/${delivered.remediation_id}`, token)).body;
      return r.phase === 'returned' ? r : undefined;
    });
  } finally {
    await stop();
    await deadConnection.close().catch(() => undefined);
  }
});
