/**
 * The record of compliance scans (migrations/1733460000000_compliance_scans.sql).
 *
 * Who writes: the API when a person starts a scan, and the scan workflow
 * itself (activities/compliance-scans.ts) at its start — a scheduled run has
 * nobody else to record it — and at its end. Both starts insert the same row
 * and the second does nothing, so the order they come in does not matter.
 * A scan Temporal ended without the workflow's word (terminated, canceled,
 * timed out) is closed by the API when it next looks (`closeScan`).
 */
import type { Pool } from 'pg';
import type { ScanStatus } from '../domain/compliance-scans';
import { appendAudit, type AuditRecord } from './audit-log';
import { Filters } from './filters';
import { inTransaction, type Queryable } from './pool';

export interface ScanRecord {
  id: string;
  workflowId: string;
  /** null: every profile. */
  profiles: string[] | null;
  /** null: every host of the inventory. */
  hosts: string[] | null;
  requestedBy: string;
  startedAt: Date;
  finishedAt: Date | null;
  status: ScanStatus;
  summary: unknown;
  error: string | null;
}

const COLUMNS = `id, workflow_id AS "workflowId", profiles, hosts, requested_by AS "requestedBy",
  started_at AS "startedAt", finished_at AS "finishedAt", status, summary, error`;

export interface ScanStart {
  id: string;
  workflowId: string;
  profiles: string[] | null;
  hosts: string[] | null;
  requestedBy: string;
  startedAt: Date;
}

/**
 * Record a scan's start; a scan already recorded is left as it is. True when this call recorded it, and
 * then `audit` (who started it, when nobody else has said so) is appended in the same transaction.
 */
export async function recordScanStart(db: Pool, s: ScanStart, audit?: AuditRecord): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const { rowCount } = await tx.query(
      `INSERT INTO compliance_scans (id, workflow_id, profiles, hosts, requested_by, started_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, 'running') ON CONFLICT (id) DO NOTHING`,
      [s.id, s.workflowId, s.profiles, s.hosts, s.requestedBy, s.startedAt],
    );
    if (rowCount !== 1) return false;
    if (audit) await appendAudit(tx, audit);
    return true;
  });
}

export interface ScanEnd {
  status: Exclude<ScanStatus, 'running'>;
  finishedAt: Date;
  summary?: unknown;
  error?: string | null;
}

/** Record a scan's end, once: a scan already closed keeps its first end. True when this call closed it. */
export async function closeScan(db: Queryable, id: string, end: ScanEnd): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE compliance_scans SET status = $2, finished_at = $3, summary = $4, error = $5
      WHERE id = $1 AND status = 'running'`,
    [id, end.status, end.finishedAt, end.summary === undefined ? null : JSON.stringify(end.summary), end.error ?? null],
  );
  return rowCount === 1;
}

export async function findScan(db: Queryable, id: string): Promise<ScanRecord | null> {
  const { rows } = await db.query<ScanRecord>(`SELECT ${COLUMNS} FROM compliance_scans WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export interface ScanFilter {
  statuses?: ScanStatus[];
  /** Scans that covered this profile: named it, or named no profile (every one). */
  profile?: string;
  /** The last scan of the previous page: scans started before it (newest first). */
  after?: { startedAt: Date; id: string };
  limit: number;
}

/** Scans, newest first. */
export async function listScans(db: Queryable, f: ScanFilter): Promise<ScanRecord[]> {
  const where = new Filters()
    .add('status = ANY(?)', f.statuses)
    .add('(profiles IS NULL OR ? = ANY(profiles))', f.profile);
  if (f.after) {
    const [at, id] = [where.param(f.after.startedAt), where.param(f.after.id)];
    where.when(true, `(started_at, id) < (${at}::timestamptz, ${id}::text)`);
  }
  const { rows } = await db.query<ScanRecord>(
    `SELECT ${COLUMNS} FROM compliance_scans ${where} ORDER BY started_at DESC, id DESC LIMIT ${where.param(f.limit)}`,
    where.args,
  );
  return rows;
}
