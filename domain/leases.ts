/**
 * When is a capacity lease stale? A lease is held by a remediation while its
 * host is out; the workflow gives it back in `finish()`. A run that never gets
 * there (terminated from Temporal, failed outright, timed out, or gone from
 * Temporal altogether) would keep it for ever, and with one host per zone
 * that zone would be blocked for good. The reaper asks Temporal about the run
 * that holds each lease and decides here. Pure: the lookup is the caller's.
 *
 * Triggers, and what each does:
 * - the run (or the run it continued as) is running                    → keep
 * - it closed: completed, failed, cancelled, terminated, timed out      → release
 * - it continued as new and the chain ends in a closed run              → release (as that run's close)
 * - Temporal does not know the workflow or run (retention, deleted)     → release
 * - Temporal could not be asked, or the chain could not be followed     → keep: never release on doubt
 */

/** What Temporal says of the run that holds a lease, following continue-as-new to the run it became. */
export type HolderRun =
  | { state: 'running'; runId: string }
  | { state: 'closed'; runId: string; status: string }
  | { state: 'not-found' }
  | { state: 'unknown'; error: string };

/** Why the lease goes back, in the audit's words; null to keep it. */
export function staleLeaseReason(lease: { remediationId: string; workflowId: string }, run: HolderRun): string | null {
  switch (run.state) {
    case 'running':
    case 'unknown':
      return null;
    case 'closed':
      return `its run ${lease.workflowId} (${run.runId}) is closed: ${run.status.toLowerCase().replace(/_/g, ' ')}; the workflow never gave the lease back`;
    case 'not-found':
      return `Temporal does not know its run ${lease.workflowId}: the workflow is gone, so nothing can give the lease back`;
  }
}

/**
 * Why an open remediation's run will never close its books (its row in the
 * index, the host's open remediation), or null while it may: the same rule as
 * for leases. Its alerts would otherwise keep joining a run that is gone.
 */
export function abandonedRunReason(workflowId: string, run: HolderRun): string | null {
  switch (run.state) {
    case 'running':
    case 'unknown':
      return null;
    case 'closed':
      return `its run ${workflowId} (${run.runId}) ended in Temporal without finishing: ${run.status.toLowerCase().replace(/_/g, ' ')}; the host is left as that run left it`;
    case 'not-found':
      return `Temporal does not know its run ${workflowId}; the host is left as that run left it`;
  }
}
