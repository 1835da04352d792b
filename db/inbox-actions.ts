/**
 * What a person does to an inbox item: acknowledge, assign (or unassign),
 * snooze, resolve with a note, reopen. Each is one transaction: the item's
 * columns, a line in its history, the engine re-deriving its state (so the
 * answer shows it), and the audit record, last (it holds the chain's lock
 * until the commit).
 *
 * Decide, then act: {@link refusal} says why an action makes no sense for the
 * item as it stands (a resolved item is not acknowledged, an open one is not
 * reopened, a merged one takes no action), before anything is written.
 */
import type { Pool } from 'pg';
import { clock } from '../domain/inbox';
import { matcherText, type Silence } from '../domain/silences';
import { appendAudit } from './audit-log';
import { waitForInboxLock } from './inbox';
import { findInboxItem, type InboxItemView } from './inbox-views';
import { inTransaction, type Queryable } from './pool';
import { createSilence, expireSilence, type SilenceRecord } from './silences';

export type InboxAction =
  | { kind: 'acknowledge'; comment?: string }
  | { kind: 'assign'; to: string | null; comment?: string }
  | { kind: 'snooze'; until: Date | null; untilChange: boolean; comment?: string }
  | { kind: 'resolve'; note: string }
  | { kind: 'reopen'; comment?: string };

export type InboxActionName = InboxAction['kind'];

/** Re-derive these items' states in the caller's transaction (the engine's `evaluate`). */
export type Evaluate = (ids: string[], db: Queryable) => Promise<void>;

export type ActionResult = { done: InboxItemView } | { notFound: true } | { refused: string };

const isResolved = (i: InboxItemView) => i.state === 'resolved' || i.closedAt !== null;

/** Why the action makes no sense for the item now, or null when it may go ahead. */
export function refusal(item: InboxItemView, action: InboxAction, now: Date): string | null {
  const what = `item ${item.id}`;
  if (item.mergedInto) return `${what} was folded into ${item.mergedInto}; act on that item`;
  const resolvedHow = `${what} is resolved (${item.stateReason})`;
  switch (action.kind) {
    case 'acknowledge':
      if (isResolved(item)) return `${resolvedHow}; reopen it first`;
      if (item.state === 'acknowledged' && item.acknowledged)
        return `${what} is already acknowledged by ${item.acknowledged.by} at ${clock(item.acknowledged.at, now)}`;
      return null;
    case 'assign':
      if (isResolved(item)) return `${resolvedHow}; reopen it first`;
      if (action.to === null && !item.assignee) return `${what} is not assigned to anyone`;
      if (action.to !== null && item.assignee?.to === action.to) return `${what} is already assigned to ${action.to}`;
      return null;
    case 'snooze':
      return isResolved(item) ? `${resolvedHow}; there is nothing to snooze` : null;
    case 'resolve':
      return isResolved(item) ? `${resolvedHow} already` : null;
    case 'reopen':
      return isResolved(item) ? null : `${what} is open (${item.state}); only a resolved item is reopened`;
  }
}

/** The history line and the audit reason: what the person did, and why. */
function describe(action: InboxAction, now: Date): { entry: string; reason: string } {
  const why = (c?: string) => (c ? `: ${c}` : '');
  switch (action.kind) {
    case 'acknowledge':
      return { entry: `acknowledged${why(action.comment)}`, reason: action.comment ?? 'acknowledged' };
    case 'assign':
      return action.to === null
        ? { entry: `unassigned${why(action.comment)}`, reason: action.comment ?? 'unassigned' }
        : {
            entry: `assigned to ${action.to}${why(action.comment)}`,
            reason: action.comment ?? `assigned to ${action.to}`,
          };
    case 'snooze': {
      const until = [
        action.until ? `until ${clock(action.until, now)}` : null,
        action.untilChange ? 'until it changes' : null,
      ]
        .filter(Boolean)
        .join(' or ');
      return { entry: `snoozed ${until}${why(action.comment)}`, reason: action.comment ?? `snoozed ${until}` };
    }
    case 'resolve':
      return { entry: `resolved: ${action.note}`, reason: action.note };
    case 'reopen':
      return { entry: `reopened${why(action.comment)}`, reason: action.comment ?? 'reopened' };
  }
}

/** The item's columns the action sets: SQL assignments with $3.. and their values ($1 the id, $2 the person, $3 now). */
function columnsOf(action: InboxAction): { set: string; args: unknown[] } {
  switch (action.kind) {
    case 'acknowledge':
      return { set: 'acknowledged_by = $2, acknowledged_at = $3', args: [] };
    case 'assign':
      return action.to === null
        ? { set: 'assignee = NULL, assigned_by = $2, assigned_at = $3', args: [] }
        : { set: 'assignee = $4, assigned_by = $2, assigned_at = $3', args: [action.to] };
    case 'snooze':
      return {
        set: 'snooze_by = $2, snooze_at = $3, snooze_until = $4, snooze_until_change = $5',
        args: [action.until, action.untilChange],
      };
    case 'resolve':
      return { set: 'resolved_by = $2, resolved_by_at = $3, resolved_note = $4', args: [action.note] };
    case 'reopen':
      // A person's resolution no longer counts, nor does the acknowledgement or snooze of before: the item
      // needs a person again (unless the source has resolved every alert: then it stays resolved by the source).
      return {
        set: `reopened_by = $2, reopened_at = $3, acknowledged_by = NULL, acknowledged_at = NULL,
              snooze_by = NULL, snooze_at = NULL, snooze_until = NULL, snooze_until_change = false`,
        args: [],
      };
  }
}

/**
 * The time an action is recorded at: now, or just after the item's latest
 * action by a person when that is not earlier (the same millisecond, a clock
 * behind another replica's). The states compare these times, so a reopen
 * right after a resolve must come after it.
 */
function afterEarlierActions(item: InboxItemView, now: Date): Date {
  const times = [item.resolution?.at, item.reopened?.at, item.acknowledged?.at, item.snooze?.at, item.assignee?.at];
  const latest = Math.max(...times.map((t) => t?.getTime() ?? 0));
  return latest >= now.getTime() ? new Date(latest + 1) : now;
}

/**
 * Apply a person's action to an item, in one transaction, and answer the
 * item as the engine re-derived it; or say there is no such item, or why the
 * action is refused.
 */
export async function actOnInboxItem(
  db: Pool,
  id: string,
  person: string,
  action: InboxAction,
  options: { evaluate: Evaluate; now: Date },
): Promise<ActionResult> {
  const { now } = options;
  return inTransaction(db, async (tx): Promise<ActionResult> => {
    // The inbox's lock first: a person's action and the engine's tick take turns (a row lock taken
    // before it would deadlock with a tick that holds it and writes the item).
    await waitForInboxLock(tx);
    const before = await findInboxItem(tx, id);
    if (!before) return { notFound: true };
    const refused = refusal(before, action, now);
    if (refused) return { refused };
    const { set, args } = columnsOf(action);
    const at = afterEarlierActions(before, now);
    await tx.query(`UPDATE inbox_items SET ${set} WHERE id = $1`, [id, person, at, ...args]);
    const { entry, reason } = describe(action, now);
    await tx.query(
      `INSERT INTO inbox_history (item_id, at, actor, from_state, to_state, entry) VALUES ($1, $2, $3, $4, NULL, $5)`,
      [id, now, person, before.state, entry],
    );
    await options.evaluate([id], tx);
    const after = (await findInboxItem(tx, id))!;
    await appendAudit(tx, {
      actorKind: 'person',
      actor: person,
      policyVersion: null,
      host: before.host,
      remediationId: before.remediationId,
      action: `inbox.${action.kind}`,
      reason,
      before: { item: id, state: before.state, reason: before.stateReason },
      after: { item: id, state: after.state, reason: after.stateReason, did: entry },
    });
    return { done: after };
  });
}

/** Store a silence a person made, with its audit record, in one transaction. */
export async function createSilenceAudited(db: Pool, silence: Silence): Promise<void> {
  await inTransaction(db, async (tx) => {
    await createSilence(tx, silence);
    await appendAudit(tx, {
      actorKind: 'person',
      actor: silence.createdBy,
      policyVersion: null,
      action: 'inbox.silence.create',
      reason: silence.comment,
      after: {
        silence: silence.id,
        matchers: silence.matchers.map(matcherText),
        startsAt: silence.startsAt,
        endsAt: silence.endsAt,
        endOnResolve: silence.endOnResolve,
      },
    });
  });
}

/** End a silence now, by a person, with its audit record; false when it had ended already. */
export async function expireSilenceAudited(
  db: Pool,
  silence: SilenceRecord,
  by: string,
  reason: string,
  now: Date,
): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    if (!(await expireSilence(tx, silence.id, by, now))) return false;
    await appendAudit(tx, {
      actorKind: 'person',
      actor: by,
      policyVersion: null,
      action: 'inbox.silence.expire',
      reason,
      before: { silence: silence.id, matchers: silence.matchers, endsAt: silence.endsAt },
      after: { silence: silence.id, endedAt: now },
    });
    return true;
  });
}
