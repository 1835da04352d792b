/**
 * A compliance scan's bookkeeping: its record at the start (a scheduled run
 * has nobody else to record it, nor to audit it) with the profiles checked
 * once for the whole scan, and its record at the end.
 *
 * The profiles are loaded here before any host is read, so a bad file fails
 * the scan at once with the file, line and column, rather than every host's
 * activity failing the same way after its retries.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { closeScan, recordScanStart, type ScanEnd } from '../db/compliance-scans';
import { scheduledProfileOf } from '../domain/compliance-scans';
import { FailureType } from '../domain/errors';
import { ComplianceProfileError, loadProfiles } from '../policies/compliance-loader';

export interface ComplianceScanRecordDeps {
  db: Pool;
  /** The profiles' folder, as the host scans read it. */
  profilesDir: string;
}

export interface ScanStartInput {
  scanId: string;
  workflowId: string;
  /** 'all': every host of the inventory. */
  hosts: string[] | 'all';
  /** Absent: every profile. */
  profiles?: string[];
  /** A person's subject, or `schedule:<profile>`. */
  requestedBy: string;
  /** When the workflow started (ISO 8601). */
  startedAt: string;
}

export interface ScanEndInput {
  scanId: string;
  status: 'completed' | 'failed' | 'canceled';
  summary?: unknown;
  error?: string;
}

export function createComplianceScanActivities(deps: ComplianceScanRecordDeps) {
  return {
    /**
     * Record the scan (once, whoever comes first), then check that the profiles load and that every profile
     * named is there. A bad folder or an unknown name is the scan's mistake: it fails at once, not retried.
     */
    async startComplianceScan(input: ScanStartInput): Promise<{ profiles: string[] }> {
      const start = {
        id: input.scanId,
        workflowId: input.workflowId,
        profiles: input.profiles ?? null,
        hosts: input.hosts === 'all' ? null : input.hosts,
        requestedBy: input.requestedBy,
        startedAt: new Date(input.startedAt),
      };
      // A person's scan was audited by the API before it started; a schedule's is audited here, once.
      const schedule = scheduledProfileOf(input.requestedBy);
      await recordScanStart(
        deps.db,
        start,
        schedule === null
          ? undefined
          : {
              actorKind: 'system',
              actor: input.requestedBy,
              policyVersion: null,
              action: 'compliance scan started',
              reason: `the schedule of ${schedule}: ${input.hosts === 'all' ? 'every host' : `${input.hosts.length} host(s)`}; ${input.profiles?.join(', ') ?? 'every profile'}`,
              after: { scanId: input.scanId, hosts: input.hosts, profiles: input.profiles ?? 'all' },
              idempotencyKey: `compliance-scan-started/${input.scanId}`,
            },
      );
      let names: string[];
      try {
        names = loadProfiles(deps.profilesDir).map((p) => p.name);
      } catch (err) {
        if (!(err instanceof ComplianceProfileError)) throw err; // the folder unreadable now: retried
        throw ApplicationFailure.create({
          message: `the compliance profiles in ${deps.profilesDir} do not load:\n${err.message}`,
          type: FailureType.BadProfile,
          nonRetryable: true,
          details: [err.issues],
        });
      }
      const unknown = (input.profiles ?? []).filter((n) => !names.includes(n));
      if (unknown.length > 0)
        throw ApplicationFailure.nonRetryable(
          `no compliance profile named ${unknown.join(', ')} in ${deps.profilesDir}`,
          FailureType.UnknownProfile,
        );
      return { profiles: input.profiles ?? names };
    },

    /** Record the scan's end; an end already recorded stays as it is. */
    async finishComplianceScan(input: ScanEndInput): Promise<void> {
      const end: ScanEnd = {
        status: input.status,
        finishedAt: new Date(),
        summary: input.summary,
        error: input.error ?? null,
      };
      await closeScan(deps.db, input.scanId, end);
    },
  };
}

export type ComplianceScanRecordActivities = ReturnType<typeof createComplianceScanActivities>;
