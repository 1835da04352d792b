/** The append-only audit log, filtered by host, remediation and time. */
import { Router } from 'express';
import type { Pool } from 'pg';
import { readAuditLog } from '../../db/audit-log';
import { requireRole } from '../auth';
import { auditQuery } from '../schemas';
import { parse } from '../validate';

export function createAuditRouter(deps: { db: Pool }): Router {
  const router = Router();
  router.get('/v1/audit-log', requireRole('viewer'), async (req, res) => {
    const q = parse(auditQuery, req.query, 'query');
    res.json({ entries: await readAuditLog(deps.db, q) });
  });
  return router;
}
