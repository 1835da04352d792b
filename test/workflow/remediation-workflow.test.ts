/**
 * The remediation workflow on the real dev server with test activities that
 * fail on purpose: a server that cannot move hands the host off with the
 * servers left where they were, and a broken notifier is recorded but does
 * not break the remediation.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../activities';
import { SimulatedFleet } from '../../providers/simulated/provider';
import { injectFault } from '../../providers/simulated/admin';
import { FailureType } from '../../domain/errors';
import { createTestEnv, PERMISSIVE_GUARDS, type TestEnv } from '../support/env';
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
    guards: () => PERMISSIVE_GUARDS,
    bmc: env.bmc,
  });
  await env.startWorker({
    ...real,
    async auditHost(host) {
      if (host === 'cmp-a-02')
        throw ApplicationFailure.create({
          type: FailureType.ProviderRejected,
          message: 'BMC unreachable',
          nonRetryable: true,
        });
      return real.auditHost(host);
    },
    async moveServerOffHost(input) {
      throw ApplicationFailure.create({
        type: FailureType.NoValidHost,
        message: `no valid host for ${input.serverId}`,
        nonRetryable: true,
      });
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

const view = async (id: string) => (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;

test('a provider that cannot even read the host hands it off instead of failing the run', async () => {
  const id = (await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal('cmp-a-02'))).body.remediationId;
  const r = await eventually('hand-off', async () => {
    const v = await view(id);
    return v.phase === 'awaiting-operator' ? v : undefined;
  });
  expect(r.handOff.reason).toBe(`unexpected failure: ${FailureType.ProviderRejected}: BMC unreachable`);
});

test('a remediation cancelled from Temporal itself is recorded as cancelled, with where the host was left', async () => {
  const host = 'cmp-a-03';
  await injectFault(env.db, host, { unhealthy: 'fan 1' });
  const id = (await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host, 'HardwareFault'))).body
    .remediationId;
  await eventually('awaiting approval', async () =>
    (await view(id)).phase === 'awaiting-approval' ? true : undefined,
  );
  await env.client.workflow.getHandle(`${env.workflowIdPrefix}remediation/${host}`).cancel();
  const r = await eventually('cancelled', async () => {
    const v = await view(id);
    return v.phase === 'cancelled' ? v : undefined;
  });
  expect(r.outcome.reason).toBe('workflow cancelled in Temporal; host left in service, untouched');
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${id}`, operator)).body.entries;
  expect(audit.at(-1)).toMatchObject({ action: 'remediation cancelled', actorKind: 'person', actor: 'temporal' });
});
