/**
 * A compliance fix in the guarded host workflow: the remediation of a
 * `ComplianceDrift` signal. The rule is read again before anything is done
 * (it may pass by now, or be waived), a person approves when the policy says
 * so, the fleet's guards give a lease (windows, pause, blast radius: fixes in
 * place are bounded per zone like take-outs, without counting as hosts out),
 * the host is drained first when the fix needs it, the fix runs, and only a
 * rescan that passes says it worked. A fix that errors or does not hold goes
 * to an operator — and so to the alert inbox — with what it printed.
 */
import { sleep } from '@temporalio/workflow';
import { fixDrains, type ComplianceTarget } from '../domain/compliance-drift';
import type { RuleFix } from '../domain/compliance';
import { personOverride } from '../domain/health';
import { confirmedProblems } from '../domain/policy';
import { DISABLE_REASON_PREFIX, type RemediationView } from '../domain/remediation';
import { approvalPlan, drainPlan, healthSummary, type ApprovalPlan } from '../domain/remediation-plan';
import type { HostState } from '../domain/types';
import type { RuleCheck } from '../activities/compliance-fix';
import {
  complianceChecks,
  complianceFixes,
  hostActions,
  records,
  serviceToggles,
  stepActions,
} from './activity-profiles';
import { waitForCapacity } from './capacity';
import { describeFailure, isInterruption, PersonTookOver, type RemediationState } from './remediation-state';
import { checkHeldHost, drain } from './repair';

/** The remediation workflow's own gates, handed in (they live in remediation.ts, which calls this). */
export interface FixGates {
  approvalGate(r: RemediationState, plan: Extract<ApprovalPlan, { ask: true }>): Promise<RemediationView | null>;
  handOff(r: RemediationState, why: string, kind: 'hand-off' | 'approval-escalated'): Promise<RemediationView>;
  standDownFor(r: RemediationState, reason: string, state: HostState): Promise<RemediationView>;
}

/** Rule states that leave nothing to fix. */
const NOTHING_TO_FIX = new Set<RuleCheck['state']>(['pass', 'not-applicable', 'waived', 'missing']);

function fixText(fix: RuleFix): string {
  return 'ssh' in fix ? fix.ssh : `catalog action ${fix.action}`;
}

async function recheck(r: RemediationState, target: ComplianceTarget, name: string): Promise<RuleCheck> {
  return r.step(
    name,
    () => complianceChecks.recheckComplianceRule({ host: r.input.host, ...target }),
    (c) => `${target.ruleId} ${c.state}: ${c.reason}`,
  );
}

/** A rule that fails (or fails under a fix left pending by an earlier run) is what there is to fix. */
const stillFails = (c: RuleCheck) => (c.state === 'fail' || c.state === 'fix-pending') && c.result === 'fail';

export async function fixDrift(
  r: RemediationState,
  target: ComplianceTarget,
  gates: FixGates,
): Promise<RemediationView> {
  const { host, zone, policy, trigger } = r.input;
  await r.record({
    action: 'remediation started',
    reason: `${trigger.name} (${trigger.severity}) for ${target.ruleId} of profile ${target.profile} matched policy ${policy.name}`,
  });
  const state = await r.step(
    'audit',
    () => hostActions.auditHost(host),
    (s) => healthSummary(s, r.checks),
  );
  const override = personOverride(state, DISABLE_REASON_PREFIX);
  if (override) return gates.standDownFor(r, override, state);
  const first = await recheck(r, target, 'audit the rule');
  if (NOTHING_TO_FIX.has(first.state))
    return r.finish('false-alarm', `${target.ruleId} on ${host} is ${first.state} now: ${first.reason}`);
  if (!stillFails(first))
    return gates.handOff(
      r,
      `${target.ruleId} cannot be judged on ${host}, so it is not fixed: ${first.reason}`,
      'hand-off',
    );
  const fix = first.fix;
  if (!fix) return gates.handOff(r, `${target.ruleId} fails on ${host} and its profile has no fix for it`, 'hand-off');
  await r.record({
    action: 'problem confirmed',
    reason: `${first.title}: expected ${first.expected}; observed ${first.observed}`,
  });

  const approval = approvalPlan(policy, { zone, serverCount: state.serverCount, severity: trigger.severity });
  const refused = approval.ask ? await gates.approvalGate(r, approval) : null;
  if (refused) return refused;

  const drains = fixDrains(fix, state.serverCount);
  if (drains) {
    r.planDrain(drainPlan(policy.drain, state, { approved: false, evacuationEnabled: () => false }));
    const repeat = await records.checkRepeatOffence({
      remediationId: r.input.remediationId,
      host,
      policyGuards: policy.guards,
    });
    if (repeat) return gates.handOff(r, repeat, 'hand-off');
  }
  const waited = await waitForCapacity(r, { inPlace: !drains });
  if (waited !== null) return gates.handOff(r, waited, 'hand-off');

  // Right before acting: the host as a person may have left it, and the rule as it reads now.
  const now = await r.step(
    're-check before the fix',
    () => hostActions.auditHost(host),
    (s) => healthSummary(s, r.checks),
  );
  const overrideNow = personOverride(now, DISABLE_REASON_PREFIX);
  if (overrideNow) return gates.standDownFor(r, overrideNow, now);
  const before = await recheck(r, target, 're-check the rule before the fix');
  if (!stillFails(before))
    return r.finish('false-alarm', `${target.ruleId} on ${host} is ${before.state} now: ${before.reason}`);
  await records.markComplianceFix({ host, ...target, remediationId: r.input.remediationId });

  let failure: string | null = null;
  try {
    if (drains) {
      await r.record({ action: 'drain needed', reason: drains });
      await drain(r);
    }
    failure = await applyFix(r, target, fix);
  } catch (err) {
    if (isInterruption(err)) throw err;
    failure = describeFailure(err);
  }
  return verifyFix(r, target, gates, failure);
}

/** Run the fix (and the reboot it declares); returns why it failed, or null when it ran cleanly. */
async function applyFix(r: RemediationState, target: ComplianceTarget, fix: RuleFix): Promise<string | null> {
  const { host, remediationId } = r.input;
  await r.enterPhase('repairing', {
    action: 'fix started',
    reason: `${target.ruleId}: ${fixText(fix)} (disruption ${fix.disruption})`,
  });
  const acts = stepActions({ timeoutSeconds: 600 });
  if ('action' in fix) {
    const after = await r.step(fix.action, () =>
      fix.action === 'power-cycle'
        ? acts.powerCycle({ host, timeoutSeconds: 600 })
        : fix.action === 'reboot'
          ? acts.reboot({ host, timeoutSeconds: 600 })
          : acts.restartComputeService(host),
    );
    await r.record({ action: fix.action, reason: `fix of ${target.ruleId}`, after });
    return null;
  }
  const run = await r.step(
    `fix ${target.ruleId}`,
    () => complianceFixes.applyComplianceFix({ host, ...target, remediationId }),
    (x) => (x.exitCode === null ? `did not finish: ${x.stderr}` : `exit ${x.exitCode}`),
  );
  const printed = { exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr, truncated: run.truncated };
  if (run.exitCode !== 0) {
    const why = run.exitCode === null ? `did not finish (${run.stderr})` : `exited ${run.exitCode}`;
    await r.record({ action: 'fix failed', reason: `${fix.ssh} ${why}`, after: printed });
    return `the fix ${why}: ${run.stderr.trim() || run.stdout.trim() || 'no output'}`;
  }
  await r.record({ action: 'fix applied', reason: `${fix.ssh} exited 0`, after: printed });
  if (fix.disruption === 'reboot') {
    const after = await r.step('reboot', () => acts.reboot({ host, timeoutSeconds: 600 }));
    await r.record({ action: 'reboot', reason: `the fix of ${target.ruleId} needs a reboot`, after });
  }
  return null;
}

/**
 * Nothing counts as fixed until a rescan passes: the rule is read again up to
 * the policy's attempts. A pass returns the host (enabled again when it was
 * drained, after its health checks); anything else — or a fix that failed —
 * hands the host to an operator with what the rescan read, and the finding
 * shows its result again (no longer `fix-pending`). Also the path after an
 * operator hands the host back.
 */
export async function verifyFix(
  r: RemediationState,
  target: ComplianceTarget,
  gates: FixGates,
  failure: string | null = null,
): Promise<RemediationView> {
  const { host, policy } = r.input;
  await r.enterPhase('verifying', {
    action: 'verification started',
    reason: `rescan ${target.ruleId}: up to ${policy.verify.attempts} reads, ${policy.verify.intervalSeconds}s apart`,
  });
  let last: RuleCheck | null = null;
  const attempts = failure ? 1 : policy.verify.attempts; // a failed fix: read once, to record what it left
  for (let attempt = 1; attempt <= attempts; attempt++) {
    last = await recheck(r, target, `rescan (read ${attempt})`);
    if (last.state === 'pass' || last.state === 'not-applicable' || last.state === 'waived') break;
    if (attempt < attempts) await sleep(policy.verify.intervalSeconds * 1000);
  }
  const passed = last !== null && (last.state === 'pass' || last.state === 'not-applicable' || last.state === 'waived');
  if (failure || !passed) {
    await records.markComplianceFix({ host, ...target, remediationId: null });
    const reads = last ? `${target.ruleId} reads ${last.result ?? last.state}: ${last.reason}` : `${target.ruleId} was not read`;
    return gates.handOff(r, failure ? `${failure}; ${reads}` : `the fix did not hold: ${reads}`, 'hand-off');
  }

  if (r.isOutOfPool) {
    const health = await checkHeldHost(r, 'health before return');
    const problems = confirmedProblems(health, r.checks);
    if (problems.length > 0)
      return gates.handOff(
        r,
        `${target.ruleId} passes, but the host is not healthy: ${problems.join('; ')}`,
        'hand-off',
      );
    await r.enterPhase('returning', { action: 'verification passed', reason: `${target.ruleId} passes; host healthy` });
    try {
      await r.step('enable compute service', () => serviceToggles.enableCompute(host));
    } catch (err) {
      if (err instanceof PersonTookOver && !r.holdsHost)
        return gates.handOff(r, `not returned to the pool: ${err.message}`, 'hand-off');
      throw err;
    }
    r.returnToPool();
  } else {
    await r.record({ action: 'verification passed', reason: `${target.ruleId} passes` });
  }
  return r.finish('returned', `${target.ruleId} passes after the fix: ${last!.reason}`);
}
