/**
 * The telemetry sweep, run by a Temporal Schedule: list the fleet, read it
 * in batches (each batch an activity reading its hosts with bounded
 * concurrency), then close the sweep. A batch's failure to reach the
 * database is retried; one host's bad BMC is only that host's state.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { HostReadResult } from '../activities/telemetry';
import type { ProfileActivities } from './activity-profiles';

const bookkeeping = proxyActivities<ProfileActivities<'sweepBookkeeping'>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

const reads = proxyActivities<ProfileActivities<'sweepReads'>>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 3 },
});

export interface SweepInput {
  /** Hosts per activity (default 100). */
  batchSize?: number;
  /** Batches in flight at once (default 2; each reads `concurrency` hosts at a time). */
  parallelBatches?: number;
}

export interface SweepSummary {
  sweepId: string;
  hosts: number;
  ok: number;
  failed: number;
  signals: number;
  pruned: number;
  /** Up to 50 hosts that could not be read, with why. */
  errors: Array<{ host: string; error: string }>;
}

export async function telemetrySweepWorkflow(input: SweepInput = {}): Promise<SweepSummary> {
  const { sweepId, hosts } = await bookkeeping.startSweep();
  const size = Math.max(1, input.batchSize ?? 100);
  const batches: string[][] = [];
  for (let i = 0; i < hosts.length; i += size) batches.push(hosts.slice(i, i + size));

  const summary: SweepSummary = { sweepId, hosts: hosts.length, ok: 0, failed: 0, signals: 0, pruned: 0, errors: [] };
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const batch = batches[next++] as string[];
      const r = await reads.sweepHosts({ sweepId, hosts: batch });
      summary.ok += r.ok;
      summary.failed += r.failed;
      summary.signals += r.signals;
      summary.errors.push(...r.errors.slice(0, 50 - summary.errors.length));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.parallelBatches ?? 2, batches.length)) }, lane));
  summary.pruned = (await bookkeeping.finishSweep(sweepId)).pruned;
  return summary;
}

/** Read one host now, outside the schedule (POST /v1/hosts/{id}/refresh). */
export async function refreshHostWorkflow(host: string): Promise<HostReadResult> {
  return reads.refreshHost(host);
}
