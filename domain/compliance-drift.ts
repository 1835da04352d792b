/**
 * Drift to fix: a failing compliance rule that has a fix becomes a signal
 * (`ComplianceDrift`) like any alert, so a policy decides whether and how it
 * is fixed — through the guarded host workflow — and the inbox shows it when
 * no policy does or the fix does not hold. Pure: which findings raise or
 * resolve a drift signal, and what the signal carries.
 */
import type { Judgement } from './compliance-findings';
import type { ComplianceRule, Disruption } from './compliance';
import type { Severity } from './types';

/** The signal a failing rule with a fix raises; policies match it by this name. */
export const COMPLIANCE_DRIFT_SIGNAL = 'ComplianceDrift';
/** The signals' `source`, and who a drift remediation is requested by. */
export const COMPLIANCE_SOURCE = 'compliance';

/** Which rule a drift remediation fixes: travels in the remediation's input. */
export interface ComplianceTarget {
  profile: string;
  ruleId: string;
}

/** One drift signal to record (the worker records it queued; the API's redispatcher delivers it). */
export interface DriftSignal {
  host: string;
  status: 'firing' | 'resolved';
  severity: Severity;
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** One alert per host and rule: every scan that finds the rule failing repeats it, so it joins what is open. */
export function driftFingerprint(host: string, profile: string, ruleId: string): string {
  return `compliance/${host}/${profile}/${ruleId}`;
}

/** The rule a drift signal names, or null when the labels do not name one (a hand-made signal, say). */
export function fixTargetOf(name: string, labels: Readonly<Record<string, string>>): ComplianceTarget | null {
  if (name !== COMPLIANCE_DRIFT_SIGNAL) return null;
  const profile = labels['profile'];
  const ruleId = labels['rule'];
  return profile && ruleId ? { profile, ruleId } : null;
}

/** The states a finding leaves drift behind in: it passes, is accepted (waived), or no longer applies. */
const DRIFT_OVER = new Set(['pass', 'waived', 'not-applicable']);

/**
 * The drift signals a host's recorded results raise:
 * - `firing` for each finding that is `fail` and whose rule has a fix — on every scan while it fails, so
 *   a signal lost or decided before a policy existed is raised again, and a repeat joins what is open;
 * - `resolved` for each finding that was `fail` or `fix-pending` and now passes, is waived or no longer
 *   applies, so the alert and its inbox item close.
 * A finding in `error` raises nothing: a rule that cannot be read is not known to drift.
 */
export function driftSignals(
  judgements: readonly Judgement[],
  rules: ReadonlyMap<string, Pick<ComplianceRule, 'id' | 'title' | 'fix'>>,
): DriftSignal[] {
  const signals: DriftSignal[] = [];
  for (const { finding, change } of judgements) {
    const rule = rules.get(ruleKey(finding.profile, finding.ruleId));
    if (!rule?.fix) continue;
    const firing = finding.state === 'fail';
    const over =
      change !== null && DRIFT_OVER.has(change.to) && (change.from === 'fail' || change.from === 'fix-pending');
    if (!firing && !over) continue;
    signals.push({
      host: finding.host,
      status: firing ? 'firing' : 'resolved',
      severity: finding.severity,
      fingerprint: driftFingerprint(finding.host, finding.profile, finding.ruleId),
      labels: {
        alertname: COMPLIANCE_DRIFT_SIGNAL,
        profile: finding.profile,
        rule: finding.ruleId,
        disruption: rule.fix.disruption satisfies Disruption,
        drain: String(rule.fix.drain),
        severity: finding.severity,
      },
      annotations: {
        summary: `${finding.host}: ${rule.title} (${finding.ruleId}) ${firing ? 'fails' : `is ${finding.state}`}`,
        description: firing ? `expected ${finding.expected}; observed ${finding.observed}` : finding.reason,
      },
    });
  }
  return signals;
}

/** The key `driftSignals` looks rules up by. */
export function ruleKey(profile: string, ruleId: string): string {
  return `${profile}\u0000${ruleId}`;
}

/**
 * Whether a fix empties the host first: when its rule says so, and always
 * before a reboot of a host that has servers — a reboot under running
 * servers would stop every tenant on it.
 */
export function fixDrains(fix: { disruption: Disruption; drain: boolean }, serverCount: number): string | null {
  if (fix.drain) return 'the rule says the fix needs the host drained';
  if (fix.disruption === 'reboot' && serverCount > 0)
    return `the fix reboots the host and ${serverCount} servers run on it`;
  return null;
}
