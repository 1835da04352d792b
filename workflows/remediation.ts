/**
 * One remediation of one host: audit → (approval) → drain → repair → verify →
 * return. Any failure hands the host to an operator, who hands it back when
 * they have fixed it; Shipshape then verifies and returns it. The workflow ID
 * is derived from the host, so a host has one remediation at a time.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  patched,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { personOverride } from '../domain/health';
import { approvalReason, confirmedProblems } from '../domain/policy';
import { DISABLE_REASON_PREFIX, hostIsDown, type RemediationInput, type RemediationView } from '../domain/remediation';
import type { HostState } from '../domain/types';
import type { ComputeToggle } from '../activities/host-actions';
import { hostActions, records, serviceToggles } from './activity-profiles';
import { waitForCapacity } from './capacity';
import {
  describeFailure,
  isInterruption,
  notify,
  personActor,
  PersonTookOver,
  RemediationCancelled,
  RemediationState,
  type ResumeState,
} from './remediation-state';
import { checkHeldHost, drainAndClimbLadder, drainAndRepair, EVACUATION, fenceStaysOn, LIFT_FENCE_BEFORE_CHECKS, liftFence, REPAIR_LADDER, tryLiftFence } from './repair';

export interface RemediationWorkflowInput extends RemediationInput {
  /** Set only when a long hand-off continued as new. */
  resume?: ResumeState;
}

export async function remediationWorkflow(input: RemediationWorkflowInput): Promise<RemediationView> {
  const r = new RemediationState(input, input.resume);
  r.registerHandlers();
  let view: RemediationView;
  try {
    view = await handOffOnFailure(r, input.resume ? () => resumeHandOff(r) : () => remediate(r));
  } catch (err) {
    if (err instanceof RemediationCancelled) {
      view = await finishCancelled(r);
    } else if (err instanceof PersonTookOver) {
      view = await standDownTakenOver(r, err);
    } else if (isCancellation(err)) {
      // Cancelled from the Temporal UI or CLI: record it like an operator's cancel.
      r.cancel ??= { by: 'temporal', comment: 'workflow cancelled in Temporal' };
      view = await CancellationScope.nonCancellable(() => finishCancelled(r));
    } else {
      throw err;
    }
  }
  // Let Update handlers that are mid-flight answer before the run closes.
  await condition(allHandlersFinished);
  return view;
}

/**
 * Any failure the process did not plan for (a provider that stays down past
 * its retries, say) hands the host to an operator instead of failing the run
 * and leaving the host in limbo.
 */
async function handOffOnFailure(r: RemediationState, run: () => Promise<RemediationView>): Promise<RemediationView> {
  for (;;) {
    try {
      return await run();
    } catch (err) {
      if (isInterruption(err) || err instanceof ContinueAsNew || isCancellation(err)) throw err;
      const reason = `unexpected failure: ${describeFailure(err)}`;
      run = () => handOffUntilReturned(r, reason, 'hand-off');
    }
  }
}

async function remediate(r: RemediationState): Promise<RemediationView> {
  const { host, policy, trigger } = r.input;
  await r.record({ action: 'remediation started', reason: `${trigger.name} (${trigger.severity}) matched policy ${policy.name}` });

  // Confirm before acting: re-read the host's real state.
  const checks = policy.confirm;
  const state = await r.step('audit', () => hostActions.auditHost(host), (s) => confirmedProblems(s, checks).join('; ') || 'healthy');
  const problems = confirmedProblems(state, checks);
  if (problems.length === 0) return r.finish('false-alarm', `${host} is healthy: power ${state.power}, health ${state.health}`, { after: state });
  if (r.guarded) {
    const override = personOverride(state, DISABLE_REASON_PREFIX);
    if (override) return standDownFor(r, override, state);
  }
  await r.record({ action: 'problem confirmed', reason: problems.join('; '), after: state });
  if (r.guarded) {
    const repeat = await records.checkRepeatOffence({ remediationId: r.input.remediationId, host, policyGuards: policy.guards });
    if (repeat) return handOffUntilReturned(r, repeat, 'hand-off');
  }

  const rule = policy.approval.rule;
  const askWhy = rule
    ? approvalReason(rule, { zone: r.input.zone, serverCount: state.serverCount, severity: trigger.severity })
    : policy.approval.required ? `policy ${policy.name} requires approval` : null;
  if (askWhy) {
    const approved = await awaitApproval(r, askWhy);
    if (approved === 'rejected') return r.finish('rejected', r.approval?.comment || 'rejected', personActor(r.approval?.by));
    if (approved === 'timed-out') {
      const waited = `no approver decided within ${policy.approval.timeoutSeconds}s`;
      const onTimeout = rule?.onTimeout ?? 'escalate';
      if (onTimeout === 'reject') return r.finish('rejected', `${waited}; the policy rejects on timeout`);
      if (onTimeout === 'escalate') return handOffUntilReturned(r, waited, 'approval-escalated');
      await r.record({ action: 'approval timed out', reason: `${waited}; the policy proceeds on timeout` });
    }
  }

  // A host that is down can only be emptied by evacuation: a person approves that first (unless the policy says not to).
  r.evacuate = policy.drain.evacuate === 'when-host-down' && patched(EVACUATION) && hostIsDown(state);
  if (r.evacuate && policy.drain.evacuationApproval !== false && r.approval?.decision !== 'approved') {
    const approved = await awaitApproval(r, `${host} is down (power ${state.power}, compute service ${state.compute.up ? 'up' : 'down'}): its ${state.serverCount} servers would be evacuated, rebuilt on other hosts`);
    if (approved === 'rejected') return r.finish('rejected', r.approval?.comment || 'evacuation rejected', personActor(r.approval?.by));
    if (approved === 'timed-out') return handOffUntilReturned(r, `no approver decided on evacuating ${host} within ${policy.approval.timeoutSeconds}s`, 'approval-escalated');
  }

  if (r.guarded) {
    const waited = await waitForCapacity(r);
    if (waited !== null) return handOffUntilReturned(r, waited, 'hand-off');
    // Waiting may have taken a while: confirm again before taking the host out.
    const now = await r.step('re-check before drain', () => hostActions.auditHost(host), (s) => confirmedProblems(s, r.checks).join('; ') || 'healthy');
    const override = personOverride(now, DISABLE_REASON_PREFIX);
    if (override) return standDownFor(r, override, now);
    if (confirmedProblems(now, r.checks).length === 0) return r.finish('false-alarm', `${host} recovered while waiting: power ${now.power}, health ${now.health}`, { after: now });
  }

  if (policy.ladder && patched(REPAIR_LADDER)) {
    const failure = await drainAndClimbLadder(r, policy.ladder);
    if (failure) return handOffUntilReturned(r, failure, 'hand-off');
    return verifyAndReturn(r);
  }
  const failure = await drainAndRepair(r);
  if (failure) return handOffUntilReturned(r, failure, 'hand-off');
  return verifyAndReturn(r);
}

async function awaitApproval(r: RemediationState, why: string): Promise<'approved' | 'rejected' | 'timed-out'> {
  const timeoutMs = r.input.policy.approval.timeoutSeconds * 1000;
  const now = Date.now();
  r.view.pendingApproval = { requestedAt: new Date(now).toISOString(), deadline: new Date(now + timeoutMs).toISOString() };
  await r.enterPhase('awaiting-approval', { action: 'approval requested', reason: why });
  await notify(r, 'approval-requested', `approve or reject remediation of ${r.input.host}`);
  const decided = await condition(() => r.approval !== null || r.cancel !== null, timeoutMs);
  r.view.pendingApproval = null;
  r.throwIfCancelled();
  if (!decided || !r.approval) return 'timed-out';
  await r.record({ ...personActor(r.approval.by), action: r.approval.decision, reason: r.approval.comment || r.approval.decision });
  return r.approval.decision;
}

/** Bounded post-checks; return the host to the pool only if they pass. */
async function verifyAndReturn(r: RemediationState): Promise<RemediationView> {
  const { host, policy } = r.input;
  await r.enterPhase('verifying', { action: 'verification started', reason: `${policy.verify.attempts} checks, ${policy.verify.intervalSeconds}s apart` });
  let problems: string[] = [];
  for (let attempt = 1; attempt <= policy.verify.attempts; attempt++) {
    const state = await checkHeldHost(r, `verify (check ${attempt})`);
    problems = confirmedProblems(state, r.checks);
    if (problems.length === 0) break;
    if (attempt < policy.verify.attempts) await sleep(policy.verify.intervalSeconds * 1000);
  }
  if (problems.length > 0) return handOffUntilReturned(r, `verification failed: ${problems.join('; ')}`, 'hand-off');

  // A fence Nova would not lift right after the evacuation: the host has rebooted since, so lift it now or hand off.
  if (r.fenced && !(await liftFence(r, 'the host is healthy again', 180))) {
    return handOffUntilReturned(r, `Nova keeps ${host} forced down: its nova-compute has not restarted since the evacuation`, 'hand-off');
  }
  await r.enterPhase('returning', { action: 'verification passed', reason: 'host healthy' });
  let toggle: ComputeToggle;
  try {
    toggle = await r.step('enable compute service', () => serviceToggles.enableCompute(host));
  } catch (err) {
    // Handed back, but a person's disable or maintenance is still on it: theirs to lift, then hand back again.
    if (err instanceof PersonTookOver && !r.holding) return handOffUntilReturned(r, `not returned to the pool: ${err.message}`, 'hand-off');
    throw err;
  }
  r.touched = false;
  return r.finish('returned', 'verified healthy and returned to the pool', { before: toggle.before, after: toggle.after });
}

/**
 * Hand the host to an operator; when they hand it back, verify and return it.
 * Shipshape's own fence is lifted first when Nova allows it, and a fence that
 * stays on is named in the reason the operator is sent.
 */
async function handOffUntilReturned(r: RemediationState, why: string, kind: 'hand-off' | 'approval-escalated'): Promise<RemediationView> {
  let reason = why;
  if (r.fenced && patched(LIFT_FENCE_BEFORE_CHECKS) && !(await tryLiftFence(r, 'handing the host to an operator'))) reason += `; ${fenceStaysOn(r.input.host)}`;
  r.view.handOff = { reason, since: new Date().toISOString() };
  r.holding = false; // the operator has the host now
  await r.enterPhase('awaiting-operator', { action: 'handed off to an operator', reason });
  await notify(r, kind, reason);
  return resumeHandOff(r);
}

async function resumeHandOff(r: RemediationState): Promise<RemediationView> {
  await condition(() => r.handBack !== null || r.cancel !== null || workflowInfo().continueAsNewSuggested);
  r.throwIfCancelled();
  if (!r.handBack) {
    // A hand-off can wait for days and gather alerts; keep the history short.
    await condition(allHandlersFinished);
    return continueAsNew<typeof remediationWorkflow>({ ...r.input, resume: r.resumeState() });
  }
  const { by, comment, fixedBy } = r.handBack;
  r.handBack = null;
  r.view.handOff = null;
  r.view.resolution = { by, note: comment, fixedBy: fixedBy ?? null };
  await r.record({ ...personActor(by), action: 'handed back', reason: comment || 'operator handed the host back', after: fixedBy ? { fixedBy } : undefined });
  return verifyAndReturn(r);
}

/**
 * A person took the host over while Shipshape held it: leave it as they set
 * it, lifting only Shipshape's own fence (or saying that it stays).
 */
async function standDownTakenOver(r: RemediationState, err: PersonTookOver): Promise<RemediationView> {
  if (err.computeEnabled !== null) r.touched = !err.computeEnabled;
  let reason = err.message;
  if (r.fenced && patched(LIFT_FENCE_BEFORE_CHECKS) && !(await tryLiftFence(r, 'a person took the host over'))) reason += `; ${fenceStaysOn(r.input.host)}`;
  if (r.touched && !err.computeEnabled) reason += '; the host stays out of the pool: its compute service stays disabled until a person enables it';
  return r.finish('stood-down', reason);
}

/** A person disabled the host outside Shipshape: leave it as they set it, out of the pool. */
function standDownFor(r: RemediationState, reason: string, state: HostState): Promise<RemediationView> {
  r.touched = true;
  return r.finish('stood-down', reason, { after: state });
}

async function finishCancelled(r: RemediationState): Promise<RemediationView> {
  const state = await hostActions.auditHost(r.input.host).catch(() => null);
  const where = r.touched
    ? `host left out of the pool (compute service disabled), ${state ? `${state.serverCount} servers still on it` : 'server count unknown'}`
    : 'host left in service, untouched';
  const cancel = r.cancel;
  return r.finish('cancelled', `${cancel?.comment || 'cancelled'}; ${where}`, { ...personActor(cancel?.by), after: state ?? undefined });
}
