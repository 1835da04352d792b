/** The current state of every host Shipshape knows: pool state and last known health. */
import { Router } from 'express';
import type { Pool } from 'pg';
import { requireRole } from '../auth';
import { Filters } from '../filters';
import { notFound } from '../errors';
import { hostListQuery } from '../schemas';
import { parse } from '../validate';

const SELECT_HOSTS = `
  SELECT h.id, h.zone, h.roles, h.pool_state AS "poolState", h.health, h.health_reasons AS "healthReasons",
         h.health_checked_at AS "healthCheckedAt",
         (SELECT r.id FROM remediations r WHERE r.host = h.id AND r.closed_at IS NULL) AS "openRemediationId"
    FROM hosts h`;

export function createHostsRouter(deps: { db: Pool }): Router {
  const router = Router();

  router.get('/v1/hosts', requireRole('viewer'), async (req, res) => {
    const q = parse(hostListQuery, req.query, 'query');
    const where = new Filters().add('h.zone = ?', q.zone).add('h.pool_state = ?', q.poolState);
    const { rows } = await deps.db.query(`${SELECT_HOSTS} ${where} ORDER BY h.id`, where.args);
    res.json({ hosts: rows });
  });

  router.get('/v1/hosts/:id', requireRole('viewer'), async (req, res) => {
    const { rows } = await deps.db.query(`${SELECT_HOSTS} WHERE h.id = $1`, [req.params.id]);
    if (!rows[0]) throw notFound(`no host "${req.params.id as string}" in the inventory`, { field: 'id' });
    res.json(rows[0]);
  });

  return router;
}
