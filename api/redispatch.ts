/**
 * Delivers signals that were recorded but not delivered: Temporal was
 * unreachable (`queued`), or the API stopped between recording and deciding.
 * Rows are claimed with SKIP LOCKED so several API replicas never deliver one twice.
 */
import type { Pool } from 'pg';
import type { Logger } from '../config/logger';
import { inTransaction } from '../db/pool';
import { claimUndelivered } from '../db/signals';
import type { SignalDispatcher } from './dispatch';

export function startRedispatcher(
  db: Pool,
  dispatcher: SignalDispatcher,
  logger: Logger,
  everyMs = 5000,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const sweep = async () => {
    for (let i = 0; i < 100 && !stopped; i++) {
      const done = await inTransaction(db, async (tx) => {
        const [claimed] = await claimUndelivered(tx, 'left-behind', 1);
        if (!claimed) return true;
        const decision = await dispatcher.decideAndRecord(
          claimed.signal,
          { zone: claimed.zone, roles: claimed.roles },
          tx,
        );
        logger.info({ signal: claimed.signal.id, outcome: decision.outcome }, 'redispatched signal');
        return decision.outcome === 'queued'; // Temporal still away: try again next sweep
      });
      if (done) return;
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = sweep()
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'redispatch sweep failed'))
      .finally(() => {
        running = null;
      });
  }, everyMs);
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
