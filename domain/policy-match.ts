/** Which policy a signal falls under. Pure, so the API, simulate and tests share it. */
import { labelMatches } from './label-matcher';
import type { MatchInput, PolicyMatch } from './policy';

export interface MatchablePolicy {
  name: string;
  match: PolicyMatch;
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

/** The first policy (in file order) whose match holds for the signal and its host, or null. */
export function matchPolicy<P extends MatchablePolicy>(policies: readonly P[], signal: MatchInput): P | null {
  return policies.find((p) => policyMatches(p.match, signal)) ?? null;
}
