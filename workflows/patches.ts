/**
 * Every workflow patch, in one registry: the ID `patched()` records, the day
 * it came in, and what it protects. A patch keeps a run that started on the
 * older code replaying the way it ran, while new runs take the new path.
 *
 * The lifecycle (samples-typescript `patching-api`):
 * 1. A change that would alter the commands of a run already in flight goes
 *    behind `patched(PATCH.x)`, with the old path kept in the `else`.
 * 2. Once no open workflow can still be on the old path (every run started
 *    before the patch's date has closed — check with
 *    `temporal workflow list --query 'StartTime < "<date>" AND ExecutionStatus = "Running"'`,
 *    remembering that a hand-off continues as new and keeps running), replace
 *    `patched(id)` with `deprecatePatch(id)` and delete the old path.
 * 3. Once no open workflow started before the deprecation was deployed, remove
 *    the `deprecatePatch` call and the entry here.
 * Stored histories in test/fixtures replay on every test run; a fixture that
 * still needs an old path keeps its patch until the fixture is retired with it.
 */
export const PATCH = {
  /** 2026-11-24: operator Updates (approve, reject, hand back) answer once the workflow acted on them, not at once. */
  answerAfterActing: 'operator-updates-answer-after-acting',
  /** 2026-11-24: fleet-wide guards (capacity leases, cooldown, a person's override) before a host is taken out. */
  fleetGuards: 'fleet-guards',
  /** 2026-11-24: the policy's escalation ladder; earlier runs repair with a flat list of actions. */
  repairLadder: 'repair-ladder',
  /** 2026-11-25: the policy's confirm checks apply to re-checks and verification, not only to the first audit. */
  checksThroughout: 'policy-checks-throughout',
  /** 2026-11-25: a ladder's wait step is followed by a health check, so a host that recovered while waiting is verified. */
  checkAfterWait: 'ladder-check-after-wait',
  /** 2026-11-25: a server that cannot be live-migrated may be cold-migrated, when the policy allows it. */
  coldMigrationFallback: 'cold-migration-fallback',
  /** 2026-11-25: a host that is down is fenced and its servers evacuated, when the policy allows it. */
  evacuation: 'evacuation',
  /** 2026-11-28: while Shipshape's fence is on, checks first try to lift it; a hand-off or stand-down names a fence that stays. */
  liftFenceBeforeChecks: 'lift-fence-before-checks',
  /** 2026-11-28: a person's decision (approve, reject, hand back, cancel) is acted on only once the worker verified the API's signature and the role. */
  signedDecisions: 'signed-decisions',
  /** 2026-11-28: an approval rule's severities are met by the severity the audit shows too, not only by the alert's claim. */
  approvalOnAuditedSeverity: 'approval-on-audited-severity',
  /** 2026-11-28: a remediation acts only if the worker verified that the API started it with this input. */
  signedStart: 'signed-start',
} as const;

export type PatchId = (typeof PATCH)[keyof typeof PATCH];
