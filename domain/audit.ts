/** An audit record as the workflow describes it; activities write it append-only. */
export interface AuditEntry {
  actorKind: 'person' | 'policy' | 'system';
  /** A person's API subject, or the policy name. */
  actor: string;
  policyVersion: string | null;
  action: string;
  reason: string;
  before?: unknown;
  after?: unknown;
}
