/**
 * Delivers signals that were recorded but not delivered: Temporal was
 * unreachable (`queued`), or the API stopped between recording and deciding.
 * Rows are claimed with SKIP LOCKED so several API replicas never deliver one twice.
 */
import type { Pool } from 'pg';
import type { Logger } from '../config/logger';
import type { SignalRecord } from '../domain/types';
import { inTransaction } from '../db/pool';
import type { SignalDispatcher } from './dispatch';

export function startRedispatcher(db: Pool, dispatcher: SignalDispatcher, logger: Logger, everyMs = 5000): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const sweep = async () => {
    for (let i = 0; i < 100 && !stopped; i++) {
      const done = await inTransaction(db, async (tx) => {
        const { rows } = await tx.query(
          `SELECT s.id, s.source, s.name, s.host, s.severity, s.status, s.fingerprint, s.labels, s.starts_at, s.received_by, h.zone, h.roles
             FROM signals s JOIN hosts h ON h.id = s.host
            WHERE (s.outcome = 'queued' OR (s.outcome IS NULL AND s.received_at < now() - interval '30 seconds'))
            ORDER BY s.received_at LIMIT 1 FOR UPDATE OF s SKIP LOCKED`,
        );
        const row = rows[0];
        if (!row) return true;
        const signal: SignalRecord = {
          id: row.id, source: row.source, name: row.name, host: row.host, severity: row.severity, status: row.status,
          fingerprint: row.fingerprint, labels: row.labels, startsAt: row.starts_at?.toISOString?.() ?? '', receivedBy: row.received_by,
        };
        const decision = await dispatcher.decideAndRecord(signal, { zone: row.zone, roles: row.roles }, tx);
        logger.info({ signal: signal.id, outcome: decision.outcome }, 'redispatched signal');
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
