/** The judgement of one check, before it is named by its rule: shared by the checks of each rule kind. */

export interface Verdict {
  state: 'pass' | 'fail' | 'error' | 'not-applicable';
  expected: string;
  observed: string;
  reason: string;
}

export const passes = (expected: string, observed: string, reason: string): Verdict => ({
  state: 'pass',
  expected,
  observed,
  reason,
});
export const fails = (expected: string, observed: string, reason: string): Verdict => ({
  state: 'fail',
  expected,
  observed,
  reason,
});
/** The evidence cannot decide the rule: missing, cut short, or not what the check reads. */
export const cannotJudge = (expected: string, reason: string, observed = ''): Verdict => ({
  state: 'error',
  expected,
  observed,
  reason,
});
