/**
 * The waiver expiry review, on a timer in the API process: a waived finding
 * whose waiver has expired returns to `fail` within `everyMs` of the expiry,
 * not only at the next scan of its host (db/compliance-findings.ts
 * `reviewWaiverExpiry`; the decision is domain `reviewExpiry`). The lead
 * wires it next to the redispatcher; stop it before closing the pool.
 */
import type { Pool } from 'pg';
import type { Logger } from '../config/logger';
import { reviewWaiverExpiry } from '../db/compliance-findings';

export function startWaiverExpiryReview(deps: {
  db: Pool;
  logger: Logger;
  everyMs?: number;
  now?: () => Date;
}): () => Promise<void> {
  const now = deps.now ?? (() => new Date());
  let running: Promise<void> | null = null;
  const review = async () => {
    const changes = await reviewWaiverExpiry(deps.db, now());
    for (const c of changes)
      deps.logger.info(
        { host: c.host, profile: c.profile, rule: c.ruleId, from: c.from, to: c.to },
        'compliance finding no longer waived',
      );
  };
  const timer = setInterval(() => {
    if (running) return;
    running = review()
      .catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'waiver expiry review failed'))
      .finally(() => {
        running = null;
      });
  }, deps.everyMs ?? 60_000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
