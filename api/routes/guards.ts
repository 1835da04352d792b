/** The fleet-wide guards: what they are, what they hold back, each zone's budget, and the switches a person controls (pause, breaker reset, a lease given back by hand). */
import { Router } from 'express';
import type { Pool } from 'pg';
import {
  findLeaseOfHost,
  pauseAutomation,
  readGuardHolds,
  readZoneBudgets,
  releaseLeaseFor,
  resetBreaker,
  resumeAutomation,
} from '../../db/guards';
import type { GuardConfig } from '../../domain/guards';
import { requireRole } from '../auth';
import { conflict, notFound } from '../errors';
import { leaseReleaseRequest, operatorActionRequest } from '../schemas';
import { parse } from '../validate';

export function createGuardsRouter(deps: { db: Pool; guards: () => GuardConfig }): Router {
  const router = Router();

  router.get('/v1/guards', requireRole('viewer'), async (_req, res) => {
    const config = deps.guards();
    const [holds, zones] = await Promise.all([readGuardHolds(deps.db), readZoneBudgets(deps.db, config)]);
    res.json({ config, paused: holds.paused, breakers: holds.breakers, leases: holds.leases, zones });
  });

  router.post('/v1/guards/pause', requireRole('admin'), async (req, res) => {
    const body = parse(operatorActionRequest, req.body ?? {}, 'body');
    const reason = body.comment ?? 'no reason given';
    if (!(await pauseAutomation(deps.db, req.caller!.subject, reason))) throw conflict('automation is already paused');
    res.json({ paused: { by: req.caller!.subject, reason } });
  });

  router.post('/v1/guards/resume', requireRole('admin'), async (req, res) => {
    const body = parse(operatorActionRequest, req.body ?? {}, 'body');
    if (!(await resumeAutomation(deps.db, req.caller!.subject, body.comment ?? 'resumed')))
      throw conflict('automation is not paused');
    res.json({ paused: null });
  });

  router.post('/v1/guards/breakers/:zone/reset', requireRole('admin'), async (req, res) => {
    const body = parse(operatorActionRequest, req.body ?? {}, 'body');
    const zone = req.params.zone as string;
    if (!(await resetBreaker(deps.db, zone, req.caller!.subject, body.comment ?? 'reset'))) {
      throw conflict(`the circuit breaker of ${zone} is not tripped`, { field: 'zone' });
    }
    res.json({ zone, reset: true });
  });

  /** A lease its workflow will not give back (the reaper does this by itself when Temporal says the run is over). */
  router.post('/v1/guards/leases/:host/release', requireRole('admin'), async (req, res) => {
    const body = parse(leaseReleaseRequest, req.body ?? {}, 'body');
    const host = req.params.host as string;
    const lease = await findLeaseOfHost(deps.db, host);
    const released =
      lease &&
      (await releaseLeaseFor(deps.db, lease.remediationId, {
        actorKind: 'person',
        actor: req.caller!.subject,
        reason: body.reason,
      }));
    if (!lease || !released) throw notFound(`${host} holds no capacity lease`, { field: 'host' });
    res.json({ host, zone: released.zone, remediationId: lease.remediationId, released: true });
  });

  return router;
}
