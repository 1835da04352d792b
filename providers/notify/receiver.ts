/**
 * A receiver sends one inbox notification somewhere a person reads it. Every
 * kind (webhook, Slack-compatible, e-mail) implements `Receiver`; `deliver`
 * retries a bounded number of times and answers what happened instead of
 * throwing, so the caller can show a broken receiver on the item.
 */
import type { InboxNotification } from '../../domain/notification-routes';

export type ReceiverType = 'webhook' | 'slack' | 'email';

export interface Receiver {
  /** The name the routes use. */
  readonly name: string;
  readonly type: ReceiverType;
  /** Resolves once the receiver accepted the message; rejects with a `ReceiverError` otherwise. */
  send(message: InboxNotification): Promise<void>;
}

/** A failure to send. `permanent` ones (refused credentials, a 4xx) are not retried. Messages never carry secrets. */
export class ReceiverError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
    this.name = 'ReceiverError';
  }
}

export interface DeliveryOptions {
  /** Tries in all, the first included; 3 by default. */
  attempts?: number;
  /** The wait before the second try, doubled before each later one; 1000 by default. */
  backoffMs?: number;
  /** For tests: how to wait. */
  sleep?: (ms: number) => Promise<void>;
}

export interface DeliveryResult {
  ok: boolean;
  /** Tries made. */
  attempts: number;
  /** Why the last try failed, when it did. */
  lastError?: string;
}

const wait = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/** Send with bounded retries; never throws. */
export async function deliver(
  receiver: Receiver,
  message: InboxNotification,
  options: DeliveryOptions = {},
): Promise<DeliveryResult> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const backoffMs = options.backoffMs ?? 1000;
  const sleep = options.sleep ?? wait;
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await receiver.send(message);
      return { ok: true, attempts: attempt };
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      const permanent = err instanceof ReceiverError && err.permanent;
      if (permanent || attempt === attempts) return { ok: false, attempts: attempt, lastError };
      await sleep(backoffMs * 2 ** (attempt - 1));
    }
  }
  return { ok: false, attempts, lastError };
}
