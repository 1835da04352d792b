/**
 * Activities that write Shipshape's own records: the remediations index, the
 * host's pool state and the append-only audit log. Each write carries a
 * sequence number from the workflow so a retried activity is a no-op.
 */
import type { Pool } from 'pg';
import { recordRemediationProgress, type RemediationProgress } from '../db/remediations';

export type ProgressRecord = RemediationProgress;

export function createRecordActivities(db: Pool) {
  return {
    /** Persist the remediation's current view, the host's pool state, and an audit entry, atomically. */
    async recordProgress(record: ProgressRecord): Promise<void> {
      await recordRemediationProgress(db, record);
    },
  };
}
