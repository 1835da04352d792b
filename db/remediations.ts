/**
 * The remediations index: one row per remediation run. The workflow owns the
 * truth; this row is its durable, queryable shadow (the API lists and shows
 * it, the fast path and the guards decide on it).
 *
 * Two writers, on purpose. The worker records every step of the workflow
 * (recordRemediationProgress). The API indexes a remediation the moment
 * Temporal says it started (indexStartedRemediation), before the workflow's
 * first record: the next alert of that host, a millisecond later, must find it
 * on the fast path and join it without a call to Temporal. The two never fight:
 * the API's insert does nothing when the row exists, and the worker's upsert
 * fills in the rest.
 */
import type { Pool } from 'pg';
import type { AuditEntry } from '../domain/audit';
import { isFinal, type RemediationView } from '../domain/remediation';
import { appendAudit } from './audit-log';
import { Filters } from './filters';
import { setPoolState } from './hosts';
import { inTransaction, type Queryable } from './pool';

/** A remediation as the index has it. `view` is what the workflow last recorded (empty until its first record). */
export interface RemediationRecord {
  id: string;
  host: string;
  workflowId: string;
  phase: string;
  policyName: string;
  policyVersion: string;
  requestedBy: string;
  view: Partial<RemediationView>;
  startedAt: Date;
  closedAt: Date | null;
}

const COLUMNS = `id, host, workflow_id AS "workflowId", phase, policy_name AS "policyName", policy_version AS "policyVersion",
                 requested_by AS "requestedBy", view, started_at AS "startedAt", closed_at AS "closedAt"`;

/** A remediation Temporal has just started. */
export interface StartedRemediation {
  remediationId: string;
  host: string;
  workflowId: string;
  policyName: string;
  policyVersion: string;
  requestedBy: string;
}

/**
 * Index a remediation the API has just started (see the module comment for why
 * the API writes here). Its run ID is filled in by the workflow's first record;
 * a row that exists already is left as it is.
 */
export async function indexStartedRemediation(db: Queryable, r: StartedRemediation): Promise<void> {
  await db.query(
    `INSERT INTO remediations (id, host, workflow_id, run_id, policy_name, policy_version, phase, requested_by)
     VALUES ($1, $2, $3, '', $4, $5, 'auditing', $6) ON CONFLICT DO NOTHING`,
    [r.remediationId, r.host, r.workflowId, r.policyName, r.policyVersion, r.requestedBy],
  );
}

/** One step of a remediation as its workflow records it. */
export interface RemediationProgress {
  workflowId: string;
  runId: string;
  /** Monotonic per remediation; makes the write idempotent and ordered. */
  seq: number;
  view: RemediationView;
  audit: AuditEntry | null;
}

/**
 * Record a step of a remediation, atomically: its view in the index, the
 * host's pool state, and the step's audit record. The worker's activity calls
 * it; a retried or out-of-order write (an older `seq`) changes nothing.
 */
export async function recordRemediationProgress(db: Pool, p: RemediationProgress): Promise<void> {
  const { view, seq } = p;
  await inTransaction(db, async (tx) => {
    // Temporal allows one run per host at a time; an open row for another
    // remediation of this host can only be left over from a terminated run.
    await tx.query('UPDATE remediations SET closed_at = now() WHERE host = $1 AND closed_at IS NULL AND id <> $2', [
      view.host,
      view.remediationId,
    ]);
    const { rowCount } = await tx.query(
      `INSERT INTO remediations (id, host, workflow_id, run_id, policy_name, policy_version, phase, requested_by, view, view_seq, closed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $11 THEN now() END)
       ON CONFLICT (id) DO UPDATE SET
         run_id = EXCLUDED.run_id, phase = EXCLUDED.phase, view = EXCLUDED.view, view_seq = EXCLUDED.view_seq,
         closed_at = COALESCE(remediations.closed_at, EXCLUDED.closed_at)
       WHERE remediations.view_seq < EXCLUDED.view_seq`,
      [
        view.remediationId,
        view.host,
        p.workflowId,
        p.runId,
        view.policy.name,
        view.policy.version,
        view.phase,
        view.requestedBy,
        JSON.stringify(view),
        seq,
        isFinal(view.phase),
      ],
    );
    if (rowCount === 0) return; // an older or repeated write: already applied
    await setPoolState(tx, view.host, view.poolState);
    if (p.audit)
      await appendAudit(tx, {
        ...p.audit,
        host: view.host,
        remediationId: view.remediationId,
        idempotencyKey: `${view.remediationId}:${seq}`,
      });
  });
}

/** The host's open remediation, if it has one. */
export async function openRemediationOf(db: Queryable, host: string): Promise<{ id: string } | null> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM remediations WHERE host = $1 AND closed_at IS NULL', [
    host,
  ]);
  return rows[0] ?? null;
}

/**
 * The host's open remediation when it already received an alert with this
 * fingerprint (started, joined or suppressed by it): a repeat joins it without
 * a call to Temporal.
 */
export async function openRemediationHavingAlert(
  db: Queryable,
  host: string,
  fingerprint: string,
): Promise<{ id: string; phase: string; policyName: string } | null> {
  const { rows } = await db.query<{ id: string; phase: string; policyName: string }>(
    `SELECT r.id, r.phase, r.policy_name AS "policyName" FROM remediations r
      WHERE r.host = $1 AND r.closed_at IS NULL
        AND EXISTS (SELECT 1 FROM signals s WHERE s.remediation_id = r.id AND s.fingerprint = $2
                    AND s.outcome IN ('started','joined','suppressed'))`,
    [host, fingerprint],
  );
  return rows[0] ?? null;
}

/** The host's open remediations, oldest first (one, unless a terminated run left a row open). */
export async function openRemediationsOnHost(
  db: Queryable,
  host: string,
): Promise<{ id: string; phase: string; policyName: string; startedAt: Date }[]> {
  const { rows } = await db.query<{ id: string; phase: string; policyName: string; startedAt: Date }>(
    'SELECT id, phase, policy_name AS "policyName", started_at AS "startedAt" FROM remediations WHERE host = $1 AND closed_at IS NULL ORDER BY started_at',
    [host],
  );
  return rows;
}

export async function findRemediation(db: Queryable, id: string): Promise<RemediationRecord | null> {
  const { rows } = await db.query<RemediationRecord>(`SELECT ${COLUMNS} FROM remediations WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export interface RemediationFilter {
  host?: string;
  /** Open, closed, or in this phase. */
  state?: string;
  limit: number;
}

/** The newest remediations first, filtered by host and state. */
export async function listRemediations(db: Queryable, f: RemediationFilter): Promise<RemediationRecord[]> {
  const where = new Filters()
    .add('host = ?', f.host)
    .when(f.state === 'open', 'closed_at IS NULL')
    .when(f.state === 'closed', 'closed_at IS NOT NULL')
    .add('phase = ?', f.state === 'open' || f.state === 'closed' ? undefined : f.state);
  const { rows } = await db.query<RemediationRecord>(
    `SELECT ${COLUMNS} FROM remediations ${where} ORDER BY started_at DESC LIMIT ${where.param(f.limit)}`,
    where.args,
  );
  return rows;
}

/** Every remediation's host and phase, oldest first (the demo reports phase changes). */
export async function phasesOfRemediations(db: Queryable): Promise<{ id: string; host: string; phase: string }[]> {
  const { rows } = await db.query<{ id: string; host: string; phase: string }>(
    'SELECT id, host, phase FROM remediations ORDER BY started_at',
  );
  return rows;
}

/** An open remediation and the run that should close it (the lease reaper checks them). */
export interface OpenRun {
  remediationId: string;
  host: string;
  workflowId: string;
  /** Empty until the run recorded its first step. */
  runId: string;
}

/** Remediations still open in the index, oldest first. */
export async function openRemediationRuns(db: Queryable): Promise<OpenRun[]> {
  const { rows } = await db.query<OpenRun>(
    `SELECT id AS "remediationId", host, workflow_id AS "workflowId", run_id AS "runId"
       FROM remediations WHERE closed_at IS NULL ORDER BY started_at`,
  );
  return rows;
}

/**
 * Close an open remediation whose run ended without finishing (terminated or
 * deleted in Temporal): phase `cancelled` with the reason, and the audit
 * record, in one transaction. The host's pool state is not touched: it stays
 * as the run left it, for a person to look at. False when it was already closed.
 */
export async function closeAbandonedRemediation(db: Pool, remediationId: string, reason: string): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const outcome = { phase: 'cancelled', reason, at: new Date().toISOString() };
    const { rows } = await tx.query<{ host: string; phase: string }>(
      `WITH before AS (SELECT id, phase FROM remediations WHERE id = $1 AND closed_at IS NULL FOR UPDATE)
       UPDATE remediations r SET closed_at = now(), phase = 'cancelled',
              view = jsonb_set(jsonb_set(r.view, '{outcome}', $2::jsonb), '{phase}', '"cancelled"')
         FROM before WHERE r.id = before.id
       RETURNING r.host, before.phase`,
      [remediationId, JSON.stringify(outcome)],
    );
    const row = rows[0];
    if (!row) return false;
    await appendAudit(tx, {
      actorKind: 'system',
      actor: 'lease-reaper',
      policyVersion: null,
      host: row.host,
      remediationId,
      action: 'remediation closed',
      reason,
      before: { phase: row.phase },
      after: { phase: 'cancelled' },
    });
    return true;
  });
}
