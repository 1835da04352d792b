/**
 * A person's decision on a remediation (approve, reject, hand back, cancel)
 * and who may make it. The API signs each decision it sends; the worker
 * checks the signature and these rules before the workflow acts, so a caller
 * with access to Temporal alone cannot decide as anyone.
 */
import { API_ROLES, roleAtLeast, type ApiRole } from './types';

export const OPERATOR_DECISIONS = ['approve', 'reject', 'hand-back', 'cancel'] as const;
export type OperatorDecision = (typeof OPERATOR_DECISIONS)[number];

/** The least API role each decision needs. */
export const DECISION_ROLE: Record<OperatorDecision, ApiRole> = {
  approve: 'approver',
  reject: 'approver',
  'hand-back': 'operator',
  cancel: 'operator',
};

/** How long a signed decision stays valid: it is sent the moment it is signed. */
export const DECISION_MAX_AGE_MS = 5 * 60 * 1000;

/**
 * Everything a decision's signature binds: which workflow and remediation, the
 * decision, who made it with which role, what they wrote, what it answers (the
 * pending approval's `requestedAt`, the hand-off's `since`; null for a cancel),
 * and when it was signed. The workflow fills the first and the `answers` from
 * its own state, so a signature for one run, one request or one decision fits
 * no other.
 */
export interface DecisionClaim {
  workflowId: string;
  remediationId: string;
  decision: OperatorDecision;
  by: string;
  role: ApiRole | null;
  comment: string;
  fixedBy: string | null;
  answers: string | null;
  issuedAt: string;
}

/** What a decision answers, read from the remediation's view (the workflow's own, or as the API queried it). */
export function decisionAnswers(
  decision: OperatorDecision,
  view: { pendingApproval: { requestedAt: string } | null; handOff: { since: string } | null },
): string | null {
  if (decision === 'approve' || decision === 'reject') return view.pendingApproval?.requestedAt ?? null;
  if (decision === 'hand-back') return view.handOff?.since ?? null;
  return null;
}

/** The exact text a decision's HMAC is computed over. */
export function canonicalDecision(c: DecisionClaim): string {
  return JSON.stringify([
    'shipshape-decision-v1',
    c.workflowId,
    c.remediationId,
    c.decision,
    c.by,
    c.role,
    c.comment,
    c.fixedBy,
    c.answers,
    c.issuedAt,
  ]);
}

/**
 * Why this person may not make this decision, or null. The role is
 * mandatory and must be one of the API's roles, at least the decision's
 * (approver for approve and reject, operator for hand-back and cancel), and
 * one of the policy's approver roles when it names them; a signature older
 * (or newer) than DECISION_MAX_AGE_MS is refused.
 */
export function decisionRefusal(
  claim: Pick<DecisionClaim, 'decision' | 'by' | 'role' | 'issuedAt'>,
  context: { policyName: string; approverRoles: readonly ApiRole[] | null; nowMs: number },
): string | null {
  const { decision, by, role } = claim;
  if (!role) return `${decision} needs the caller's role; ${by} sent none`;
  if (!(API_ROLES as readonly string[]).includes(role)) return `${decision}: "${role}" is not a role`;
  const needed = DECISION_ROLE[decision];
  if (!roleAtLeast(role, needed)) return `${decision} needs role ${needed} or higher; ${by} is ${role}`;
  const roles = context.approverRoles;
  if ((decision === 'approve' || decision === 'reject') && roles && !roles.includes(role))
    return `policy ${context.policyName} lets only ${roles.join(' or ')} ${decision}; ${by} is ${role}`;
  const issued = Date.parse(claim.issuedAt);
  if (!Number.isFinite(issued)) return `${decision}: the decision carries no valid signing time`;
  if (Math.abs(context.nowMs - issued) > DECISION_MAX_AGE_MS)
    return `${decision} was signed at ${claim.issuedAt}, more than ${DECISION_MAX_AGE_MS / 60000} minutes ago: send it again`;
  return null;
}

/** JSON with every object's keys sorted: the same text for the same value, however it was built or carried. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** The exact text a remediation's start signature is computed over: its workflow ID and its input. */
export function canonicalStart(workflowId: string, input: object): string {
  return JSON.stringify(['shipshape-start-v1', workflowId, canonicalJson(input)]);
}
