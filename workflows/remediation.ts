/**
 * One remediation of one host: audit → (approval) → drain → repair → verify →
 * return. Any failure hands the host to an operator, who hands it back when
 * they have fixed it; Shipshape then verifies and returns it. The workflow ID
 * is derived from the host, so a host has one remediation at a time.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
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
import { confirmedProblems } from '../domain/policy';
import { DISABLE_REASON_PREFIX, type RemediationInput, type RemediationView } from '../domain/remediation';
import {
  approvalPlan,
  approvalSeverity,
  drainPlan,
  healthSummary,
  type ApprovalPlan,
} from '../domain/remediation-plan';
import type { HostState } from '../domain/types';
import type { ComputeToggle } from '../activities/host-actions';
import { decisions, hostActions, records, serviceToggles } from './activity-profiles';
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
import { fixDrift, verifyFix, type FixGates } from './compliance-fix';
import { PATCH } from './patches';
import { checkHeldHost, drainAndClimbLadder, drainAndRepair, fenceStaysOn, liftFence, tryLiftFence } from './repair';

export interface RemediationWorkflowInput extends RemediationInput {
  /** Set only when a long hand-off continued as new. */
  resume?: ResumeState;
  /** The API's signature over the workflow ID and the input without `resume` (see verifyStarted). */
  startSignature?: string;
}

export async function remediationWorkflow(input: RemediationWorkflowInput): Promise<RemediationView> {
  const r = new RemediationState(input, input.resume);
  r.registerHandlers();
  if (patched(PATCH.signedStart)) await verifyStarted(input);
  let view: RemediationView;
  try {
    view = await handOffOnFailure(r, input.resume ? () => resumeHandOff(r) : () => remediate(r));
  } catch (err) {
    if (err instanceof RemediationCancelled) {
      view = await finishCancelled(r);
    } else if (err instanceof PersonTookOver) {
      view = await standDownTakenOver(r, err);
    } else if (isCancellation(err)) {
      r.cancelledInTemporal();
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
 * Only the API starts a remediation: anyone else with access to Temporal could
 * choose the policy (one without approval, say). The worker checks the API's
 * signature over the workflow ID and the input; a run that fails the check
 * fails at once, before anything is recorded or touched. A run continued as
 * new from a hand-off carries its first run's signature; one that continued
 * from a run started before this check (no signature) is accepted only as a
 * continuation, which no client can start.
 */
async function verifyStarted(input: RemediationWorkflowInput): Promise<void> {
  const { resume: _resume, startSignature, ...started } = input;
  if (!startSignature && input.resume && workflowInfo().continuedFromExecutionRunId) return;
  try {
    await decisions.verifyStart({ workflowId: workflowInfo().workflowId, input: started, signature: startSignature });
  } catch (err) {
    throw err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : err;
  }
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

/** The remediation workflow's gates, for the compliance fix's path. */
const FIX_GATES: FixGates = { approvalGate, handOff: handOffUntilReturned, standDownFor };

async function remediate(r: RemediationState): Promise<RemediationView> {
  if (r.input.complianceFix) return fixDrift(r, r.input.complianceFix, FIX_GATES);
  const { host, zone, policy, trigger } = r.input;
  await r.record({
    action: 'remediation started',
    reason: `${trigger.name} (${trigger.severity}) matched policy ${policy.name}`,
  });

  // Confirm before acting: re-read the host's real state.
  const state = await r.step(
    'audit',
    () => hostActions.auditHost(host),
    (s) => healthSummary(s, policy.confirm),
  );
  const problems = confirmedProblems(state, policy.confirm);
  if (problems.length === 0)
    return r.finish('false-alarm', `${host} is healthy: power ${state.power}, health ${state.health}`, {
      after: state,
    });
  const override = r.guarded ? personOverride(state, DISABLE_REASON_PREFIX) : null;
  if (override) return standDownFor(r, override, state);
  await r.record({ action: 'problem confirmed', reason: problems.join('; '), after: state });
  const repeat = r.guarded
    ? await records.checkRepeatOffence({ remediationId: r.input.remediationId, host, policyGuards: policy.guards })
    : null;
  if (repeat) return handOffUntilReturned(r, repeat, 'hand-off');

  // A person approves first, if the policy says so for this host and alert. The alert's severity is the
  // sender's claim: it can raise the severity the rule sees above what the audit shows, never lower it.
  const severity = patched(PATCH.approvalOnAuditedSeverity)
    ? approvalSeverity(trigger.severity, state)
    : trigger.severity;
  const approval = approvalPlan(policy, { zone, serverCount: state.serverCount, severity });
  const refused = approval.ask ? await approvalGate(r, approval) : null;
  if (refused) return refused;

  // A host that is down can only be emptied by evacuation: a person approves that first (unless the policy says not to).
  r.planDrain(
    drainPlan(policy.drain, state, {
      approved: r.approvalDecision?.decision === 'approved',
      evacuationEnabled: () => patched(PATCH.evacuation),
    }),
  );
  const notEvacuated = r.drainPlan.askFirst ? await evacuationGate(r, r.drainPlan.askFirst) : null;
  if (notEvacuated) return notEvacuated;

  // Bounded blast radius: a lease from the fleet-wide guards, then a fresh look at the host.
  const held = r.guarded ? await capacityGate(r) : null;
  if (held) return held;

  const failure =
    policy.ladder && patched(PATCH.repairLadder)
      ? await drainAndClimbLadder(r, policy.ladder)
      : await drainAndRepair(r);
  if (failure) return handOffUntilReturned(r, failure, 'hand-off');
  return verifyAndReturn(r);
}

/** Ask the policy's approvers; returns how the remediation ended when they (or the clock) say no, else null. */
async function approvalGate(
  r: RemediationState,
  plan: Extract<ApprovalPlan, { ask: true }>,
): Promise<RemediationView | null> {
  const answer = await awaitApproval(r, plan.why);
  if (answer === 'rejected')
    return r.finish('rejected', r.approvalDecision?.comment || 'rejected', personActor(r.approvalDecision?.by));
  if (answer === 'approved') return null;
  const waited = `no approver decided within ${r.input.policy.approval.timeoutSeconds}s`;
  if (plan.onTimeout === 'reject') return r.finish('rejected', `${waited}; the policy rejects on timeout`);
  if (plan.onTimeout === 'escalate') return handOffUntilReturned(r, waited, 'approval-escalated');
  await r.record({ action: 'approval timed out', reason: `${waited}; the policy proceeds on timeout` });
  return null;
}

/** An evacuation rebuilds servers elsewhere: a person approves it before the host is touched. */
async function evacuationGate(r: RemediationState, why: string): Promise<RemediationView | null> {
  const answer = await awaitApproval(r, why);
  if (answer === 'rejected')
    return r.finish(
      'rejected',
      r.approvalDecision?.comment || 'evacuation rejected',
      personActor(r.approvalDecision?.by),
    );
  if (answer === 'timed-out') {
    return handOffUntilReturned(
      r,
      `no approver decided on evacuating ${r.input.host} within ${r.input.policy.approval.timeoutSeconds}s`,
      'approval-escalated',
    );
  }
  return null;
}

/**
 * Take a lease on the fleet's capacity (waiting while a guard says no), then
 * confirm again before the host is taken out: waiting may have taken a while.
 */
async function capacityGate(r: RemediationState): Promise<RemediationView | null> {
  const { host } = r.input;
  const waited = await waitForCapacity(r);
  if (waited !== null) return handOffUntilReturned(r, waited, 'hand-off');
  const now = await r.step(
    're-check before drain',
    () => hostActions.auditHost(host),
    (s) => healthSummary(s, r.checks),
  );
  const override = personOverride(now, DISABLE_REASON_PREFIX);
  if (override) return standDownFor(r, override, now);
  if (confirmedProblems(now, r.checks).length === 0)
    return r.finish('false-alarm', `${host} recovered while waiting: power ${now.power}, health ${now.health}`, {
      after: now,
    });
  return null;
}

async function awaitApproval(r: RemediationState, why: string): Promise<'approved' | 'rejected' | 'timed-out'> {
  const timeoutMs = r.input.policy.approval.timeoutSeconds * 1000;
  r.askingApproval(timeoutMs);
  await r.enterPhase('awaiting-approval', { action: 'approval requested', reason: why });
  await notify(r, 'approval-requested', `approve or reject remediation of ${r.input.host}`);
  const decided = await condition(() => r.approvalDecision !== null || r.cancelRequested, timeoutMs);
  r.approvalClosed();
  r.throwIfCancelled();
  const approval = r.approvalDecision;
  if (!decided || !approval) return 'timed-out';
  await r.record({
    ...personActor(approval.by),
    action: approval.decision,
    reason: approval.comment || approval.decision,
  });
  return approval.decision;
}

/** Bounded post-checks; return the host to the pool only if they pass. */
async function verifyAndReturn(r: RemediationState): Promise<RemediationView> {
  const { host, policy } = r.input;
  await r.enterPhase('verifying', {
    action: 'verification started',
    reason: `${policy.verify.attempts} checks, ${policy.verify.intervalSeconds}s apart`,
  });
  let problems: string[] = [];
  for (let attempt = 1; attempt <= policy.verify.attempts; attempt++) {
    const state = await checkHeldHost(r, `verify (check ${attempt})`);
    problems = confirmedProblems(state, r.checks);
    if (problems.length === 0) break;
    if (attempt < policy.verify.attempts) await sleep(policy.verify.intervalSeconds * 1000);
  }
  if (problems.length > 0) return handOffUntilReturned(r, `verification failed: ${problems.join('; ')}`, 'hand-off');

  // A fence Nova would not lift right after the evacuation: the host has rebooted since, so lift it now or hand off.
  if (r.isFenced && !(await liftFence(r, 'the host is healthy again', 180))) {
    return handOffUntilReturned(
      r,
      `Nova keeps ${host} forced down: its nova-compute has not restarted since the evacuation`,
      'hand-off',
    );
  }
  await r.enterPhase('returning', { action: 'verification passed', reason: 'host healthy' });
  let toggle: ComputeToggle;
  try {
    toggle = await r.step('enable compute service', () => serviceToggles.enableCompute(host));
  } catch (err) {
    // Handed back, but a person's disable or maintenance is still on it: theirs to lift, then hand back again.
    if (err instanceof PersonTookOver && !r.holdsHost)
      return handOffUntilReturned(r, `not returned to the pool: ${err.message}`, 'hand-off');
    throw err;
  }
  r.returnToPool();
  return r.finish('returned', 'verified healthy and returned to the pool', {
    before: toggle.before,
    after: toggle.after,
  });
}

/**
 * Hand the host to an operator; when they hand it back, verify and return it.
 * Shipshape's own fence is lifted first when Nova allows it, and a fence that
 * stays on is named in the reason the operator is sent.
 */
async function handOffUntilReturned(
  r: RemediationState,
  why: string,
  kind: 'hand-off' | 'approval-escalated',
): Promise<RemediationView> {
  let reason = why;
  if (r.isFenced && patched(PATCH.liftFenceBeforeChecks) && !(await tryLiftFence(r, 'handing the host to an operator')))
    reason += `; ${fenceStaysOn(r.input.host)}`;
  r.handOff(reason);
  await r.enterPhase('awaiting-operator', { action: 'handed off to an operator', reason });
  await notify(r, kind, reason);
  return resumeHandOff(r);
}

async function resumeHandOff(r: RemediationState): Promise<RemediationView> {
  await condition(() => r.handBackRequested || r.cancelRequested || workflowInfo().continueAsNewSuggested);
  r.throwIfCancelled();
  if (!r.handBackRequested) {
    // A hand-off can wait for days and gather alerts; keep the history short.
    await condition(allHandlersFinished);
    return continueAsNew<typeof remediationWorkflow>({ ...r.input, resume: r.resumeState() });
  }
  const { by, comment, fixedBy } = r.takeHandBack();
  await r.record({
    ...personActor(by),
    action: 'handed back',
    reason: comment || 'operator handed the host back',
    after: fixedBy ? { fixedBy } : undefined,
  });
  // A compliance fix handed back is verified by rescanning its rule, as after the fix itself.
  if (r.input.complianceFix) return verifyFix(r, r.input.complianceFix, FIX_GATES);
  return verifyAndReturn(r);
}

/**
 * A person took the host over while Shipshape held it: leave it as they set
 * it, lifting only Shipshape's own fence (or saying that it stays).
 */
async function standDownTakenOver(r: RemediationState, err: PersonTookOver): Promise<RemediationView> {
  r.leftAsPersonSet(err.computeEnabled);
  let reason = err.message;
  if (r.isFenced && patched(PATCH.liftFenceBeforeChecks) && !(await tryLiftFence(r, 'a person took the host over')))
    reason += `; ${fenceStaysOn(r.input.host)}`;
  if (r.isOutOfPool && !err.computeEnabled)
    reason += '; the host stays out of the pool: its compute service stays disabled until a person enables it';
  return r.finish('stood-down', reason);
}

/** A person disabled the host outside Shipshape: leave it as they set it, out of the pool. */
function standDownFor(r: RemediationState, reason: string, state: HostState): Promise<RemediationView> {
  r.leftAsPersonSet(false); // they disabled it: out of the pool, theirs
  return r.finish('stood-down', reason, { after: state });
}

async function finishCancelled(r: RemediationState): Promise<RemediationView> {
  const state = await hostActions.auditHost(r.input.host).catch(() => null);
  const where = r.isOutOfPool
    ? `host left out of the pool (compute service disabled), ${state ? `${state.serverCount} servers still on it` : 'server count unknown'}`
    : 'host left in service, untouched';
  const cancel = r.cancellation;
  return r.finish('cancelled', `${cancel?.comment || 'cancelled'}; ${where}`, {
    ...personActor(cancel?.by),
    after: state ?? undefined,
  });
}
