/** The append-only audit log, filtered by host, remediation and time. */
import { Router } from 'express';
import type { Pool } from 'pg';
import { requireRole } from '../auth';
import { Filters } from '../filters';
import { auditQuery } from '../schemas';
import { parse } from '../validate';

export function createAuditRouter(deps: { db: Pool }): Router {
  const router = Router();
  router.get('/v1/audit-log', requireRole('viewer'), async (req, res) => {
    const q = parse(auditQuery, req.query, 'query');
    const where = new Filters().add('host = ?', q.host).add('remediation_id = ?', q.remediationId).add('at >= ?', q.since);
    const { rows } = await deps.db.query(
      `SELECT seq::int, at, actor_kind AS "actorKind", actor, policy_version AS "policyVersion", host,
              remediation_id AS "remediationId", action, reason, before, after
         FROM audit_log ${where} ORDER BY seq LIMIT ${where.param(q.limit)}`,
      where.args,
    );
    res.json({ entries: rows });
  });
  return router;
}
