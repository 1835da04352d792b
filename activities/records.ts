/**
 * Activities that write Shipshape's own records: the remediations index, the
 * host's pool state and the append-only audit log. Each write carries a
 * sequence number from the workflow so a retried activity is a no-op.
 */
import type { Pool } from 'pg';
import { inTransaction } from '../db/pool';
import type { AuditEntry } from '../domain/audit';
import { isFinal, type RemediationView } from '../domain/remediation';

export interface ProgressRecord {
  workflowId: string;
  runId: string;
  /** Monotonic per remediation; makes the write idempotent and ordered. */
  seq: number;
  view: RemediationView;
  audit: AuditEntry | null;
}

export function createRecordActivities(db: Pool) {
  return {
    /** Persist the remediation's current view, the host's pool state, and an audit entry, atomically. */
    async recordProgress(record: ProgressRecord): Promise<void> {
      const { view, seq } = record;
      await inTransaction(db, async (tx) => {
        // Temporal allows one run per host at a time; an open row for another
        // remediation of this host can only be left over from a terminated run.
        await tx.query('UPDATE remediations SET closed_at = now() WHERE host = $1 AND closed_at IS NULL AND id <> $2', [
          view.host,
          view.remediationId,
        ]);
        const closed = isFinal(view.phase);
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
            record.workflowId,
            record.runId,
            view.policy.name,
            view.policy.version,
            view.phase,
            view.requestedBy,
            JSON.stringify(view),
            seq,
            closed,
          ],
        );
        if (rowCount === 0) return; // an older or repeated write: already applied
        await tx.query('UPDATE hosts SET pool_state = $2, updated_at = now() WHERE id = $1', [view.host, view.poolState]);
        if (record.audit) {
          const a = record.audit;
          await tx.query(
            `INSERT INTO audit_log (actor_kind, actor, policy_version, host, remediation_id, action, reason, before, after, idempotency_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING`,
            [
              a.actorKind,
              a.actor,
              a.policyVersion,
              view.host,
              view.remediationId,
              a.action,
              a.reason,
              a.before === undefined ? null : JSON.stringify(a.before),
              a.after === undefined ? null : JSON.stringify(a.after),
              `${view.remediationId}:${seq}`,
            ],
          );
        }
      });
    },
  };
}
