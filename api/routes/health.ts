/**
 * Liveness (the process answers) and readiness (PostgreSQL and Temporal
 * answer). Both are unauthenticated, for load balancers and orchestrators, so
 * they say only ok or unavailable: why a dependency failed (an address, a user
 * name, a server's message) goes to the log, not to whoever asks.
 */
import type { Connection } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import type { Logger } from '../../config/logger';
import { pingDatabase } from '../../db/pool';

type Check = 'ok' | 'unavailable';

async function check(name: string, fn: () => Promise<unknown>, logger: Logger, timeoutMs = 2000): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch (err) {
    logger.warn({ dependency: name, err: (err as Error).message }, 'readiness check failed');
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

export function createHealthRouter(deps: { db: Pool; temporal: Connection; logger: Logger }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [postgres, temporal] = await Promise.all([
      check('postgres', () => pingDatabase(deps.db), deps.logger),
      check('temporal', () => deps.temporal.healthService.check({}), deps.logger),
    ]);
    const ready = postgres === 'ok' && temporal === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks: { postgres, temporal } });
  });
  return router;
}
