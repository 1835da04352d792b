/**
 * Tells people about inbox items: each tick decides what is due for every item
 * (domain/notification-routes.ts) and writes it as pending, then sends what is
 * pending through the receivers (providers/notify) and records each outcome
 * (db/inbox-deliveries.ts).
 *
 * Several API replicas run this at once. Deciding happens in one replica at a
 * time: a transaction holding the advisory lock INBOX_NOTIFIER_LOCK
 * (db/inbox-deliveries.ts), taken with a try-lock, so a replica that does not
 * get it skips that step this tick. State changes
 * could be decided by all (a unique index keeps each once), but reminders
 * could not, so one leader decides everything. Sending happens in every
 * replica, outside that transaction (a send with retries can take seconds):
 * each pending row is claimed with SKIP LOCKED, so each message goes out once.
 */
import type { Pool } from 'pg';
import type { Logger } from '../config/logger';
import type { NotificationSettings } from '../config/notifications';
import {
  asNotifierLeader,
  claimPendingDelivery,
  deliveriesOf,
  insertPendingDeliveries,
  recordDeliveryOutcome,
  routableItems,
  type DeliveryOutcome,
  type NewDelivery,
} from '../db/inbox-deliveries';
import { inTransaction } from '../db/pool';
import { notificationsDue, type InboxNotification } from '../domain/notification-routes';

/**
 * Sends one message to the receiver of that name with bounded retries and
 * answers what happened, never throwing (workers/inbox-notifications.ts builds
 * it from the receivers: api/ does not import providers/).
 */
export type NotificationSender = (receiver: string, message: InboxNotification) => Promise<DeliveryOutcome>;

/** Deliveries sent at once per replica: a broken receiver's retries do not hold up the others. */
const SEND_CONCURRENCY = 4;
/** At most this many sends per tick; what is left waits for the next one. */
const SENDS_PER_TICK = 200;

export interface InboxNotifierDeps {
  db: Pool;
  logger: Logger;
  /** Its routes and receivers; with no receiver or no route the notifier does nothing. */
  settings: NotificationSettings;
  send: NotificationSender;
  /** The inbox's clock (item times are on it); real time by default. */
  now?: () => Date;
  /** 5000 by default; 0: no timer, the caller calls tick(). */
  tickMs?: number;
  /** The API's address as people reach it: messages link to `${publicUrl}/v1/inbox/<id>`. */
  publicUrl?: string;
}

export interface InboxNotifier {
  /** Decide what is due (when this replica is the leader), then send what is pending. Runs after a tick under way. */
  tick(): Promise<void>;
  /** Stops the timer and waits for the tick under way. */
  stop(): Promise<void>;
}

export function startInboxNotifier(deps: InboxNotifierDeps): InboxNotifier {
  const { db, logger, settings } = deps;
  if (settings.receivers.length === 0 || settings.routes.length === 0)
    return { tick: async () => undefined, stop: async () => undefined };
  const now = deps.now ?? (() => new Date());
  const scrub = secretScrubber(settings);
  let stopped = false;
  let busy = false;
  let last: Promise<void> = Promise.resolve();

  const decide = () =>
    asNotifierLeader(db, async (tx) => {
      const at = now();
      const items = await routableItems(tx, at, deps.publicUrl);
      const made = await deliveriesOf(
        tx,
        items.map((i) => i.id),
      );
      const due: NewDelivery[] = items.flatMap((item) =>
        notificationsDue(item, settings.routes, made.get(item.id) ?? [], at).map((d) => ({
          receiver: d.receiver,
          stateSince: item.stateSince,
          message: d.message,
        })),
      );
      await insertPendingDeliveries(tx, due, at);
    });

  /** Claim, send and record one pending delivery; false when none is left. */
  const sendOne = () =>
    inTransaction(db, async (tx) => {
      const delivery = await claimPendingDelivery(tx);
      if (!delivery) return false;
      const outcome = await deps.send(delivery.receiver, delivery.message);
      const recorded = outcome.ok ? outcome : { ...outcome, lastError: scrub(outcome.lastError ?? '') };
      await recordDeliveryOutcome(tx, delivery, recorded, now());
      if (!recorded.ok)
        logger.warn(
          { item: delivery.itemId, receiver: delivery.receiver, kind: delivery.kind, attempts: recorded.attempts },
          `inbox notification failed: ${recorded.lastError}`,
        );
      return true;
    });

  const send = async () => {
    let budget = SENDS_PER_TICK;
    const lane = async () => {
      while (!stopped && budget > 0) {
        budget--;
        if (!(await sendOne())) return;
      }
    };
    await Promise.all(Array.from({ length: SEND_CONCURRENCY }, lane));
  };

  const tick = (): Promise<void> => {
    const run = last.then(async () => {
      if (stopped) return;
      busy = true;
      try {
        await decide();
        await send();
      } finally {
        busy = false;
      }
    });
    last = run.catch(() => undefined);
    return run;
  };

  const tickMs = deps.tickMs ?? 5000;
  const timer =
    tickMs > 0
      ? setInterval(() => {
          if (busy) return;
          tick().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'inbox notifier tick failed'));
        }, tickMs)
      : undefined;

  return {
    tick,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await last;
    },
  };
}

/**
 * Receivers' errors carry no secret (providers/notify); this keeps it so should
 * one ever echo a webhook URL (Slack's holds a token) or an SMTP password.
 */
function secretScrubber(settings: NotificationSettings): (text: string) => string {
  const secrets: string[] = [];
  for (const r of settings.receivers) {
    if (r.type === 'email') {
      if (r.smtp.password) secrets.push(r.smtp.password);
    } else {
      secrets.push(r.url);
    }
  }
  return (text) => secrets.reduce((t, s) => (s.length >= 4 ? t.split(s).join('[redacted]') : t), text);
}
