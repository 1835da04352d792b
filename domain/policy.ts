/**
 * The policy language's decisions, pure: which signals a policy covers, which
 * checks confirm a problem, and when a person must approve. Imported by the
 * API (matching, simulate) and the workflow (confirm, approval).
 */
import type { ApiRole, HostRole, HostState, Severity } from './types';

export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$/;

/** Parse an Alertmanager-style matcher such as `env="prod"` or `instance=~"cmp-.*"`; null if malformed. */
export function parseMatcher(text: string): LabelMatcher | null {
  const m = MATCHER.exec(text);
  if (!m) return null;
  const matcher = { name: m[1]!, op: m[2] as LabelMatcher['op'], value: m[3]!.replace(/\\(.)/g, '$1') };
  if (matcher.op === '=~' || matcher.op === '!~') {
    try {
      new RegExp(matcher.value);
    } catch {
      return null;
    }
  }
  return matcher;
}

/** As Alertmanager does: a missing label is the empty string, and regular expressions are anchored. */
export function labelMatches(m: LabelMatcher, labels: Record<string, string>): boolean {
  const value = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return new RegExp(`^(?:${m.value})$`).test(value);
    case '!~':
      return !new RegExp(`^(?:${m.value})$`).test(value);
  }
}

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

/** Every condition must hold: the signal's name is listed, every label matcher holds, and severity, role and zone are allowed. */
export function policyMatches(match: PolicyMatch, s: MatchInput): boolean {
  return (
    match.signals.includes(s.name) &&
    match.labels.every((m) => labelMatches(m, s.labels)) &&
    (match.severities === null || match.severities.includes(s.severity)) &&
    (match.roles === null || match.roles.some((r) => s.host.roles.includes(r))) &&
    (match.zones === null || match.zones.includes(s.host.zone))
  );
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
