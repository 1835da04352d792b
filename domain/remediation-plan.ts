/**
 * The remediation's decisions, pure and table-tested: whether a person
 * approves first and what happens if nobody does, how the host is emptied,
 * and how a host's state reads under the policy's checks. The workflow asks
 * these and acts; it decides nothing itself (Watcher's "decide, then act").
 */
import { approvalReason, confirmedProblems, type ConfirmCheck, type HostFacts } from './policy';
import { hostIsDown, type RemediationPolicy } from './remediation';
import { SEVERITIES, type HostState, type Severity } from './types';

/**
 * One line for a host's state under the checks: "healthy", or every problem
 * they confirm. What each audit, re-check and verification step shows.
 */
export function healthSummary(state: HostState, checks?: readonly ConfirmCheck[]): string {
  return confirmedProblems(state, checks).join('; ') || 'healthy';
}

export type ApprovalPlan =
  | { ask: false }
  | {
      ask: true;
      /** Why a person is asked, as the audit log and the notification say it. */
      why: string;
      /** What happens when nobody decides in time: hand to an operator, reject, or go on without one. */
      onTimeout: 'escalate' | 'reject' | 'proceed';
    };

/**
 * Does a person approve before the host is touched? Asked when the policy's
 * rule says so for these facts (always; or when the host carries more servers
 * than a limit, is in a listed zone, or the alert has a listed severity), or —
 * for runs whose policy predates rules — when the policy requires approval.
 * Nobody deciding in time escalates unless the rule says reject or proceed.
 */
export function approvalPlan(policy: Pick<RemediationPolicy, 'name' | 'approval'>, facts: HostFacts): ApprovalPlan {
  const rule = policy.approval.rule;
  const why = rule
    ? approvalReason(rule, facts)
    : policy.approval.required
      ? `policy ${policy.name} requires approval`
      : null;
  return why ? { ask: true, why, onTimeout: rule?.onTimeout ?? 'escalate' } : { ask: false };
}

/**
 * The severity Shipshape's own audit shows for a host, or null when it shows
 * none: critical when the host's health or its BMC's health is critical, or
 * the host is down (powered off, or its compute service down); warning when
 * either health is warning.
 */
export function auditedSeverity(state: HostState): Severity | null {
  const healths = [state.health, state.bmc?.status === 'read' ? state.bmc.health : 'ok'];
  if (healths.includes('critical') || hostIsDown(state)) return 'critical';
  if (healths.includes('warning')) return 'warning';
  return null;
}

/**
 * The severity an approval rule is evaluated on: the higher of what the alert
 * claims and what the audit shows. The claim comes from whoever sent the
 * alert, so it can only make approval stricter, never spare it.
 */
export function approvalSeverity(claimed: Severity, state: HostState): Severity {
  const audited = auditedSeverity(state);
  return audited && SEVERITIES.indexOf(audited) > SEVERITIES.indexOf(claimed) ? audited : claimed;
}

export interface DrainPlan {
  /** live: live-migrate every server; evacuate: fence the host that is down and rebuild its servers elsewhere. */
  move: 'live' | 'evacuate';
  /** The policy allows a cold migration for a server that cannot be live-migrated (live moves only). */
  coldFallback: boolean;
  /** Why a person must approve before the drain starts (an evacuation), or null. */
  askFirst: string | null;
}

/**
 * How to empty the host. Evacuate only when the policy says `when-host-down`,
 * evacuation is enabled for this run (a workflow patch: asked only then, so
 * runs from before it replay unchanged), and the host is down (compute
 * service down or powered off); a host that is up is live-migrated. An
 * evacuation rebuilds servers elsewhere, so a person approves it first unless
 * the policy says not to or a person already approved this remediation.
 */
export function drainPlan(
  drain: RemediationPolicy['drain'],
  state: HostState,
  context: { approved: boolean; evacuationEnabled: () => boolean },
): DrainPlan {
  if (drain.evacuate === 'when-host-down' && context.evacuationEnabled() && hostIsDown(state)) {
    const askFirst =
      drain.evacuationApproval !== false && !context.approved
        ? `${state.host} is down (power ${state.power}, compute service ${state.compute.up ? 'up' : 'down'}): its ${state.serverCount} servers would be evacuated, rebuilt on other hosts`
        : null;
    return { move: 'evacuate', coldFallback: false, askFirst };
  }
  return { move: 'live', coldFallback: drain.coldMigrationFallback === true, askFirst: null };
}
