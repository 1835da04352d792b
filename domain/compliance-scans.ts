/**
 * How compliance scans are named, wherever they start: a scan on demand is
 * `<prefix>compliance-scan/<uuid>`; a profile's schedule is
 * `<prefix>compliance-scan/<profile>` and each of its runs is that ID with the
 * time Temporal appends (`os-baseline-2026-12-08T03:00:00Z`). The API shows
 * the part after `compliance-scan/` as the scan's ID.
 */
import type { ProfileSchedule } from './compliance';

const SCANS = 'compliance-scan/';

/** A scan's status, as Temporal has it: `running` until the workflow records its end or Temporal closes it. */
export const SCAN_STATUSES = ['running', 'completed', 'failed', 'canceled', 'terminated', 'timed-out'] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

export const scanWorkflowId = (prefix: string, scanId: string) => `${prefix}${SCANS}${scanId}`;

/** The scan's ID from its workflow ID (the prefix may end in anything, the scan's own part has no slash). */
export function scanIdOfWorkflow(workflowId: string): string {
  const at = workflowId.lastIndexOf(SCANS);
  return at < 0 ? workflowId : workflowId.slice(at + SCANS.length);
}

/** A profile's Temporal Schedule; its runs' workflow IDs start the same way. */
export const scanScheduleId = (prefix: string, profile: string) => `${prefix}${SCANS}${profile}`;

/** Who asked for a scheduled run. */
export const scheduleRequester = (profile: string) => `schedule:${profile}`;

/** The profile whose schedule asked for a scan, or null when a person did. */
export const scheduledProfileOf = (requestedBy: string) =>
  requestedBy.startsWith('schedule:') ? requestedBy.slice('schedule:'.length) : null;

/** What a scan ID may look like: a UUID, or a profile name and a time. */
export const SCAN_ID = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,299}$/;

/** The schedule as the operator wrote it, in one line (`cron 0 3 * * *`, `every 60 min`). */
export function describeSchedule(s: ProfileSchedule): string {
  return 'cron' in s ? `cron ${s.cron}` : `every ${s.everyMinutes} min`;
}
