/** Which policy a signal falls under. Pure, so the API and tests share it. */

export interface MatchablePolicy {
  name: string;
  signals: string[];
}

/**
 * The first policy (in file order) whose signal list names the signal, or
 * null. A resolved signal never starts anything, but it is still matched so
 * its record says which policy it belonged to.
 */
export function matchPolicy<P extends MatchablePolicy>(policies: readonly P[], signalName: string): P | null {
  return policies.find((p) => p.signals.includes(signalName)) ?? null;
}
