/**
 * The remediation workflow on the real dev server with test activities that
 * fail on purpose: a server that cannot move hands the host off with the
 * servers left where they were, and a broken notifier is recorded but does
 * not break the remediation.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../activities';
import { SimulatedFleet } from '../../activities/providers/simulated';
import { injectFault } from '../../activities/providers/simulated-admin';
import { FailureType } from '../../domain/errors';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';

let env: TestEnv;
let operator: string;

beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 2 } });
  operator = await env.token('ops-bot', 'operator');
  const real = createActivities({
    provider: new SimulatedFleet(env.db, { migrationSeconds: 1, powerOnSeconds: 1 }),
    db: env.db,
    notifier: { notify: async () => undefined },
  });
  await env.startWorker({
    ...real,
    async moveServerOffHost(input) {
      throw ApplicationFailure.create({ type: FailureType.NoValidHost, message: `no valid host for ${input.serverId}`, nonRetryable: true });
    },
    async notifyOperator() {
      throw new Error('webhook answered 502');
    },
  });
});
afterAll(() => env.close());

test('a server that cannot move hands the host off with its servers still where they were, even when the notifier is down', async () => {
  const host = 'cmp-a-01';
  await injectFault(env.db, host, { unhealthy: 'NIC link down' });
  const id = (await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host))).body.remediationId;
  const r = await eventually('hand-off', async () => {
    const v = (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;
    return v.phase === 'awaiting-operator' ? v : undefined;
  });
  expect(r.handOff.reason).toBe(`${FailureType.NoValidHost}: no valid host for ${host}-vm1`);
  expect(r.steps.find((s: { name: string }) => s.name === `move ${host}-vm1`)).toMatchObject({ status: 'failed' });
  const left = await env.db.query('SELECT count(*)::int AS n FROM sim_servers WHERE host = $1', [host]);
  expect(left.rows[0].n).toBe(2);
  // The notifier's failure is on the record; the remediation still waits for its operator.
  const audit = await eventually('notification failure recorded', async () => {
    const entries = (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${id}`, operator)).body.entries;
    return entries.some((e: { action: string }) => e.action === 'notification failed') ? entries : undefined;
  });
  expect(audit.find((e: { action: string }) => e.action === 'notification failed').reason).toMatch(/502/);
});
