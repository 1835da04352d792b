/**
 * Four-eyes rests on what Shipshape establishes, not on what a caller says:
 * a decision sent straight to Temporal (not through the API) is refused and
 * the run still waits; a decision without a role is refused; and an alert's
 * claimed severity cannot talk a critical host out of a critical-only approval.
 */
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { remediationWorkflowId } from '../../domain/remediation';
import { injectFault } from '../../providers/simulated/admin';
import { approveUpdate, cancelUpdate, handBackUpdate, viewQuery } from '../../workflows/messages';
import { createTestEnv, DEFAULT_TEST_POLICIES, testPolicy, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';

let env: TestEnv;
let tokens: Record<'bot' | 'bob', string>;

beforeAll(async () => {
  env = await createTestEnv({
    fleet: { zones: ['zone-a'], hostsPerZone: 6, serversPerHost: 2 },
    policies: [
      ...DEFAULT_TEST_POLICIES,
      testPolicy('critical-needs-approval', ['DimmFault'], {
        approval: {
          required: false,
          timeoutSeconds: 60,
          rule: {
            mode: 'when',
            when: { severities: ['critical'] },
            approverRoles: ['approver', 'admin'],
            timeoutSeconds: 60,
            onTimeout: 'escalate',
          },
        },
      }),
      testPolicy('always-hands-off', ['StubbornFault']),
    ],
  });
  tokens = { bot: await env.token('ops-bot', 'operator'), bob: await env.token('bob', 'approver') };
  await env.startWorker();
});
afterAll(() => env.close());

const get = async (id: string) => (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, tokens.bot)).body;
const inPhase = (id: string, phase: string) =>
  eventually(`${id} in ${phase}`, async () => {
    const r = await get(id);
    if (r.outcome && r.phase !== phase) throw new Error(`ended ${r.phase}: ${r.outcome.reason}`);
    return r.phase === phase ? r : undefined;
  });

/** What the workflow answered when an Update was refused: its failure type and message. */
async function refusal(update: Promise<unknown>): Promise<{ type: string | null | undefined; message: string }> {
  const err = await update.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return { type: (cause as ApplicationFailure).type, message: (cause as ApplicationFailure).message };
}

async function awaitingApproval(host: string, signal = 'HardwareFault') {
  await injectFault(env.db, host, { unhealthy: 'DIMM A3 uncorrectable errors' });
  const started = await http('POST', `${env.apiUrl}/v1/signals`, tokens.bot, hostSignal(host, signal));
  const view = await inPhase(started.body.remediationId, 'awaiting-approval');
  return { id: view.remediationId as string, handle: env.client.workflow.getHandle(view.workflowId as string) };
}

test('an approval sent straight through a Temporal client, not through the API, is refused and the run still waits for an approver', async () => {
  const { id, handle } = await awaitingApproval('cmp-a-01');

  const forged = await refusal(
    handle.executeUpdate(approveUpdate, {
      args: [{ remediationId: id, by: 'bob', role: 'approver', comment: 'approved by nobody' }],
    }),
  );
  expect(forged.type).toBe('Forbidden');
  expect(forged.message).toMatch(/not signed by the Shipshape API/);

  const still = await handle.query(viewQuery);
  expect(still.phase).toBe('awaiting-approval');
  expect(still.pendingApproval).not.toBeNull();
  expect((await get(id)).phase).toBe('awaiting-approval');

  // The API's own path still works, and the audit names the real approver.
  const ok = await http('POST', `${env.apiUrl}/v1/remediations/${id}/approve`, tokens.bob, { comment: 'go ahead' });
  expect(ok.status).toBe(200);
  expect(ok.body.phase).toBe('draining');
  await inPhase(id, 'returned');
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${id}`, tokens.bot)).body.entries;
  expect(audit.filter((a: { action: string }) => a.action === 'approved')).toEqual([
    expect.objectContaining({ actor: 'bob', reason: 'go ahead' }),
  ]);
});

test('an approval without a role is refused, whoever it claims to be from', async () => {
  const { id, handle } = await awaitingApproval('cmp-a-02');
  const noRole = await refusal(
    handle.executeUpdate(approveUpdate, { args: [{ remediationId: id, by: 'bob', comment: 'no role given' }] }),
  );
  expect(noRole.type).toBe('Forbidden');
  expect(noRole.message).toMatch(/needs the caller's role/);
  expect((await handle.query(viewQuery)).phase).toBe('awaiting-approval');
});

test('a hand-back or a cancel sent straight through Temporal is refused and changes nothing', async () => {
  await injectFault(env.db, 'cmp-a-03', { unhealthy: 'PSU 2 failed', repairIneffective: true });
  const started = await http('POST', `${env.apiUrl}/v1/signals`, tokens.bot, hostSignal('cmp-a-03', 'StubbornFault'));
  const view = await inPhase(started.body.remediationId, 'awaiting-operator');
  const handle = env.client.workflow.getHandle(view.workflowId);
  const action = { remediationId: view.remediationId, by: 'ops-bot', role: 'operator' as const, comment: 'fixed' };

  const handBack = await refusal(handle.executeUpdate(handBackUpdate, { args: [action] }));
  expect(handBack).toMatchObject({ type: 'Forbidden', message: expect.stringMatching(/not signed/) });
  const cancel = await refusal(handle.executeUpdate(cancelUpdate, { args: [action] }));
  expect(cancel).toMatchObject({ type: 'Forbidden', message: expect.stringMatching(/not signed/) });

  const after = await handle.query(viewQuery);
  expect(after.phase).toBe('awaiting-operator');
  expect(after.handOff).not.toBeNull();
  expect(after.resolution ?? null).toBeNull();
});

test('an operator who sends a critical host\'s alert as "warning" to dodge a critical-only approval still needs an approver', async () => {
  const host = 'cmp-a-04';
  await injectFault(env.db, host, { unhealthy: 'DIMM B2 uncorrectable errors' }); // the audit shows health critical
  const started = await http(
    'POST',
    `${env.apiUrl}/v1/signals`,
    tokens.bot,
    hostSignal(host, 'DimmFault', { severity: 'warning' }),
  );
  expect(started.body).toMatchObject({ outcome: 'started' });
  const id = started.body.remediationId;
  const waiting = await inPhase(id, 'awaiting-approval');
  expect(waiting.poolState).toBe('in-service');
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${id}`, tokens.bot)).body.entries;
  expect(audit.find((a: { action: string }) => a.action === 'approval requested')?.reason).toBe(
    'severity critical asks for approval',
  );
  const sim = (await env.db.query('SELECT compute_enabled, power_cycles FROM sim_hosts WHERE id = $1', [host])).rows[0];
  expect(sim).toEqual({ compute_enabled: true, power_cycles: 0 });
});

test('a host the audit finds powered off counts as critical: an "info" claim still needs an approver', async () => {
  // cmp-a-05's health reads ok, but it is powered off: the audit establishes that it is down.
  const host = 'cmp-a-05';
  await env.db.query(`UPDATE sim_hosts SET power = 'off' WHERE id = $1`, [host]);
  const started = await http(
    'POST',
    `${env.apiUrl}/v1/signals`,
    tokens.bot,
    hostSignal(host, 'DimmFault', { severity: 'info' }),
  );
  const id = started.body.remediationId;
  await inPhase(id, 'awaiting-approval');
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${id}`, tokens.bot)).body.entries;
  expect(audit.find((a: { action: string }) => a.action === 'approval requested')?.reason).toBe(
    'severity critical asks for approval',
  );
});

test('a remediation started straight through Temporal, with a policy that asks nobody, fails at once and touches nothing', async () => {
  const host = 'cmp-a-06';
  await injectFault(env.db, host, { unhealthy: 'DIMM A3 uncorrectable errors' });
  const workflowId = remediationWorkflowId(host, env.workflowIdPrefix);
  const handle = await env.client.workflow.start('remediationWorkflow', {
    taskQueue: env.taskQueue,
    workflowId,
    args: [
      {
        remediationId: 'forged-1',
        host,
        zone: 'zone-a',
        policy: testPolicy('no-approval', ['HardwareFault']).policy,
        trigger: {
          signalId: 'forged',
          name: 'HardwareFault',
          fingerprint: 'f',
          severity: 'critical',
          status: 'firing',
        },
        requestedBy: 'mallory',
      },
    ],
  });
  const err = await handle.result().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('Forbidden');
  expect(cause.message).toMatch(/was not started by the Shipshape API/);
  const sim = (await env.db.query('SELECT compute_enabled, power_cycles FROM sim_hosts WHERE id = $1', [host])).rows[0];
  expect(sim).toEqual({ compute_enabled: true, power_cycles: 0 });
  expect(
    (await env.db.query('SELECT count(*)::int AS n FROM audit_log WHERE remediation_id = $1', ['forged-1'])).rows[0].n,
  ).toBe(0);
});
