/**
 * Power action intents: a durable note, written before a power action is
 * requested from the provider, that an activity may have cut a host's power.
 * Heartbeats say the same, but they are throttled and can be lost with the
 * worker; this row is committed before the request leaves. The activity
 * (activities/power-intent.ts) decides what a retry does with it.
 */
import type { Queryable } from './pool';

/** The activity that issues the action: the same on every retry of it. */
export interface PowerActionKey {
  workflowId: string;
  runId: string;
  activityId: string;
}

export interface PowerActionIntent {
  host: string;
  action: string;
  requestedAt: Date;
  /** When the provider answered that it took the request; null while it may be in flight. */
  issuedAt: Date | null;
}

export async function findPowerActionIntent(db: Queryable, key: PowerActionKey): Promise<PowerActionIntent | null> {
  const { rows } = await db.query<PowerActionIntent>(
    `SELECT host, action, requested_at AS "requestedAt", issued_at AS "issuedAt" FROM power_action_intents
      WHERE workflow_id = $1 AND run_id = $2 AND activity_id = $3`,
    [key.workflowId, key.runId, key.activityId],
  );
  return rows[0] ?? null;
}

/** Note that the action is about to be requested (a retry's second note changes nothing). */
export async function notePowerActionRequested(
  db: Queryable,
  key: PowerActionKey,
  action: { host: string; action: string },
): Promise<void> {
  await db.query(
    `INSERT INTO power_action_intents (workflow_id, run_id, activity_id, host, action) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING`,
    [key.workflowId, key.runId, key.activityId, action.host, action.action],
  );
}

/** The provider took the request. */
export async function notePowerActionIssued(db: Queryable, key: PowerActionKey): Promise<void> {
  await db.query(
    `UPDATE power_action_intents SET issued_at = coalesce(issued_at, now())
      WHERE workflow_id = $1 AND run_id = $2 AND activity_id = $3`,
    [key.workflowId, key.runId, key.activityId],
  );
}

/** The provider refused the request: nothing was issued, and a retry may ask again. */
export async function forgetPowerActionRequest(db: Queryable, key: PowerActionKey): Promise<void> {
  await db.query(
    `DELETE FROM power_action_intents WHERE workflow_id = $1 AND run_id = $2 AND activity_id = $3 AND issued_at IS NULL`,
    [key.workflowId, key.runId, key.activityId],
  );
}

/**
 * Delete intents requested more than `retentionDays` ago: every retry of
 * their activity is long over (an activity's whole budget is hours, not days).
 * Runs with the telemetry sweep's bookkeeping; returns how many went.
 */
export async function prunePowerActionIntents(db: Queryable, retentionDays: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM power_action_intents WHERE requested_at < now() - make_interval(days => $1)`,
    [retentionDays],
  );
  return rowCount ?? 0;
}
