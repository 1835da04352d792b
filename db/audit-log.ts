/**
 * The append-only audit log: every decision and action, who or which policy
 * version took it, why, and the state before and after. Rows are only ever
 * inserted (a trigger refuses UPDATE and DELETE).
 *
 * Written by both processes, each in the transaction of the change it explains:
 * the worker (remediation progress, a tripped breaker) and the API (a person's
 * pause, resume, breaker reset, policy applied or deleted). A record written
 * apart from its change could exist without it, or the change without it.
 *
 * Tamper evidence (migration 1732950000000): the application role may only
 * INSERT and SELECT here, TRUNCATE is refused by a trigger, and every row
 * carries the hash of the row before it. `verifyAuditChain` finds the first
 * row that an edit, insert or delete behind the application's back broke.
 */
import type { AuditEntry } from '../domain/audit';
import { Filters } from './filters';
import type { PoolLogger, Queryable } from './pool';

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

/**
 * Append one record; inside the caller's transaction when given one. The chain's lock is held
 * from this insert to the end of that transaction, so make it the transaction's last statement.
 */
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

/** The hash the first row chains to. */
export const GENESIS_HASH = '0'.repeat(64);

/** The first row where the chain does not hold, and why. */
export interface AuditChainBreak {
  seq: number;
  /** `content`: the row's fields no longer give its hash (edited). `link`: its previous hash is not the hash of the row before it (a row before it was deleted, inserted or rewritten). */
  problem: 'content' | 'link';
  message: string;
  expected: string;
  found: string;
}

export interface AuditChainReport {
  ok: boolean;
  /** Rows checked (all of them when `ok`, up to and including the broken one otherwise). */
  checked: number;
  /** The newest row and its hash: record it elsewhere to detect a rewrite of the whole chain or a cut-off tail later. */
  head: { seq: number; hash: string } | null;
  firstBreak: AuditChainBreak | null;
}

interface ChainRow {
  seq: string;
  prevHash: string;
  hash: string;
  recomputed: string;
}

/**
 * Walk the chain in seq order, `batchSize` rows at a time (never the whole log in memory), and
 * stop at the first row whose content does not give its stored hash or whose previous hash is
 * not the stored hash of the row before it. Gaps in seq are fine: a rolled-back insert leaves one.
 */
export async function verifyAuditChain(db: Queryable, batchSize = 1000): Promise<AuditChainReport> {
  let after = '0';
  let previous: { seq: number; hash: string } | null = null;
  let checked = 0;
  for (;;) {
    const { rows } = await db.query<ChainRow>(
      `SELECT seq::text, prev_hash AS "prevHash", hash, audit_log_row_hash(a) AS recomputed
         FROM audit_log a WHERE a.seq > $1::bigint ORDER BY a.seq LIMIT $2`,
      [after, batchSize],
    );
    for (const row of rows) {
      checked++;
      const seq = Number(row.seq);
      const broken = chainBreakAt(seq, row, previous);
      if (broken) return { ok: false, checked, head: previous, firstBreak: broken };
      previous = { seq, hash: row.hash };
    }
    if (rows.length < batchSize) return { ok: true, checked, head: previous, firstBreak: null };
    after = rows[rows.length - 1]!.seq;
  }
}

function chainBreakAt(
  seq: number,
  row: ChainRow,
  previous: { seq: number; hash: string } | null,
): AuditChainBreak | null {
  if (row.recomputed !== row.hash) {
    return {
      seq,
      problem: 'content',
      message: `audit log row ${seq}: its content does not match its hash (edited after it was written)`,
      expected: row.recomputed,
      found: row.hash,
    };
  }
  const expected = previous?.hash ?? GENESIS_HASH;
  if (row.prevHash !== expected) {
    const before = previous
      ? `the hash of row ${previous.seq} before it (a row between them was deleted, or row ${previous.seq} rewritten)`
      : 'the start of the chain (earlier rows were deleted)';
    return {
      seq,
      problem: 'link',
      message: `audit log row ${seq}: its previous hash does not match ${before}`,
      expected,
      found: row.prevHash,
    };
  }
  return null;
}

/**
 * What the connecting role may do to the audit log that the application role must not:
 * `UPDATE`, `DELETE`, `TRUNCATE`, or `owner` (it could drop the triggers). Empty when the
 * API and the worker connect as the application role.
 */
export async function auditLogPowersOfCurrentRole(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ power: string }>(
    `SELECT p AS power FROM unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) AS p WHERE has_table_privilege('audit_log', p)
     UNION ALL
     SELECT 'owner' FROM pg_class WHERE oid = 'audit_log'::regclass AND pg_has_role(relowner, 'USAGE')`,
  );
  return rows.map((r) => r.power);
}

/**
 * Said once at start-up: a process connected as the owner or a superuser (a deployment from
 * before the application role) works, but its audit log is not tamper-evident.
 */
export async function warnIfAuditLogMutable(db: Queryable, logger: PoolLogger): Promise<void> {
  const powers = await auditLogPowersOfCurrentRole(db).catch(() => []);
  if (powers.length > 0)
    logger.warn(
      { powers },
      'DATABASE_URL connects as a role that may change or drop the audit log: connect as the application role shipshape_app (README: Database roles)',
    );
}
