/** Liveness (the process answers) and readiness (PostgreSQL and Temporal answer). */
import type { Connection } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { pingDatabase } from '../../db/pool';

async function check(fn: () => Promise<unknown>, timeoutMs = 2000): Promise<string> {
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs)),
    ]);
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
}

export function createHealthRouter(deps: { db: Pool; temporal: Connection }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [postgres, temporal] = await Promise.all([
      check(() => pingDatabase(deps.db)),
      check(() => deps.temporal.healthService.check({})),
    ]);
    const ready = postgres === 'ok' && temporal === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks: { postgres, temporal } });
  });
  return router;
}
