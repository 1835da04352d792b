/**
 * A decision's signature binds the workflow, the remediation, the decision,
 * who and with which role, the comment, what it answers and when it was
 * signed: a valid signature for one run, one comment or one moment fits no
 * other, and a key that is not in the keys file signs nothing.
 */
import { randomBytes } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { type ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { signDecision, signStart } from '../../config/decision-signature';
import { decisionAnswers, type DecisionClaim } from '../../domain/decisions';
import { remediationWorkflowId, type RemediationInput } from '../../domain/remediation';
import { injectFault } from '../../providers/simulated/admin';
import { approveUpdate, viewQuery, type OperatorAction } from '../../workflows/messages';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';

let env: TestEnv;
let bot: string;

beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 4, serversPerHost: 2 } });
  bot = await env.token('ops-bot', 'operator');
  await env.startWorker();
});
afterAll(() => env.close());

interface Waiting {
  id: string;
  workflowId: string;
  handle: WorkflowHandle;
}

async function awaitingApproval(host: string): Promise<Waiting> {
  await injectFault(env.db, host, { unhealthy: 'DIMM A3 uncorrectable errors' });
  const id = (await http('POST', `${env.apiUrl}/v1/signals`, bot, hostSignal(host, 'HardwareFault'))).body
    .remediationId;
  const view = await eventually(`${id} awaiting approval`, async () => {
    const v = (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, bot)).body;
    return v.phase === 'awaiting-approval' ? v : undefined;
  });
  return { id, workflowId: view.workflowId, handle: env.client.workflow.getHandle(view.workflowId) };
}

/** An approval signed as the API signs it, for `run`; `change` alters what is signed. */
async function signedApproval(run: Waiting, change: Partial<DecisionClaim> = {}, keys = env.keys.decisionKeys) {
  const claim: DecisionClaim = {
    workflowId: run.workflowId,
    remediationId: run.id,
    decision: 'approve',
    by: 'bob',
    role: 'approver',
    comment: 'go ahead',
    fixedBy: null,
    answers: decisionAnswers('approve', await run.handle.query(viewQuery)),
    issuedAt: new Date().toISOString(),
    ...change,
  };
  const action: OperatorAction = {
    remediationId: run.id,
    by: 'bob',
    role: 'approver',
    comment: 'go ahead',
    issuedAt: claim.issuedAt,
    signature: signDecision(keys, claim),
  };
  return action;
}

async function refusedWith(run: Waiting, action: OperatorAction, reason: RegExp): Promise<void> {
  const err = await run.handle.executeUpdate(approveUpdate, { args: [action] }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('Forbidden');
  expect(cause.message).toMatch(reason);
  expect((await run.handle.query(viewQuery)).phase).toBe('awaiting-approval');
}

test('a signature made for run A is refused on run B, which still waits; on run A it is accepted', async () => {
  const a = await awaitingApproval('cmp-a-01');
  const b = await awaitingApproval('cmp-a-02');
  const forA = await signedApproval(a);

  await refusedWith(b, { ...forA, remediationId: b.id }, /not signed by the Shipshape API/);

  const accepted = await a.handle.executeUpdate(approveUpdate, { args: [forA] });
  expect(accepted.phase).not.toBe('awaiting-approval');
  expect((await b.handle.query(viewQuery)).phase).toBe('awaiting-approval');
});

test('a signed approval with another comment, another person, a stale time or an unknown key is refused', async () => {
  const run = await awaitingApproval('cmp-a-03');
  const signed = await signedApproval(run);
  await refusedWith(run, { ...signed, comment: 'something else' }, /not signed/);
  await refusedWith(run, { ...signed, by: 'alice' }, /not signed/);
  await refusedWith(run, { ...signed, role: 'admin' }, /not signed/);

  const stale = new Date(Date.now() - 10 * 60_000).toISOString();
  await refusedWith(run, await signedApproval(run, { issuedAt: stale }), /more than 5 minutes ago/);

  const foreignKey = [{ id: env.keys.decisionKeys[0]!.id, key: randomBytes(32) }];
  await refusedWith(run, await signedApproval(run, {}, foreignKey), /not signed/);
});

test('a decision signed without a role is refused for the missing role', async () => {
  const run = await awaitingApproval('cmp-a-04');
  const signed = await signedApproval(run, { role: null });
  await refusedWith(run, { ...signed, role: undefined }, /needs the caller's role/);
});

test('a start signed for one input is refused when the input is changed (another policy) or sent under another workflow ID', async () => {
  const input: RemediationInput = {
    remediationId: 'copied-1',
    host: 'cmp-a-01',
    zone: 'zone-a',
    policy: env.policies().find((p) => p.name === 'hardware-fault')!.policy,
    trigger: { signalId: 's', name: 'HardwareFault', fingerprint: 'f', severity: 'critical', status: 'firing' },
    requestedBy: 'ops-bot',
  };
  const signedFor = remediationWorkflowId('cmp-a-01', env.workflowIdPrefix);
  const startSignature = signStart(env.keys.decisionKeys, signedFor, input);
  const lenient = { ...input.policy, approval: { required: false, timeoutSeconds: 60 } };
  const attempts = [
    { workflowId: `${env.workflowIdPrefix}forged/a`, args: { ...input, policy: lenient, startSignature } },
    { workflowId: `${env.workflowIdPrefix}forged/b`, args: { ...input, startSignature } },
  ];
  for (const a of attempts) {
    const handle = await env.client.workflow.start('remediationWorkflow', {
      taskQueue: env.taskQueue,
      workflowId: a.workflowId,
      args: [a.args],
    });
    const err = await handle.result().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(((err as WorkflowFailedError).cause as ApplicationFailure).message).toMatch(
      /not started by the Shipshape API/,
    );
  }
});
