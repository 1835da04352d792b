/**
 * The policy language's decisions, pure: which signals a policy covers, which
 * checks confirm a problem, and when a person must approve. Imported by the
 * API (matching, simulate) and the workflow (confirm, approval). Label
 * matchers are read and tested in domain/label-matcher.ts, matching in
 * domain/policy-match.ts: the workflow bundle needs neither.
 */
import type { LabelMatcher } from './label-matcher';
import type { ApiRole, HostRole, HostState, Severity } from './types';

export interface PolicyMatch {
  signals: string[];
  labels: LabelMatcher[];
  severities: Severity[] | null;
  roles: HostRole[] | null;
  zones: string[] | null;
}

export interface MatchInput {
  name: string;
  labels: Record<string, string>;
  severity: Severity;
  host: { zone: string; roles: string[] };
}

export const CONFIRM_CHECKS = ['host-health', 'power', 'compute-service', 'bmc-health', 'bmc-reachable'] as const;
export type ConfirmCheck = (typeof CONFIRM_CHECKS)[number];
/** What a policy confirms with when it names no checks: the provider's view of the host. */
export const DEFAULT_CONFIRM_CHECKS: readonly ConfirmCheck[] = ['host-health', 'power', 'compute-service'];

/**
 * The problems a host's real state shows, limited to the checks a policy
 * asks for. Triggers: health not ok (with the provider's reasons); power off
 * or unknown; compute service down; the BMC's own health (temperatures,
 * power supplies, memory errors, health rollup) not ok; the BMC cannot be
 * read. None of them: a false alarm.
 */
export function confirmedProblems(
  state: HostState,
  checks: readonly ConfirmCheck[] = DEFAULT_CONFIRM_CHECKS,
): string[] {
  const problems: string[] = [];
  if (checks.includes('host-health') && state.health !== 'ok') {
    problems.push(`health ${state.health}${state.healthReasons.length ? `: ${state.healthReasons.join('; ')}` : ''}`);
  }
  if (checks.includes('power') && state.power !== 'on') problems.push(`power ${state.power}`);
  if (checks.includes('compute-service') && !state.compute.up) problems.push('compute service down');
  const bmc = state.bmc;
  if (
    checks.includes('bmc-health') &&
    bmc?.status === 'read' &&
    (bmc.health === 'warning' || bmc.health === 'critical')
  ) {
    problems.push(`BMC ${bmc.health}: ${bmc.reasons.join('; ')}`);
  }
  if (checks.includes('bmc-reachable') && bmc?.status === 'failed')
    problems.push(bmc.reasons.join('; ') || 'BMC cannot be read');
  return problems;
}

export interface ApprovalRule {
  mode: 'never' | 'always' | 'when';
  /** With mode `when`: approval is asked if any of these holds. */
  when?: { serversMoreThan?: number; zones?: string[]; severities?: Severity[] };
  approverRoles: ApiRole[];
  timeoutSeconds: number;
  onTimeout: 'escalate' | 'reject' | 'proceed';
}

export interface HostFacts {
  zone: string;
  serverCount: number;
  severity: Severity;
}

/** Does this remediation need a person's approval, and why? null when it does not. */
export function approvalReason(rule: ApprovalRule, facts: HostFacts): string | null {
  if (rule.mode === 'never') return null;
  if (rule.mode === 'always') return 'the policy always asks for approval';
  const w = rule.when ?? {};
  if (w.serversMoreThan !== undefined && facts.serverCount > w.serversMoreThan)
    return `${facts.serverCount} servers on the host (more than ${w.serversMoreThan})`;
  if (w.zones?.includes(facts.zone)) return `zone ${facts.zone} asks for approval`;
  if (w.severities?.includes(facts.severity)) return `severity ${facts.severity} asks for approval`;
  return null;
}
