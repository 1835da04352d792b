/**
 * Inbox notifications in PostgreSQL (inbox_deliveries): the items routing
 * considers, the deliveries each item had, the due ones written as `pending`,
 * and each pending one claimed, sent and recorded (api/inbox-notifier.ts).
 *
 * A row is kept after it was sent or given up on: that is how the same state
 * change is never told twice (the unique index inbox_deliveries_once, and
 * notificationsDue counting every row, failed ones too, as made).
 */
import type { Pool, PoolClient } from 'pg';
import type {
  InboxItemState,
  InboxNotification,
  NotificationDelivery,
  NotificationKind,
  RoutableItem,
} from '../domain/notification-routes';
import { inTransaction, type Queryable } from './pool';

/**
 * Key of the advisory lock whose holder decides which notifications are due
 * ("1B0C5" reads as "inbox"). Held for one transaction per tick only.
 */
export const INBOX_NOTIFIER_LOCK = 0x1b0c5;

/**
 * Run `decide` in a transaction holding INBOX_NOTIFIER_LOCK, if no one else holds
 * it: among API replicas, one decides at a time and the others skip that tick
 * (they answer undefined). The lock ends with the transaction.
 */
export async function asNotifierLeader<T>(db: Pool, decide: (tx: Queryable) => Promise<T>): Promise<T | undefined> {
  return inTransaction(db, async (tx) => {
    const { rows } = await tx.query<{ leader: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS leader', [
      INBOX_NOTIFIER_LOCK,
    ]);
    return rows[0]?.leader ? decide(tx) : undefined;
  });
}

/** How long a resolved item is still considered, so its `resolved` notices go out. */
export const RESOLVED_NOTICE_WINDOW_MS = 60 * 60_000;

/** Who writes a failed delivery into an item's history. */
export const NOTIFIER_ACTOR = 'notifications';

interface ItemRow {
  id: string;
  title: string;
  state: InboxItemState;
  state_since: Date;
  severity: string;
  state_reason: string;
  host: string | null;
  zone: string | null;
  role: string | null;
  source: string;
}

/**
 * The items routing considers at `now`: every open item (not closed, not merged),
 * and items resolved within the last hour that someone was told of before.
 * `url` is where a person opens the item, when the API's public URL is known.
 */
export async function routableItems(db: Queryable, now: Date, publicUrl?: string): Promise<RoutableItem[]> {
  const { rows } = await db.query<ItemRow>(
    `SELECT i.id, i.title, i.state, i.state_since, i.severity, i.state_reason, i.host, i.zone, i.role, i.source
       FROM inbox_items i
      WHERE i.merged_into IS NULL
        AND (i.closed_at IS NULL
             OR (i.closed_at >= $1::timestamptz - make_interval(secs => $2::double precision / 1000)
                 AND EXISTS (SELECT 1 FROM inbox_deliveries d WHERE d.item_id = i.id)))`,
    [now, RESOLVED_NOTICE_WINDOW_MS],
  );
  const base = publicUrl?.replace(/\/+$/, '');
  return rows.map((r) => {
    const item: RoutableItem = {
      id: r.id,
      title: r.title,
      state: r.state,
      stateSince: r.state_since,
      severity: r.severity,
      reason: r.state_reason,
      source: r.source,
    };
    if (r.host !== null) item.host = r.host;
    if (r.zone !== null) item.zone = r.zone;
    if (r.role !== null) item.role = r.role;
    if (base) item.url = `${base}/v1/inbox/${r.id}`;
    return item;
  });
}

/**
 * The deliveries of these items, as notificationsDue takes them: every row
 * counts, pending, sent or failed (a failed one was retried its bounded number
 * of times already; the next reminder tries again). Rows of one receiver, kind
 * and state change are folded into their latest, which is all routing reads.
 */
export async function deliveriesOf(db: Queryable, itemIds: string[]): Promise<Map<string, NotificationDelivery[]>> {
  const byItem = new Map<string, NotificationDelivery[]>();
  if (itemIds.length === 0) return byItem;
  const { rows } = await db.query<{
    item_id: string;
    receiver: string;
    kind: NotificationKind;
    state_since: Date;
    at: Date;
  }>(
    `SELECT item_id, receiver, kind, state_since, max(created_at) AS at
       FROM inbox_deliveries WHERE item_id = ANY($1::uuid[])
      GROUP BY item_id, receiver, kind, state_since`,
    [itemIds],
  );
  for (const r of rows) {
    const list = byItem.get(r.item_id) ?? [];
    list.push({ receiver: r.receiver, kind: r.kind, stateSince: r.state_since, at: r.at });
    byItem.set(r.item_id, list);
  }
  return byItem;
}

/** A message routing decided to send: to whom, and which state change of the item it tells. */
export interface NewDelivery {
  receiver: string;
  stateSince: Date;
  message: InboxNotification;
}

/**
 * Write due messages as `pending`, all in one statement. A state change already
 * told to that receiver (inbox_deliveries_once) is skipped; reminders are not
 * covered by that index, so only the one leader may call this (api/inbox-notifier.ts).
 * Answers how many rows were written.
 */
export async function insertPendingDeliveries(db: Queryable, due: NewDelivery[], at: Date): Promise<number> {
  if (due.length === 0) return 0;
  const rows = due.map((d) => ({
    item_id: d.message.itemId,
    receiver: d.receiver,
    kind: d.message.kind,
    state_since: d.stateSince.toISOString(),
    state: d.message.state,
    message: d.message,
  }));
  const result = await db.query(
    `INSERT INTO inbox_deliveries (item_id, receiver, kind, state_since, state, message, created_at)
     SELECT item_id, receiver, kind, state_since, state, message, $2
       FROM jsonb_to_recordset($1::jsonb)
            AS v(item_id uuid, receiver text, kind text, state_since timestamptz, state text, message jsonb)
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows), at],
  );
  return result.rowCount ?? 0;
}

export interface PendingDelivery {
  id: string;
  itemId: string;
  receiver: string;
  kind: NotificationKind;
  state: InboxItemState;
  message: InboxNotification;
}

/**
 * Claim the oldest pending delivery no one else holds: the row stays locked until
 * `tx` ends, so another replica skips it, and a process that dies while sending
 * leaves it pending for the next one.
 */
export async function claimPendingDelivery(tx: PoolClient): Promise<PendingDelivery | null> {
  const { rows } = await tx.query<{
    id: string;
    item_id: string;
    receiver: string;
    kind: NotificationKind;
    state: InboxItemState;
    message: InboxNotification;
  }>(
    `SELECT id, item_id, receiver, kind, state, message FROM inbox_deliveries
      WHERE status = 'pending' ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
  );
  const r = rows[0];
  if (!r) return null;
  return { id: r.id, itemId: r.item_id, receiver: r.receiver, kind: r.kind, state: r.state, message: r.message };
}

/** What sending came to; `lastError` must already be free of secrets (ReceiverError messages are). */
export interface DeliveryOutcome {
  ok: boolean;
  attempts: number;
  lastError?: string;
}

/**
 * Record a claimed delivery's outcome. One given up on is also written into the
 * item's history, so a broken receiver shows where people look at the item.
 */
export async function recordDeliveryOutcome(
  db: Queryable,
  delivery: PendingDelivery,
  outcome: DeliveryOutcome,
  at: Date,
): Promise<void> {
  await db.query(
    `UPDATE inbox_deliveries SET status = $2, attempts = $3, last_error = $4, finished_at = $5 WHERE id = $1`,
    [
      delivery.id,
      outcome.ok ? 'sent' : 'failed',
      outcome.attempts,
      outcome.ok ? null : (outcome.lastError ?? null),
      at,
    ],
  );
  if (outcome.ok) return;
  await db.query(`INSERT INTO inbox_history (item_id, at, actor, entry) VALUES ($1, $2, $3, $4)`, [
    delivery.itemId,
    at,
    NOTIFIER_ACTOR,
    failureEntry(delivery, outcome),
  ]);
}

/** e.g. "opened notification to oncall-mail failed after 3 attempts: receiver oncall-mail: cannot reach …" */
export function failureEntry(delivery: Pick<PendingDelivery, 'kind' | 'receiver'>, outcome: DeliveryOutcome): string {
  const tries = `${outcome.attempts} attempt${outcome.attempts === 1 ? '' : 's'}`;
  return `${delivery.kind} notification to ${delivery.receiver} failed after ${tries}: ${outcome.lastError ?? 'no reason given'}`;
}

/** One delivery as an item's page shows it. */
export interface DeliveryRecord {
  id: string;
  receiver: string;
  kind: NotificationKind;
  state: InboxItemState;
  stateSince: Date;
  createdAt: Date;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
  finishedAt: Date | null;
}

/** An item's deliveries, oldest first. */
export async function listDeliveries(db: Queryable, itemId: string): Promise<DeliveryRecord[]> {
  const { rows } = await db.query<DeliveryRecord>(
    `SELECT id, receiver, kind, state, state_since AS "stateSince", created_at AS "createdAt", status, attempts,
            last_error AS "lastError", finished_at AS "finishedAt"
       FROM inbox_deliveries WHERE item_id = $1 ORDER BY created_at, id`,
    [itemId],
  );
  return rows;
}
