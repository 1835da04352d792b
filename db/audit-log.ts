/**
 * The append-only audit log: every decision and action, who or which policy
 * version took it, why, and the state before and after. Rows are only ever
 * inserted (a trigger refuses UPDATE and DELETE).
 *
 * Written by both processes, each in the transaction of the change it explains:
 * the worker (remediation progress, a tripped breaker) and the API (a person's
 * pause, resume, breaker reset, policy applied or deleted). A record written
 * apart from its change could exist without it, or the change without it.
 */
import type { AuditEntry } from '../domain/audit';
import { Filters } from './filters';
import type { Queryable } from './pool';

/** One record: `host` and `remediationId` when it concerns them. */
export interface AuditRecord extends AuditEntry {
  host?: string | null;
  remediationId?: string | null;
  /**
   * Makes a retried write a no-op: an activity that retries writes the same
   * key, and the second insert does nothing.
   */
  idempotencyKey?: string;
}

/** An entry as it is read back. */
export interface AuditLogEntry {
  seq: number;
  at: Date;
  actorKind: AuditEntry['actorKind'];
  actor: string;
  policyVersion: string | null;
  host: string | null;
  remediationId: string | null;
  action: string;
  reason: string;
  before: unknown;
  after: unknown;
}

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

/** Append one record; inside the caller's transaction when given one. */
export async function appendAudit(db: Queryable, r: AuditRecord): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (actor_kind, actor, policy_version, host, remediation_id, action, reason, before, after, idempotency_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      r.actorKind,
      r.actor,
      r.policyVersion,
      r.host ?? null,
      r.remediationId ?? null,
      r.action,
      r.reason,
      json(r.before),
      json(r.after),
      r.idempotencyKey ?? null,
    ],
  );
}

/** A person's action, not tied to a host (pause, resume, breaker reset, a policy applied). */
export function appendPersonAudit(
  db: Queryable,
  person: string,
  action: string,
  reason: string,
  policyVersion: string | null = null,
): Promise<void> {
  return appendAudit(db, { actorKind: 'person', actor: person, policyVersion, action, reason });
}

export interface AuditFilter {
  host?: string;
  remediationId?: string;
  since?: string;
  limit: number;
}

/** The log in order, filtered by host, remediation and time. */
export async function readAuditLog(db: Queryable, f: AuditFilter): Promise<AuditLogEntry[]> {
  const where = new Filters()
    .add('host = ?', f.host)
    .add('remediation_id = ?', f.remediationId)
    .add('at >= ?', f.since);
  const { rows } = await db.query<AuditLogEntry>(
    `SELECT seq::int, at, actor_kind AS "actorKind", actor, policy_version AS "policyVersion", host,
            remediation_id AS "remediationId", action, reason, before, after
       FROM audit_log ${where} ORDER BY seq LIMIT ${where.param(f.limit)}`,
    where.args,
  );
  return rows;
}
