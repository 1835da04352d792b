/**
 * A compliance scan, on demand or by a profile's schedule: the hosts named
 * (or the whole inventory) in batches of 16 at a time, each host one activity
 * that reads, judges and records it. A host that cannot be read is `error`
 * findings inside its own activity, never a failed scan; only a host whose
 * activity keeps failing (the database gone) is counted as not scanned.
 *
 * The scan records itself: its start (once, whoever started it) with the
 * profiles checked before any host is read, so a bad profile file fails the
 * scan at once naming the file and line; and its end, completed with the
 * summary, failed with why, or canceled.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import { FailureType } from '../domain/errors';
import { scanIdOfWorkflow } from '../domain/compliance-scans';
import type { HostScanResult, ResultCounts } from '../activities/compliance';
import type { ProfileActivities } from './activity-profiles';

/** One host's scan: one SSH connection with every command, then one transaction; retried a few times. */
const scans = proxyActivities<ProfileActivities<'complianceScans'>>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 3 },
});

const lister = proxyActivities<ProfileActivities<'complianceHostLists'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** The scan's own record: retried until the database is back. */
const bookkeeping = proxyActivities<ProfileActivities<'complianceScanRecords'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

export const SCAN_BATCH_SIZE = 16;

export interface ComplianceScanInput {
  hosts: string[] | 'all';
  /** Profile names; every profile when absent. */
  profiles?: string[];
  /** Who asked: a person's subject, or `schedule:<profile>`. */
  requestedBy?: string;
}

export interface ComplianceScanSummary {
  hosts: number;
  scanned: number;
  /** Hosts the inventory does not know (nothing recorded). */
  unknown: string[];
  /** Hosts read over SSH without success (their SSH rules are `error`), with why; up to 50. */
  unreachable: Array<{ host: string; error: string }>;
  /** Hosts whose scan failed (not recorded), with why; up to 50. */
  failed: Array<{ host: string; error: string }>;
  /** Results per state over every host scanned. */
  results: ResultCounts;
}

export async function complianceScanWorkflow(input: ComplianceScanInput): Promise<ComplianceScanSummary> {
  const { workflowId, startTime } = workflowInfo();
  const scanId = scanIdOfWorkflow(workflowId);
  try {
    await bookkeeping.startComplianceScan({
      scanId,
      workflowId,
      hosts: input.hosts,
      ...(input.profiles ? { profiles: input.profiles } : {}),
      requestedBy: input.requestedBy ?? 'unknown',
      startedAt: startTime.toISOString(),
    });
    const summary = await scanHosts(input);
    await bookkeeping.finishComplianceScan({ scanId, status: 'completed', summary });
    return summary;
  } catch (err) {
    // The record says how the scan ended; a cancel is recorded too, out of the canceled scope.
    const canceled = isCancellation(err);
    const cause = err instanceof ActivityFailure ? (err.cause ?? err) : err;
    if (!canceled && !(cause instanceof ApplicationFailure)) throw err; // a bug: the task is retried, the scan runs on
    const why = (cause as Error).message;
    await CancellationScope.nonCancellable(() =>
      bookkeeping.finishComplianceScan({
        scanId,
        status: canceled ? 'canceled' : 'failed',
        error: why,
      }),
    );
    if (canceled) throw err;
    throw ApplicationFailure.create({
      message: why,
      type: (cause as ApplicationFailure).type ?? undefined,
      nonRetryable: true,
    });
  }
}

async function scanHosts(input: ComplianceScanInput): Promise<ComplianceScanSummary> {
  const hosts = input.hosts === 'all' ? await lister.listScanHosts() : [...new Set(input.hosts)];
  const summary: ComplianceScanSummary = {
    hosts: hosts.length,
    scanned: 0,
    unknown: [],
    unreachable: [],
    failed: [],
    results: { pass: 0, fail: 0, error: 0, 'not-applicable': 0 },
  };
  const add = (r: HostScanResult) => {
    if (!r.known) return void summary.unknown.push(r.host);
    summary.scanned++;
    for (const [state, n] of Object.entries(r.counts)) summary.results[state as keyof ResultCounts] += n;
    if (r.sshError && summary.unreachable.length < 50) summary.unreachable.push({ host: r.host, error: r.sshError });
  };
  for (let i = 0; i < hosts.length; i += SCAN_BATCH_SIZE) {
    const batch = hosts.slice(i, i + SCAN_BATCH_SIZE);
    await Promise.all(
      batch.map(async (host) => {
        try {
          add(await scans.scanHostCompliance({ host, ...(input.profiles ? { profiles: input.profiles } : {}) }));
        } catch (err) {
          const cause = err instanceof ActivityFailure ? (err.cause ?? err) : err;
          // A profile name the folder does not have is the scan's mistake, not the host's: the scan fails, naming it.
          if (cause instanceof ApplicationFailure && cause.type === FailureType.UnknownProfile)
            throw ApplicationFailure.create({ message: cause.message, type: cause.type, nonRetryable: true });
          if (summary.failed.length < 50) summary.failed.push({ host, error: (cause as Error).message });
        }
      }),
    );
  }
  return summary;
}
