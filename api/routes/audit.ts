/**
 * The append-only audit log, filtered by host, remediation and time, and the check of its hash chain.
 * Verifying is a viewer's right: an auditor needs no power over the fleet, and the answer holds
 * nothing the log itself does not show (row numbers and hashes).
 */
import { Router } from 'express';
import type { Pool } from 'pg';
import { readAuditLog, verifyAuditChain } from '../../db/audit-log';
import { requireRole } from '../auth';
import { auditQuery } from '../schemas';
import { parse } from '../validate';

export function createAuditRouter(deps: { db: Pool }): Router {
  const router = Router();
  router.get('/v1/audit-log', requireRole('viewer'), async (req, res) => {
    const q = parse(auditQuery, req.query, 'query');
    res.json({ entries: await readAuditLog(deps.db, q) });
  });
  router.get('/v1/audit-log/verify', requireRole('viewer'), async (_req, res) => {
    res.json(await verifyAuditChain(deps.db));
  });
  return router;
}
