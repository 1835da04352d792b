/**
 * The human steps, through the API against the real Temporal dev server:
 * hand-off and hand-back, approval by another person, self-approval refused,
 * reject, approval timeout escalating to an operator, and cancel.
 */
import { injectFault, repairByHand } from '../../providers/simulated/admin';
import { recordHistoryIfAsked } from '../support/history';
import { createTestEnv, DEFAULT_TEST_POLICIES, testPolicy, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';

let env: TestEnv;
let tokens: Record<'bot' | 'alice' | 'bob' | 'viewer', string>;

beforeAll(async () => {
  env = await createTestEnv({
    fleet: { zones: ['zone-a'], hostsPerZone: 8, serversPerHost: 2 },
    policies: [
      ...DEFAULT_TEST_POLICIES,
      testPolicy('impatient-approval', ['FanFailure'], { approval: { required: true, timeoutSeconds: 2 } }),
      testPolicy('slow-drain', ['SlowDrain']),
    ],
    migrationSeconds: 1,
  });
  tokens = {
    bot: await env.token('ops-bot', 'operator'),
    alice: await env.token('alice', 'approver'),
    bob: await env.token('bob', 'approver'),
    viewer: await env.token('victor', 'viewer'),
  };
  await env.startWorker();
});
afterAll(() => env.close());

const get = async (id: string) => (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, tokens.bot)).body;
const act = (id: string, action: string, token: string, comment?: string) =>
  http('POST', `${env.apiUrl}/v1/remediations/${id}/${action}`, token, comment ? { comment } : {});
/** Notifications go out right after the phase is recorded, so wait for them. */
const notified = (expected: Record<string, string>) =>
  eventually(`notification ${JSON.stringify(expected)}`, async () =>
    env.notifications.some((n) => Object.entries(expected).every(([k, v]) => n[k as keyof typeof n] === v))
      ? true
      : undefined,
  );
const inPhase = (id: string, phase: string, timeoutMs?: number) =>
  eventually(
    `${id} in ${phase}`,
    async () => {
      const r = await get(id);
      return r.phase === phase ? r : undefined;
    },
    timeoutMs,
  );

test('when the repair does not fix the host, it is handed to an operator, who hands it back to be verified and returned', async () => {
  const host = 'cmp-a-01';
  await injectFault(env.db, host, { unhealthy: 'PSU 2 failed', repairIneffective: true });
  const started = await http('POST', `${env.apiUrl}/v1/signals`, tokens.bot, hostSignal(host));
  expect(started.body).toMatchObject({ outcome: 'started' });
  const id = started.body.remediationId;

  const handedOff = await inPhase(id, 'awaiting-operator');
  expect(handedOff.poolState).toBe('awaiting-operator');
  expect(handedOff.handOff.reason).toMatch(/verification failed/);
  await notified({ kind: 'hand-off', host, remediationId: id });
  expect((await http('GET', `${env.apiUrl}/v1/hosts/${host}`, tokens.bot)).body.poolState).toBe('awaiting-operator');
  // Still out of the pool while the operator has it.
  expect(
    (await env.db.query('SELECT compute_enabled FROM sim_hosts WHERE id = $1', [host])).rows[0].compute_enabled,
  ).toBe(false);

  // New alerts for the host are recorded but do not act.
  const again = await http('POST', `${env.apiUrl}/v1/signals`, tokens.bot, hostSignal(host, 'NovaComputeDown'));
  expect(again.body).toMatchObject({ outcome: 'suppressed', remediationId: id });

  // Approve is not what this phase accepts.
  const wrong = await act(id, 'approve', tokens.alice);
  expect(wrong.status).toBe(409);
  expect(wrong.body.error.message).toMatch(/awaiting-operator/);

  await repairByHand(env.db, host);
  const back = await act(id, 'hand-back', tokens.bot, 'replaced PSU 2');
  expect(back.status).toBe(200);
  expect(back.body.phase).not.toBe('awaiting-operator');
  const done = await inPhase(id, 'returned');
  expect(done.poolState).toBe('in-service');
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${id}`, tokens.bot)).body.entries;
  expect(audit.find((a: { action: string }) => a.action === 'handed back')).toMatchObject({
    actorKind: 'person',
    actor: 'ops-bot',
    reason: 'replaced PSU 2',
  });

  // RECORD_HISTORY=<name> stores this run's history for the replay test (test/fixtures/<name>-history.json).
  recordHistoryIfAsked(env, host);
});

test('an approval is accepted from another approver, refused from the requester, and the remediation proceeds', async () => {
  const host = 'cmp-a-02';
  await injectFault(env.db, host, { unhealthy: 'DIMM A3 uncorrectable errors' });
  // alice raises the alert herself, so she may not approve it.
  const started = await http('POST', `${env.apiUrl}/v1/signals`, tokens.alice, hostSignal(host, 'HardwareFault'));
  const id = started.body.remediationId;
  const waiting = await inPhase(id, 'awaiting-approval');
  expect(waiting.pendingApproval.deadline).toBeDefined();
  expect(waiting.poolState).toBe('in-service');
  await notified({ kind: 'approval-requested', remediationId: id });

  const self = await act(id, 'approve', tokens.alice);
  expect(self.status).toBe(403);
  expect(self.body.error.message).toMatch(/alice requested this remediation/);
  const operatorTries = await act(id, 'approve', tokens.bot);
  expect(operatorTries.status).toBe(403);
  expect(operatorTries.body.error.message).toMatch(/needs approver/);

  const ok = await act(id, 'approve', tokens.bob, 'go ahead');
  expect(ok.status).toBe(200);
  expect(ok.body.phase).toBe('draining');
  await inPhase(id, 'returned');
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${id}`, tokens.bot)).body.entries;
  expect(audit.find((a: { action: string }) => a.action === 'approved')).toMatchObject({
    actor: 'bob',
    actorKind: 'person',
  });
});

test('a rejected remediation ends without touching the host', async () => {
  const host = 'cmp-a-03';
  await injectFault(env.db, host, { unhealthy: 'chassis intrusion' });
  const id = (await http('POST', `${env.apiUrl}/v1/signals`, tokens.bot, hostSignal(host, 'HardwareFault'))).body
    .remediationId;
  await inPhase(id, 'awaiting-approval');
  const rejected = await act(id, 'reject', tokens.bob, 'technician on site');
  expect(rejected.status).toBe(200);
  expect(rejected.body.phase).toBe('rejected');
  const done = await inPhase(id, 'rejected');
  expect(done.outcome.reason).toBe('technician on site');
  expect(done.poolState).toBe('in-service');
  const sim = (await env.db.query('SELECT compute_enabled, power_cycles FROM sim_hosts WHERE id = $1', [host])).rows[0];
  expect(sim).toEqual({ compute_enabled: true, power_cycles: 0 });
  // Once ended, every action is refused with the reason.
  const late = await act(id, 'approve', tokens.alice);
  expect(late.status).toBe(409);
  expect(late.body.error.message).toMatch(/has ended/);
});

test('when nobody approves in time, the remediation escalates to an operator without touching the host', async () => {
  const host = 'cmp-a-04';
  await injectFault(env.db, host, { unhealthy: 'fan 3 stopped' });
  const id = (await http('POST', `${env.apiUrl}/v1/signals`, tokens.bot, hostSignal(host, 'FanFailure'))).body
    .remediationId;
  const escalated = await inPhase(id, 'awaiting-operator');
  expect(escalated.handOff.reason).toMatch(/no approver decided within 2s/);
  await notified({ kind: 'approval-escalated', remediationId: id });
  expect(
    (await env.db.query('SELECT compute_enabled FROM sim_hosts WHERE id = $1', [host])).rows[0].compute_enabled,
  ).toBe(true);
  expect((await act(id, 'cancel', tokens.bot, 'will handle it in the next window')).status).toBe(200);
  const done = await inPhase(id, 'cancelled');
  expect(done.outcome.reason).toMatch(/host left in service, untouched/);
});

test('cancel during a drain stops safely and records where the host was left', async () => {
  const host = 'cmp-a-05';
  await injectFault(env.db, host, { unhealthy: 'kernel soft lockups' });
  const id = (await http('POST', `${env.apiUrl}/v1/signals`, tokens.bot, hostSignal(host, 'SlowDrain'))).body
    .remediationId;
  await inPhase(id, 'draining');
  const viewerTries = await act(id, 'cancel', tokens.viewer);
  expect(viewerTries.status).toBe(403);
  expect((await act(id, 'cancel', tokens.bot, 'wrong host')).status).toBe(200);
  const done = await inPhase(id, 'cancelled');
  expect(done.poolState).toBe('out-of-service');
  expect(done.outcome.reason).toMatch(
    /^wrong host; host left out of the pool \(compute service disabled\), \d+ servers still on it/,
  );
  expect((await http('GET', `${env.apiUrl}/v1/hosts/${host}`, tokens.bot)).body.poolState).toBe('out-of-service');
  const sim = (await env.db.query('SELECT compute_enabled, power_cycles FROM sim_hosts WHERE id = $1', [host])).rows[0];
  expect(sim).toEqual({ compute_enabled: false, power_cycles: 0 });
});
