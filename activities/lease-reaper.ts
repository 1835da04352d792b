/**
 * The lease reaper: gives back capacity leases whose workflow never will. The
 * workflow releases its lease in `finish()`; a run terminated from Temporal,
 * failed outright or timed out never gets there, and with one host per zone
 * its zone would stay blocked for good. The reaper asks Temporal about the run
 * holding each lease (domain/leases.ts decides) and releases, with an audit
 * record, those whose run is closed or gone; and it closes, as cancelled, the
 * remediations such runs left open in the index.
 *
 * It runs in the worker process, on a timer, rather than as a Temporal
 * Schedule: it exists for the runs Temporal's own machinery left behind, it
 * needs no history of its own, and a worker is always there when leases are
 * taken. Several workers may each run it: a release is one conditional UPDATE
 * with its audit record, so a lease is released and audited once. The guard
 * activity also asks it when a lease-count guard blocks, so a stale lease
 * holds a waiting remediation for one poll, not a whole interval.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Pool } from 'pg';
import type { Logger } from '../config/logger';
import { readHeldLeases, releaseLeaseFor, type HeldLease } from '../db/guards';
import { closeAbandonedRemediation, openRemediationRuns } from '../db/remediations';
import { abandonedRunReason, staleLeaseReason, type HolderRun } from '../domain/leases';

/** How Temporal's answer about a run is looked up: injected so the reaper can be tested without a dead run. */
export type HolderRunLookup = (workflowId: string, runId: string) => Promise<HolderRun>;

/** A chain of continue-as-new longer than this is not followed (the lease is kept). */
const MAX_CHAIN = 20;
/** The guard activity's checks come at most this often per worker: each is a describe per lease. */
const ON_DEMAND_MIN_INTERVAL_MS = 5_000;

/** Ask Temporal what became of a run, following continue-as-new to the run it became. */
export function temporalHolderRuns(client: Client): HolderRunLookup {
  return async (workflowId, firstRunId) => {
    let runId: string | undefined = firstRunId || undefined;
    try {
      for (let hop = 0; hop < MAX_CHAIN; hop++) {
        const desc = await client.workflow.getHandle(workflowId, runId).describe();
        const status = desc.status.name;
        if (status === 'CONTINUED_AS_NEW') {
          runId = await continuedAs(client, workflowId, desc.runId);
          if (!runId) return { state: 'unknown', error: `no new run recorded for ${desc.runId}` };
          continue;
        }
        if (['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'].includes(status))
          return { state: 'closed', runId: desc.runId, status };
        if (status === 'RUNNING' || status === 'PAUSED') return { state: 'running', runId: desc.runId };
        return { state: 'unknown', error: `status ${status}` };
      }
      return { state: 'unknown', error: `more than ${MAX_CHAIN} runs continued as new` };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { state: 'not-found' };
      return { state: 'unknown', error: (err as Error).message };
    }
  };
}

/** The run a continued-as-new run became, from its close event. */
async function continuedAs(client: Client, workflowId: string, runId: string): Promise<string | undefined> {
  const res = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
  });
  return res.history?.events?.[0]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
}

/** `lookup`, asking Temporal about each run at most once (one reaper tick). */
function askingOnce(lookup: HolderRunLookup): HolderRunLookup {
  const answers = new Map<string, Promise<HolderRun>>();
  return (workflowId, runId) => {
    const key = `${workflowId}\n${runId}`;
    let answer = answers.get(key);
    if (!answer) answers.set(key, (answer = lookup(workflowId, runId)));
    return answer;
  };
}

export interface ReapedLease {
  remediationId: string;
  host: string;
  zone: string;
  reason: string;
}

export class LeaseReaper {
  private inFlight: Promise<ReapedLease[]> | null = null;
  private lastRunAt = 0;

  constructor(
    private readonly deps: { db: Pool; holderRun: HolderRunLookup; logger?: Pick<Logger, 'info' | 'warn'> },
  ) {}

  /** Check every held lease once; release and audit the stale ones. One pass at a time per worker. */
  reap(lookup: HolderRunLookup = this.deps.holderRun): Promise<ReapedLease[]> {
    this.inFlight ??= this.pass(lookup).finally(() => {
      this.inFlight = null;
      this.lastRunAt = Date.now();
    });
    return this.inFlight;
  }

  /** For the guard activity when a zone is full: a pass, unless one ran within the last few seconds. */
  reapIfDue(): Promise<ReapedLease[]> {
    if (!this.inFlight && Date.now() - this.lastRunAt < ON_DEMAND_MIN_INTERVAL_MS) return Promise.resolve([]);
    return this.reap();
  }

  /** Reap now and every `seconds` until the returned stop function is called. */
  start(seconds: number): () => void {
    // The timer's passes also close abandoned remediations (the guard activity's on-demand passes need only
    // leases); a lease's holder is an open remediation, so Temporal is asked about each run once per tick.
    const tick = () => {
      const lookup = askingOnce(this.deps.holderRun);
      void this.reap(lookup)
        .then(() => this.closeAbandoned(lookup))
        .catch((err: unknown) =>
          this.deps.logger?.warn({ err: (err as Error).message }, 'lease reaper pass failed; the next one retries'),
        );
    };
    tick();
    const timer = setInterval(tick, seconds * 1000);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async pass(lookup: HolderRunLookup): Promise<ReapedLease[]> {
    const reaped: ReapedLease[] = [];
    for (const lease of await readHeldLeases(this.deps.db)) {
      const released = await this.reapOne(lease, lookup);
      if (released) reaped.push(released);
    }
    return reaped;
  }

  /**
   * The same run's other leftover: its remediation stays open in the index, so
   * repeats of its alerts would join a run that is gone (and the host shows a
   * remediation under way). Closed as cancelled, with the reason and an audit record.
   */
  async closeAbandoned(lookup: HolderRunLookup = this.deps.holderRun): Promise<void> {
    for (const open of await openRemediationRuns(this.deps.db)) {
      const reason = abandonedRunReason(open.workflowId, await lookup(open.workflowId, open.runId));
      if (reason && (await closeAbandonedRemediation(this.deps.db, open.remediationId, reason)))
        this.deps.logger?.info({ remediationId: open.remediationId, host: open.host }, `remediation closed: ${reason}`);
    }
  }

  private async reapOne(lease: HeldLease, lookup: HolderRunLookup): Promise<ReapedLease | null> {
    const run = await lookup(lease.workflowId, lease.runId);
    const reason = staleLeaseReason(lease, run);
    if (!reason) return null;
    const released = await releaseLeaseFor(this.deps.db, lease.remediationId, {
      actorKind: 'system',
      actor: 'lease-reaper',
      reason,
    });
    if (!released) return null;
    this.deps.logger?.info({ remediationId: lease.remediationId, host: lease.host, zone: lease.zone }, reason);
    return { remediationId: lease.remediationId, host: lease.host, zone: lease.zone, reason };
  }
}
