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
const SETTLED = new Set<RuleCheck['state']>(['pass', 'not-applicable', 'waived']);

function fixText(fix: RuleFix): string {
  return 'ssh' in fix ? fix.ssh : `catalog action ${fix.action}`;
}

/** Fixes alike in what they disturb: what one policy decision (approval, drain) covers. */
const fixClass = (fix: RuleFix) => `${fix.disruption}/${fix.drain}`;

/** A rule that fails (or fails under a fix left pending by an earlier run) is what there is to fix. */
const stillFails = (c: RuleCheck) => (c.state === 'fail' || c.state === 'fix-pending') && c.result === 'fail';

async function recheck(r: RemediationState, profile: string, name: string, ruleIds?: string[]): Promise<RuleCheck[]> {
  return r.step(
    name,
    () => complianceChecks.recheckComplianceRules({ host: r.input.host, profile, ...(ruleIds ? { ruleIds } : {}) }),
    (checks) => {
      const failing = checks.filter(stillFails).map((c) => c.ruleId);
      return failing.length > 0 ? `failing: ${failing.join(', ')}` : `${checks.length} rules, none failing`;
    },
  );
}

/**
 * The rules this remediation fixes: the drift's own rule and every other rule
 * of its profile that fails on the host with a fix alike (same disruption,
 * same drain) — one approval, one lease, one drain and one rescan for all of
 * them, rather than one rule per scan. The drift's rule first.
 */
function batchOf(checks: readonly RuleCheck[], target: ComplianceTarget): { batch: RuleCheck[]; cls: string | null } {
  const own = checks.find((c) => c.ruleId === target.ruleId);
  if (!own?.fix) return { batch: [], cls: null };
  const cls = fixClass(own.fix);
  const batch = checks.filter((c) => stillFails(c) && c.fix && fixClass(c.fix) === cls);
  batch.sort((a, b) => (a.ruleId === target.ruleId ? -1 : b.ruleId === target.ruleId ? 1 : 0));
  return { batch, cls };
}

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
  const checks = await recheck(r, target.profile, `audit profile ${target.profile}`);
  const own = checks.find((c) => c.ruleId === target.ruleId);
  if (!own || SETTLED.has(own.state) || own.state === 'missing')
    return r.finish(
      'false-alarm',
      `${target.ruleId} on ${host} is ${own?.state ?? 'missing'} now: ${own?.reason ?? ''}`,
    );
  if (!own.fix)
    return gates.handOff(r, `${target.ruleId} fails on ${host} and its profile has no fix for it`, 'hand-off');
  if (!stillFails(own))
    return gates.handOff(
      r,
      `${target.ruleId} cannot be judged on ${host}, so it is not fixed: ${own.reason}`,
      'hand-off',
    );
  let { batch } = batchOf(checks, target);
  const fix = own.fix;
  await r.record({
    action: 'problem confirmed',
    reason: batch.map((c) => `${c.ruleId} (${c.title}): expected ${c.expected}; observed ${c.observed}`).join(' | '),
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

  // Right before acting: the host as a person may have left it, and the rules as they read now.
  const now = await r.step(
    're-check before the fix',
    () => hostActions.auditHost(host),
    (s) => healthSummary(s, r.checks),
  );
  const overrideNow = personOverride(now, DISABLE_REASON_PREFIX);
  if (overrideNow) return gates.standDownFor(r, overrideNow, now);
  const again = await recheck(
    r,
    target.profile,
    're-check the rules before the fix',
    batch.map((c) => c.ruleId),
  );
  batch = again.filter(stillFails);
  if (batch.length === 0)
    return r.finish('false-alarm', `${again.map((c) => `${c.ruleId} is ${c.state}`).join(', ')} on ${host} now`);
  for (const c of batch)
    await records.markComplianceFix({
      host,
      profile: target.profile,
      ruleId: c.ruleId,
      remediationId: r.input.remediationId,
    });

  const failures: string[] = [];
  try {
    if (drains) {
      await r.record({ action: 'drain needed', reason: drains });
      await drain(r);
    }
    await r.enterPhase('repairing', {
      action: 'fix started',
      reason: `${batch.map((c) => c.ruleId).join(', ')} (disruption ${fix.disruption})`,
    });
    for (const c of batch) {
      const failed = await applyFix(r, { profile: target.profile, ruleId: c.ruleId }, c.fix!);
      if (failed) failures.push(failed);
    }
    if (fix.disruption === 'reboot' && failures.length < batch.length) {
      const after = await r.step('reboot', () =>
        stepActions({ timeoutSeconds: 600 }).reboot({ host, timeoutSeconds: 600 }),
      );
      await r.record({ action: 'reboot', reason: `the fixes need a reboot (disruption reboot)`, after });
    }
  } catch (err) {
    if (isInterruption(err)) throw err;
    failures.push(describeFailure(err));
  }
  return verifyFix(r, target, gates, { ruleIds: batch.map((c) => c.ruleId), failures });
}

/** Run one rule's fix; returns why it failed, or null when it ran cleanly (a rescan still decides). */
async function applyFix(r: RemediationState, target: ComplianceTarget, fix: RuleFix): Promise<string | null> {
  const { host, remediationId } = r.input;
  if ('action' in fix) {
    const acts = stepActions({ timeoutSeconds: 600 });
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
  const printed = {
    rule: target.ruleId,
    exitCode: run.exitCode,
    stdout: run.stdout,
    stderr: run.stderr,
    truncated: run.truncated,
  };
  if (run.exitCode !== 0) {
    const why = run.exitCode === null ? `did not finish (${run.stderr})` : `exited ${run.exitCode}`;
    await r.record({ action: 'fix failed', reason: `${target.ruleId}: ${fixText(fix)} ${why}`, after: printed });
    return `the fix of ${target.ruleId} ${why}: ${run.stderr.trim() || run.stdout.trim() || 'no output'}`;
  }
  await r.record({ action: 'fix applied', reason: `${target.ruleId}: ${fixText(fix)} exited 0`, after: printed });
  return null;
}

/** What the fix tried: its rules, and the fixes that failed (why). */
export interface FixesTried {
  ruleIds: string[];
  failures: string[];
}

/**
 * Nothing counts as fixed until a rescan passes: the profile is read again up
 * to the policy's attempts, and every rule the fix tried must pass (or be
 * waived, or no longer apply). After an operator hands the host back (what
 * was tried is not carried across a long hand-off), that is the drift's own
 * rule and every rule with a fix alike that fails. Then the host returns
 * (enabled again when it was drained, after its health checks); otherwise —
 * or when a fix failed — it goes to an operator with what the rescan read,
 * and those findings show their result again (no longer `fix-pending`).
 */
export async function verifyFix(
  r: RemediationState,
  target: ComplianceTarget,
  gates: FixGates,
  tried: FixesTried | null = null,
): Promise<RemediationView> {
  const failures = tried?.failures ?? [];
  const { host, policy } = r.input;
  await r.enterPhase('verifying', {
    action: 'verification started',
    reason: `rescan profile ${target.profile}: up to ${policy.verify.attempts} reads, ${policy.verify.intervalSeconds}s apart`,
  });
  let open: RuleCheck[] = [];
  let checks: RuleCheck[] = [];
  const attempts = failures.length > 0 ? 1 : policy.verify.attempts; // a fix failed: read once, to record what it left
  for (let attempt = 1; attempt <= attempts; attempt++) {
    checks = await recheck(r, target.profile, `rescan (read ${attempt})`);
    const own = checks.find((c) => c.ruleId === target.ruleId);
    const cls = own?.fix ? fixClass(own.fix) : null;
    open = checks.filter((c) => {
      if (SETTLED.has(c.state)) return false;
      if (tried) return tried.ruleIds.includes(c.ruleId);
      return c.ruleId === target.ruleId || (stillFails(c) && cls !== null && c.fix !== null && fixClass(c.fix) === cls);
    });
    if (open.length === 0) break;
    if (attempt < attempts) await sleep(policy.verify.intervalSeconds * 1000);
  }
  if (failures.length > 0 || open.length > 0) {
    for (const c of checks.filter((x) => x.state === 'fix-pending'))
      await records.markComplianceFix({ host, profile: target.profile, ruleId: c.ruleId, remediationId: null });
    const reads =
      open.map((c) => `${c.ruleId} reads ${c.result ?? c.state}: ${c.reason}`).join('; ') ||
      'every rule tried reads pass now, but a fix that failed may not have taken full effect (a service not reloaded, say): check before handing back';
    // Fixed in place, the host never left the pool: its lease goes now, so one host waiting for a person does not
    // hold every other fix of the zone back. A drained host keeps its lease: it is out until it returns.
    if (!r.isOutOfPool) await records.releaseCapacity(r.input.remediationId);
    return gates.handOff(
      r,
      failures.length > 0 ? `${failures.join('; ')}; ${reads}` : `the fix did not hold: ${reads}`,
      'hand-off',
    );
  }

  if (r.isOutOfPool) {
    const health = await checkHeldHost(r, 'health before return');
    const problems = confirmedProblems(health, r.checks);
    if (problems.length > 0)
      return gates.handOff(r, `the rules pass, but the host is not healthy: ${problems.join('; ')}`, 'hand-off');
    await r.enterPhase('returning', { action: 'verification passed', reason: `the rules pass; host healthy` });
    try {
      await r.step('enable compute service', () => serviceToggles.enableCompute(host));
    } catch (err) {
      if (err instanceof PersonTookOver && !r.holdsHost)
        return gates.handOff(r, `not returned to the pool: ${err.message}`, 'hand-off');
      throw err;
    }
    r.returnToPool();
  } else {
    await r.record({ action: 'verification passed', reason: `the rules pass on ${host}` });
  }
  const own = checks.find((c) => c.ruleId === target.ruleId);
  return r.finish('returned', `${target.ruleId} passes after the fix: ${own?.reason ?? ''}`);
}
