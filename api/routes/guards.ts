/** The fleet-wide guards: what they are, what they hold back, each zone's budget, and the switches a person controls (pause, breaker reset). */
import { Router } from 'express';
import type { Pool } from 'pg';
import { readZoneBudgets } from '../../db/guards';
import { inTransaction } from '../../db/pool';
import type { GuardConfig } from '../../domain/guards';
import { requireRole } from '../auth';
import { conflict } from '../errors';
import { operatorActionRequest } from '../schemas';
import { parse } from '../validate';

export function createGuardsRouter(deps: { db: Pool; guards: () => GuardConfig }): Router {
  const router = Router();
  const audit = (tx: Pick<Pool, 'query'>, actor: string, action: string, reason: string) =>
    tx.query(`INSERT INTO audit_log (actor_kind, actor, action, reason) VALUES ('person', $1, $2, $3)`, [actor, action, reason]);

  router.get('/v1/guards', requireRole('viewer'), async (_req, res) => {
    const config = deps.guards();
    const [pause, breakers, leases, zones] = await Promise.all([
      deps.db.query('SELECT paused_by AS "by", reason, paused_at AS "at" FROM guard_pause'),
      deps.db.query('SELECT zone, tripped_at AS "trippedAt", reason FROM guard_breakers WHERE reset_at IS NULL ORDER BY zone'),
      deps.db.query('SELECT zone, host, remediation_id AS "remediationId", acquired_at AS "acquiredAt" FROM guard_leases WHERE released_at IS NULL ORDER BY zone, acquired_at'),
      readZoneBudgets(deps.db, config),
    ]);
    res.json({ config, paused: pause.rows[0] ?? null, breakers: breakers.rows, leases: leases.rows, zones });
  });

  router.post('/v1/guards/pause', requireRole('admin'), async (req, res) => {
    const body = parse(operatorActionRequest, req.body ?? {}, 'body');
    const reason = body.comment ?? 'no reason given';
    await inTransaction(deps.db, async (tx) => {
      const { rowCount } = await tx.query('INSERT INTO guard_pause (paused_by, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING', [req.caller!.subject, reason]);
      if (rowCount === 0) throw conflict('automation is already paused');
      await audit(tx, req.caller!.subject, 'automation paused', reason);
    });
    res.json({ paused: { by: req.caller!.subject, reason } });
  });

  router.post('/v1/guards/resume', requireRole('admin'), async (req, res) => {
    const body = parse(operatorActionRequest, req.body ?? {}, 'body');
    await inTransaction(deps.db, async (tx) => {
      const { rowCount } = await tx.query('DELETE FROM guard_pause');
      if (rowCount === 0) throw conflict('automation is not paused');
      await audit(tx, req.caller!.subject, 'automation resumed', body.comment ?? 'resumed');
    });
    res.json({ paused: null });
  });

  router.post('/v1/guards/breakers/:zone/reset', requireRole('admin'), async (req, res) => {
    const body = parse(operatorActionRequest, req.body ?? {}, 'body');
    const zone = req.params.zone as string;
    await inTransaction(deps.db, async (tx) => {
      const { rowCount } = await tx.query('UPDATE guard_breakers SET reset_at = now(), reset_by = $2 WHERE zone = $1 AND reset_at IS NULL', [zone, req.caller!.subject]);
      if (rowCount === 0) throw conflict(`the circuit breaker of ${zone} is not tripped`, { field: 'zone' });
      await audit(tx, req.caller!.subject, 'circuit breaker reset', `${zone}: ${body.comment ?? 'reset'}`);
    });
    res.json({ zone, reset: true });
  });

  return router;
}
