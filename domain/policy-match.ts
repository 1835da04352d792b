/** Which policy a signal falls under. Pure, so the API, simulate and tests share it. */
import { policyMatches, type MatchInput, type PolicyMatch } from './policy';

export interface MatchablePolicy {
  name: string;
  match: PolicyMatch;
}

/** The first policy (in file order) whose match holds for the signal and its host, or null. */
export function matchPolicy<P extends MatchablePolicy>(policies: readonly P[], signal: MatchInput): P | null {
  return policies.find((p) => policyMatches(p.match, signal)) ?? null;
}
