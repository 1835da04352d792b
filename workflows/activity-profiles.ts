/**
 * Named timeout and retry profiles. Activities are imported as types only and
 * proxied here, so the workflow bundle carries no activity code. Each
 * activity belongs to exactly one profile (PROFILE_ACTIVITIES, held by a
 * test), and a profile exposes only its own, so no workflow can call an
 * activity with another profile's timeouts.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { RemediationActivities } from '../activities';

/** Which activities each profile carries; the sweep's two profiles are in telemetry.ts, the scan's in compliance-scan.ts. */
export const PROFILE_ACTIVITIES = {
  records: ['recordProgress', 'checkRepeatOffence', 'acquireCapacity', 'releaseCapacity', 'markComplianceFix'],
  hostActions: ['auditHost', 'listServersOnHost'],
  serviceToggles: ['disableCompute', 'enableCompute', 'fenceHost'],
  trackedActions: ['moveServerOffHost'],
  paging: ['notifyOperator'],
  stepActions: ['powerCycle', 'reboot', 'restartComputeService'],
  sweepBookkeeping: ['startSweep', 'finishSweep'],
  sweepReads: ['sweepHosts', 'refreshHost'],
  decisions: ['verifyDecision', 'verifyStart'],
  complianceHostLists: ['listScanHosts'],
  complianceScans: ['scanHostCompliance'],
  complianceChecks: ['recheckComplianceRules'],
  complianceFixes: ['applyComplianceFix'],
  reclaimBooks: ['recordReclaim', 'recheckReclaim', 'resolveOwners', 'reclaimGate', 'reportReclaimFailure'],
  reclaimNotices: ['sendReclaimNotice'],
  reclaimChanges: ['takeReversibleStep', 'restoreResource', 'deleteResource'],
  reclaimScans: ['scanReclaimRule', 'listReclaimRules'],
  complianceScanRecords: ['startComplianceScan', 'finishComplianceScan'],
} as const satisfies Record<string, ReadonlyArray<keyof RemediationActivities>>;

/** The activities of one profile, and only those. */
export type ProfileActivities<P extends keyof typeof PROFILE_ACTIVITIES> = Pick<
  RemediationActivities,
  (typeof PROFILE_ACTIVITIES)[P][number]
>;

/** Shipshape's own records: retried until the database is back, never dropped. */
export const records = proxyActivities<ProfileActivities<'records'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Quick reads and toggles on a host: a few tries, then the workflow hands off. */
export const hostActions = proxyActivities<ProfileActivities<'hostActions'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 5 },
});

/**
 * Taking a host out of scheduling and back (nova-compute disabled, enabled,
 * forced down): Nova answers these slowly for a host that has just died, so
 * they get the time such an answer takes, not a quick read's.
 */
export const serviceToggles = proxyActivities<ProfileActivities<'serviceToggles'>>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 5 },
});

/**
 * Long actions that are tracked until done (live migrations, power cycles).
 * They heartbeat, also while a provider call blocks (activities/keep-alive.ts:
 * OpenStack's power cycle can take 120 s), so the 10 s timeout means a dead
 * worker, never a slow call, and the retry resumes tracking the action in flight.
 */
export const trackedActions = proxyActivities<ProfileActivities<'trackedActions'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 5 },
});

/** Anything that pages or e-mails a person: capped, so a broken webhook cannot spam. */
export const paging = proxyActivities<ProfileActivities<'paging'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumAttempts: 3 },
});

/**
 * A ladder step's activity: the step's whole time (`timeoutSeconds`) is its
 * budget. A transient failure (a conductor answering 503, a BMC not
 * answering) is retried with back-off until that time is up, not after a
 * fixed count; a permanent one fails the step at once. It heartbeats as
 * tracked actions do, and a power action is issued once however often it is
 * retried. (`retries` in older policy files no longer caps this.)
 */
export function stepActions(step: { timeoutSeconds?: number }) {
  const budget = (step.timeoutSeconds ?? 600) * 1000; // ms
  return proxyActivities<ProfileActivities<'stepActions'>>({
    scheduleToCloseTimeout: budget,
    startToCloseTimeout: budget,
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
}

/** A compliance rule read again on one host (one SSH connection, one transaction): a few tries, then a hand-off. */
export const complianceChecks = proxyActivities<ProfileActivities<'complianceChecks'>>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 3 },
});

/**
 * A rule's fix run on the host: its command may take minutes (a package
 * upgrade) and heartbeats meanwhile. Run again at most once, after a lost
 * worker or an unreachable host: fix commands are idempotent by contract
 * (docs/compliance.md), and a fix that ran and failed is an answer, not retried.
 */
export const complianceFixes = proxyActivities<ProfileActivities<'complianceFixes'>>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', maximumAttempts: 2, nonRetryableErrorTypes: ['UnknownProfile'] },
});

/**
 * The check of a person's decision (signature, role), run in the worker before
 * an Update acts: local, because the caller is waiting; not retried, because a
 * refusal is final and a person can simply send the decision again.
 */
export const decisions = proxyLocalActivities<ProfileActivities<'decisions'>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});
