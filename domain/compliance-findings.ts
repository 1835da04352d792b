/**
 * Compliance findings and waivers: the pure lifecycle.
 *
 * A finding is the standing judgement of one rule on one host, keyed by
 * (host, profile, ruleId). Each scan's `RuleResult` moves it on with
 * `nextFinding`; a waiver approved (or revoked, or expired) moves it on with
 * `reviewExpiry`, without a new result. Nothing here reads a clock: `now` is
 * always passed in.
 *
 * The state, from the result and what surrounds it, first match wins:
 * - `pass`: the result passed. This alone clears a fix under way: a fix is
 *   never "fixed" because it ran, only because a later scan passed.
 * - `not-applicable`: the rule does not apply to the host.
 * - `fix-pending`: the result is `fail` or `error` while a fix is under way
 *   (`fixRemediationId` set by the fix workflow; an `error` during a fix is
 *   usually the host rebooting for it). The underlying result stays visible.
 * - `waived`: the result is `fail` and an approved, unexpired waiver covers
 *   the finding. The underlying result and evidence stay visible.
 * - `fail` / `error`: the result as it is. An `error` (the rule could not be
 *   judged) is never waived: a waiver accepts a known risk, not an unknown.
 */

import { SEVERITIES, type Severity } from './types';

import { FINDING_STATES, type FindingState, type RuleResult } from './compliance';

export { FINDING_STATES, type FindingState, type RuleResult };

export const RESULT_STATES = ['pass', 'fail', 'error', 'not-applicable'] as const;
export type ResultState = RuleResult['state'];

/** How bad a failing rule is: the rule file's `severity`, on the scale signals use (domain/types.ts). */
export const RULE_SEVERITIES = SEVERITIES;
export type RuleSeverity = Severity;

export interface FindingKey {
  host: string;
  profile: string;
  ruleId: string;
}

export interface Finding extends FindingKey {
  state: FindingState;
  /** The last scan's own result, under a `waived` or `fix-pending` state. */
  resultState: ResultState;
  severity: RuleSeverity;
  /** Evidence: what the rule expects, what was read, and the judgement's reason. */
  expected: string;
  observed: string;
  reason: string;
  firstSeen: Date;
  /** The last scan that judged this rule on this host. */
  lastSeen: Date;
  /** When `state` last changed. */
  lastChanged: Date;
  /** The waiver that makes it `waived`; null otherwise. */
  waiverId: string | null;
  /** The fix under way (its remediation id) until a scan passes or the fix workflow clears it. */
  fixRemediationId: string | null;
}

/** One line of a finding's history: written when, and only when, its state changes. */
export interface FindingChange extends FindingKey {
  at: Date;
  from: FindingState | null;
  to: FindingState;
  resultState: ResultState;
  severity: RuleSeverity;
  observed: string;
  waiverId: string | null;
  /** Why it changed, in words. */
  reason: string;
}

export interface Judgement {
  finding: Finding;
  /** Null when the state did not change. */
  change: FindingChange | null;
}

/** One rule's result on one host, as a scan hands it over. */
export interface Observation {
  host: string;
  profile: string;
  severity: RuleSeverity;
  result: RuleResult;
  /**
   * The fix workflow's flag: a remediation id while a fix is under way, null
   * when the fix is over without a pass (the finding returns to its result),
   * undefined to keep what the previous finding had.
   */
  fixRemediationId?: string | null;
}

// ---------------------------------------------------------------- waivers

export const WAIVER_STATES = ['requested', 'approved', 'rejected', 'revoked'] as const;
export type WaiverState = (typeof WAIVER_STATES)[number];

/** How far ahead a waiver may expire: a risk is accepted for a year at most, then looked at again. */
export const MAX_WAIVER_DAYS = 365;
/** A waiver's host `*` covers every host. */
export const ALL_HOSTS = '*';

export interface WaiverScope {
  /** A host id, or `*` for every host. */
  host: string;
  profile: string;
  /** A rule id (`os.ssh-root-login-off`), a prefix ending in `*` (`os.ssh-*`), or `*` for every rule of the profile. */
  rule: string;
}

export interface WaiverRequest extends WaiverScope {
  reason: string;
  riskAcceptance: string;
  expiresAt: Date;
}

export interface Waiver extends WaiverRequest {
  id: string;
  state: WaiverState;
  requestedBy: string;
  requestedAt: Date;
  /** Set when approved; never the requester. */
  approvedBy: string | null;
  approvedAt: Date | null;
  rejectedBy: string | null;
  rejectedAt: Date | null;
  revokedBy: string | null;
  revokedAt: Date | null;
  /** The approver's, rejecter's or revoker's words. */
  decisionComment: string | null;
}

const RULE_PATTERN = /^(\*|[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*(\.|-)?\*?)$/;
const PROFILE_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Whether `rule` (an id, `prefix*` or `*`) names `ruleId`. */
export function ruleMatches(rule: string, ruleId: string): boolean {
  if (rule === '*') return true;
  if (rule.endsWith('*')) return ruleId.startsWith(rule.slice(0, -1));
  return rule === ruleId;
}

export function scopeCovers(scope: WaiverScope, key: FindingKey): boolean {
  return (
    scope.profile === key.profile &&
    (scope.host === ALL_HOSTS || scope.host === key.host) &&
    ruleMatches(scope.rule, key.ruleId)
  );
}

/** Covers `key` now: approved, not expired, and in scope. */
export function waiverCovers(w: Waiver, key: FindingKey, now: Date): boolean {
  return w.state === 'approved' && now.getTime() < w.expiresAt.getTime() && scopeCovers(w, key);
}

/** The waiver that covers `key` now; of several, the one that lasts longest (then the lowest id). */
export function coveringWaiver(waivers: readonly Waiver[], key: FindingKey, now: Date): Waiver | null {
  let best: Waiver | null = null;
  for (const w of waivers) {
    if (!waiverCovers(w, key, now)) continue;
    if (
      !best ||
      w.expiresAt.getTime() > best.expiresAt.getTime() ||
      (w.expiresAt.getTime() === best.expiresAt.getTime() && w.id < best.id)
    )
      best = w;
  }
  return best;
}

export interface FieldProblem {
  field: string;
  reason: string;
}

/** What is wrong with a waiver request, each problem naming its field; empty when it is fine. */
export function waiverRequestProblems(r: WaiverRequest, now: Date): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (r.host !== ALL_HOSTS && r.host.trim() === '')
    problems.push({ field: 'host', reason: 'must name a host, or * for every host' });
  if (!PROFILE_NAME.test(r.profile))
    problems.push({ field: 'profile', reason: 'must be a profile name in kebab-case, such as os-baseline' });
  if (!RULE_PATTERN.test(r.rule))
    problems.push({
      field: 'rule',
      reason: 'must be a rule id (os.ssh-root-login-off), a prefix ending in * (os.ssh-*), or * for every rule',
    });
  if (r.reason.trim() === '') problems.push({ field: 'reason', reason: 'is required: say why the rule is waived' });
  if (r.riskAcceptance.trim() === '')
    problems.push({ field: 'riskAcceptance', reason: 'is required: say what risk is accepted and how it is limited' });
  if (Number.isNaN(r.expiresAt.getTime())) problems.push({ field: 'expiresAt', reason: 'must be a time' });
  else if (r.expiresAt.getTime() <= now.getTime())
    problems.push({
      field: 'expiresAt',
      reason: `${r.expiresAt.toISOString()} has passed; a waiver must expire ahead`,
    });
  else if (r.expiresAt.getTime() > now.getTime() + MAX_WAIVER_DAYS * 86_400_000)
    problems.push({
      field: 'expiresAt',
      reason: `${r.expiresAt.toISOString()} is more than ${MAX_WAIVER_DAYS} days ahead; waive for at most a year and review it then`,
    });
  return problems;
}

export type WaiverAction = 'approve' | 'reject' | 'revoke';

/** Why a decision is refused: `self-approval` (403), `not-pending`/`expired` (409). */
export interface WaiverRefusal {
  code: 'self-approval' | 'not-pending' | 'expired';
  message: string;
}

/**
 * A person's decision on a waiver: the waiver after it, or why not.
 * - approve: only a `requested`, unexpired waiver, and never by its requester (four eyes);
 * - reject: only a `requested` waiver;
 * - revoke: a `requested` or `approved` waiver (withdrawn, or the risk no longer accepted).
 */
export function decideWaiver(
  w: Waiver,
  action: WaiverAction,
  by: string,
  comment: string | null,
  now: Date,
): { waiver: Waiver } | { refused: WaiverRefusal } {
  if (action === 'approve') {
    if (by === w.requestedBy)
      return {
        refused: {
          code: 'self-approval',
          message: `${by} requested waiver ${w.id} and may not approve it: another approver must`,
        },
      };
    if (w.state !== 'requested')
      return {
        refused: { code: 'not-pending', message: `waiver ${w.id} is ${w.state}; only a requested one can be approved` },
      };
    if (w.expiresAt.getTime() <= now.getTime())
      return {
        refused: {
          code: 'expired',
          message: `waiver ${w.id} expired at ${w.expiresAt.toISOString()}; request it again with a new expiry`,
        },
      };
    return { waiver: { ...w, state: 'approved', approvedBy: by, approvedAt: now, decisionComment: comment } };
  }
  if (action === 'reject') {
    if (w.state !== 'requested')
      return {
        refused: { code: 'not-pending', message: `waiver ${w.id} is ${w.state}; only a requested one can be rejected` },
      };
    return { waiver: { ...w, state: 'rejected', rejectedBy: by, rejectedAt: now, decisionComment: comment } };
  }
  if (w.state !== 'requested' && w.state !== 'approved')
    return { refused: { code: 'not-pending', message: `waiver ${w.id} is ${w.state} already; nothing to revoke` } };
  return { waiver: { ...w, state: 'revoked', revokedBy: by, revokedAt: now, decisionComment: comment } };
}

// ---------------------------------------------------------------- findings

/** The state a result shows as, given the fix under way and the waiver covering it. */
function stateOf(result: ResultState, fixRemediationId: string | null, waiver: Waiver | null): FindingState {
  if (result === 'pass' || result === 'not-applicable') return result;
  if (fixRemediationId) return 'fix-pending';
  if (result === 'fail' && waiver) return 'waived';
  return result;
}

function changeReason(from: FindingState | null, to: FindingState, f: Finding, waiver: Waiver | null): string {
  switch (to) {
    case 'waived':
      return `waived by ${waiver!.id} (approved by ${waiver!.approvedBy}) until ${waiver!.expiresAt.toISOString()}: ${f.reason}`;
    case 'fix-pending':
      return `fix ${f.fixRemediationId} under way; the rule ${f.resultState === 'error' ? 'could not be read' : 'still fails'}: ${f.reason}`;
    default:
      if (from === 'waived') return `no waiver covers it any more; ${to}: ${f.reason}`;
      if (from === 'fix-pending' && to !== 'pass') return `the fix is over without a pass; ${to}: ${f.reason}`;
      return f.reason;
  }
}

function judged(previous: Finding | null, next: Finding, waiver: Waiver | null, now: Date): Judgement {
  const from = previous?.state ?? null;
  if (from === next.state) return { finding: { ...next, lastChanged: previous!.lastChanged }, change: null };
  const finding = { ...next, lastChanged: now };
  return {
    finding,
    change: {
      host: finding.host,
      profile: finding.profile,
      ruleId: finding.ruleId,
      at: now,
      from,
      to: finding.state,
      resultState: finding.resultState,
      severity: finding.severity,
      observed: finding.observed,
      waiverId: finding.waiverId,
      reason: changeReason(from, finding.state, finding, waiver),
    },
  };
}

/**
 * The finding after a scan's result: evidence and `lastSeen` from the result,
 * `firstSeen` kept, the state as the module header says, `lastChanged` and a
 * history entry only when the state changed.
 */
export function nextFinding(
  previous: Finding | null,
  observation: Observation,
  waivers: readonly Waiver[],
  now: Date,
): Judgement {
  const { result } = observation;
  const key: FindingKey = { host: observation.host, profile: observation.profile, ruleId: result.ruleId };
  if (previous && (previous.host !== key.host || previous.profile !== key.profile || previous.ruleId !== key.ruleId))
    throw new Error(
      `nextFinding: the result for ${key.host}/${key.profile}/${key.ruleId} is not the finding ${previous.host}/${previous.profile}/${previous.ruleId}`,
    );
  const wantedFix =
    observation.fixRemediationId === undefined ? (previous?.fixRemediationId ?? null) : observation.fixRemediationId;
  // Only a pass confirms a fix; anything else leaves it under way.
  const fixRemediationId = result.state === 'pass' ? null : wantedFix;
  const waiver = result.state === 'fail' ? coveringWaiver(waivers, key, now) : null;
  const state = stateOf(result.state, fixRemediationId, waiver);
  const next: Finding = {
    ...key,
    state,
    resultState: result.state,
    severity: observation.severity,
    expected: result.expected,
    observed: result.observed,
    reason: result.reason,
    firstSeen: previous?.firstSeen ?? now,
    lastSeen: now,
    lastChanged: now,
    waiverId: state === 'waived' ? waiver!.id : null,
    fixRemediationId,
  };
  return judged(previous, next, state === 'waived' ? waiver : null, now);
}

/**
 * A finding judged again on its last result, without a scan: a waiver was
 * approved, revoked or expired, or a fix was cleared. `lastSeen` stays.
 */
export function rejudgeFinding(f: Finding, waivers: readonly Waiver[], now: Date): Judgement {
  const waiver = f.resultState === 'fail' ? coveringWaiver(waivers, f, now) : null;
  const state = stateOf(f.resultState, f.fixRemediationId, waiver);
  const next: Finding = { ...f, state, waiverId: state === 'waived' ? waiver!.id : null };
  return judged(f, next, state === 'waived' ? waiver : null, now);
}

/**
 * Which findings change now that waivers have moved on: a waived finding
 * whose waiver expired or was revoked returns to `fail` (the moment the
 * expiry passes, not only at the next scan), and a failing one a newly
 * approved waiver covers becomes `waived`. Only the findings that change.
 */
export function reviewExpiry(findings: readonly Finding[], waivers: readonly Waiver[], now: Date): Judgement[] {
  const out: Judgement[] = [];
  for (const f of findings) {
    const j = rejudgeFinding(f, waivers, now);
    if (j.change || j.finding.waiverId !== f.waiverId) out.push(j);
  }
  return out;
}

// ---------------------------------------------------------------- export

export const FINDING_CSV_COLUMNS = [
  'host',
  'profile',
  'rule_id',
  'state',
  'result_state',
  'severity',
  'expected',
  'observed',
  'reason',
  'first_seen',
  'last_seen',
  'last_changed',
  'waiver_id',
  'fix_remediation_id',
] as const;

/** A CSV field (RFC 4180): quoted when it holds a comma, quote or line break; a leading =+-@ is defused for spreadsheets. */
export function csvField(value: string | null): string {
  let v = value ?? '';
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function findingCsvRow(f: Finding): string {
  return [
    f.host,
    f.profile,
    f.ruleId,
    f.state,
    f.resultState,
    f.severity,
    f.expected,
    f.observed,
    f.reason,
    f.firstSeen.toISOString(),
    f.lastSeen.toISOString(),
    f.lastChanged.toISOString(),
    f.waiverId,
    f.fixRemediationId,
  ]
    .map(csvField)
    .join(',');
}

/** Findings as CSV with a header row, CRLF line ends. */
export function findingsCsv(findings: readonly Finding[]): string {
  return [FINDING_CSV_COLUMNS.join(','), ...findings.map(findingCsvRow)].join('\r\n') + '\r\n';
}
