/** The append-only audit log, filtered by host, remediation and time. */
import { Router } from 'express';
import type { Pool } from 'pg';
import { requireRole } from '../auth';
import { auditQuery } from '../schemas';
import { parse } from '../validate';

export function createAuditRouter(deps: { db: Pool }): Router {
  const router = Router();
  router.get('/v1/audit-log', requireRole('viewer'), async (req, res) => {
    const q = parse(auditQuery, req.query, 'query');
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.host) where.push(`host = $${args.push(q.host)}`);
    if (q.remediationId) where.push(`remediation_id = $${args.push(q.remediationId)}`);
    if (q.since) where.push(`at >= $${args.push(q.since)}`);
    const { rows } = await deps.db.query(
      `SELECT seq::int, at, actor_kind AS "actorKind", actor, policy_version AS "policyVersion", host,
              remediation_id AS "remediationId", action, reason, before, after
         FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${args.push(q.limit)}`,
      args,
    );
    res.json({ entries: rows });
  });
  return router;
}
