/**
 * Reclaim of unused capacity through HTTP (issue 14): what the rules flag,
 * each resource's reclaim, the report per project (JSON and CSV), the
 * owner's extend link (its token is the credential), an operator's stop and
 * restore, exemptions with four eyes, the global pause, and scans on demand.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Router } from 'express';
import type { Pool } from 'pg';
import {
  approveReclaimExemption,
  caseOfToken,
  findReclaimCase,
  findReclaimExemption,
  listReclaimCases,
  listReclaimFindings,
  openCasesCovered,
  pauseReclaim,
  reclaimTotals,
  requestReclaimExemption,
  resumeReclaim,
} from '../../db/reclaim';
import { csvField } from '../../domain/compliance-findings';
import { extendReclaimUpdate, restoreReclaimUpdate, stopReclaimUpdate } from '../../workflows/reclaim';
import { requireRole } from '../auth';
import { AppError, conflict, forbidden, notFound } from '../errors';
import {
  reclaimCaseListQuery,
  reclaimExemptionRequest,
  reclaimExtendRequest,
  reclaimFindingListQuery,
  reclaimOwnerExtendRequest,
  reclaimScanRequest,
} from '../reclaim-schemas';
import { operatorActionRequest } from '../schemas';
import { parse } from '../validate';

export interface ReclaimRouterDeps {
  db: Pool;
  client: Client;
  taskQueue: string;
  workflowIdPrefix: string;
}

/** Why a reclaim refused an Update, as the HTTP status a person expects. */
function refusal(err: unknown): unknown {
  if (err instanceof WorkflowNotFoundError) return conflict('the reclaim is no longer running');
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause instanceof ApplicationFailure ? err.cause.message : err.message;
    return conflict(cause);
  }
  return err;
}

/** The routes an owner reaches from the link in a notice: no API token, the link's token is the credential. */
export function createReclaimOwnerRouter(deps: ReclaimRouterDeps): Router {
  const router = Router();
  const byToken = async (token: unknown) => {
    const found = typeof token === 'string' && token.length > 0 ? await caseOfToken(deps.db, token) : null;
    // One answer for an unknown, expired or malformed token: the API says no more.
    if (!found) throw new AppError(404, 'not_found', 'this link is not valid (unknown or expired)');
    return found;
  };

  router.get('/v1/reclaim/extend', async (req, res) => {
    const found = await byToken(req.query.token);
    const row = await findReclaimCase(deps.db, found.caseId);
    const v = row!.view;
    res.json({
      resource: v.resource,
      reason: v.reason,
      phase: v.phase,
      graceEnds: v.graceEnds,
      extendedMs: v.extendedMs,
      howToExtend: 'POST this URL with {"extend": "7d", "comment": "…"}',
    });
  });

  router.post('/v1/reclaim/extend', async (req, res) => {
    const found = await byToken(req.query.token);
    const body = parse(reclaimOwnerExtendRequest, req.body ?? {}, 'body');
    const handle = deps.client.workflow.getHandle(found.workflowId);
    try {
      const view = await handle.executeUpdate(extendReclaimUpdate, {
        args: [{ caseId: found.caseId, by: 'owner (notice link)', extendMs: body.extend, comment: body.comment ?? '' }],
      });
      res.json({ graceEnds: view.graceEnds, extendedMs: view.extendedMs });
    } catch (err) {
      throw refusal(err);
    }
  });
  return router;
}

export function createReclaimRouter(deps: ReclaimRouterDeps): Router {
  const router = Router();
  const caseOr404 = async (id: string) => {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await findReclaimCase(deps.db, id) : null;
    if (!row) throw notFound(`no reclaim ${id}`);
    return row;
  };
  const update = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw refusal(err);
    }
  };

  router.get('/v1/reclaim/findings', requireRole('viewer'), async (req, res) => {
    const q = parse(reclaimFindingListQuery, req.query, 'query');
    res.json({ findings: await listReclaimFindings(deps.db, { rule: q.rule, projectId: q.project, limit: q.limit }) });
  });

  router.get('/v1/reclaim/cases', requireRole('viewer'), async (req, res) => {
    const q = parse(reclaimCaseListQuery, req.query, 'query');
    const rows = await listReclaimCases(deps.db, {
      phase: q.phase,
      projectId: q.project,
      rule: q.rule,
      open: q.open,
      limit: q.limit,
    });
    res.json({ cases: rows.map((r) => r.view) });
  });

  router.get('/v1/reclaim/cases/:id', requireRole('viewer'), async (req, res) => {
    res.json((await caseOr404(req.params.id as string)).view);
  });

  router.get('/v1/reclaim/report', requireRole('viewer'), async (req, res) => {
    const totals = await reclaimTotals(deps.db);
    if (req.query.format === 'csv') {
      const header = 'project,state,count,vcpus,ram_mb,disk_gb,ips';
      const lines = totals.flatMap((t) =>
        (['flagged', 'inGrace', 'reclaimed', 'freed'] as const).map((k) =>
          [
            t.projectId,
            k,
            t[k].count,
            t[k].capacity.vcpus,
            t[k].capacity.ramMb,
            t[k].capacity.diskGb,
            t[k].capacity.ips,
          ]
            .map((v) => csvField(String(v)))
            .join(','),
        ),
      );
      res.type('text/csv; charset=utf-8').set('Content-Disposition', 'attachment; filename="reclaim.csv"');
      res.send(`${[header, ...lines].join('\n')}\n`);
      return;
    }
    const sum = (k: 'flagged' | 'inGrace' | 'reclaimed' | 'freed') =>
      totals.reduce(
        (a, t) => ({
          count: a.count + t[k].count,
          capacity: {
            vcpus: a.capacity.vcpus + t[k].capacity.vcpus,
            ramMb: a.capacity.ramMb + t[k].capacity.ramMb,
            diskGb: a.capacity.diskGb + t[k].capacity.diskGb,
            ips: a.capacity.ips + t[k].capacity.ips,
          },
        }),
        { count: 0, capacity: { vcpus: 0, ramMb: 0, diskGb: 0, ips: 0 } },
      );
    res.json({
      projects: totals,
      all: { flagged: sum('flagged'), inGrace: sum('inGrace'), reclaimed: sum('reclaimed'), freed: sum('freed') },
    });
  });

  router.post('/v1/reclaim/cases/:id/extend', requireRole('operator'), async (req, res) => {
    const row = await caseOr404(req.params.id as string);
    const body = parse(reclaimExtendRequest, req.body ?? {}, 'body');
    const view = await update(() =>
      deps.client.workflow.getHandle(row.workflowId).executeUpdate(extendReclaimUpdate, {
        args: [{ caseId: row.caseId, by: req.caller!.subject, extendMs: body.extend, comment: body.comment ?? '' }],
      }),
    );
    res.json(view);
  });

  router.post('/v1/reclaim/cases/:id/stop', requireRole('operator'), async (req, res) => {
    const row = await caseOr404(req.params.id as string);
    const body = parse(operatorActionRequest, req.body ?? {}, 'body');
    const view = await update(() =>
      deps.client.workflow.getHandle(row.workflowId).executeUpdate(stopReclaimUpdate, {
        args: [{ caseId: row.caseId, by: req.caller!.subject, why: 'stopped', comment: body.comment ?? '' }],
      }),
    );
    res.json(view);
  });

  router.post('/v1/reclaim/cases/:id/restore', requireRole('operator'), async (req, res) => {
    const row = await caseOr404(req.params.id as string);
    const body = parse(operatorActionRequest, req.body ?? {}, 'body');
    const view = await update(() =>
      deps.client.workflow.getHandle(row.workflowId).executeUpdate(restoreReclaimUpdate, {
        args: [{ caseId: row.caseId, by: req.caller!.subject, comment: body.comment ?? '' }],
      }),
    );
    res.json(view);
  });

  router.post('/v1/reclaim/exemptions', requireRole('operator'), async (req, res) => {
    const body = parse(reclaimExemptionRequest, req.body ?? {}, 'body');
    const now = new Date();
    const e = await requestReclaimExemption(deps.db, {
      id: randomUUID(),
      rule: body.rule,
      projectId: body.project,
      resourceId: body.resource,
      reason: body.reason,
      requestedBy: req.caller!.subject,
      requestedAt: now,
      expiresAt: new Date(body.expiresAt),
    });
    res.status(201).json(e);
  });

  router.post('/v1/reclaim/exemptions/:id/approve', requireRole('approver'), async (req, res) => {
    const id = req.params.id as string;
    const existing = /^[0-9a-f-]{36}$/i.test(id) ? await findReclaimExemption(deps.db, id) : null;
    if (!existing) throw notFound(`no exemption ${id}`);
    if (existing.requestedBy === req.caller!.subject)
      throw forbidden(`${req.caller!.subject} requested this exemption and may not approve it; another approver must`);
    const e = await approveReclaimExemption(deps.db, id, req.caller!.subject);
    if (!e) throw conflict(`exemption ${id} is ${existing.state}, not requested`);
    // The reclaims it covers stop now, not at their next step.
    const stopped: string[] = [];
    for (const row of await openCasesCovered(deps.db, e)) {
      try {
        await deps.client.workflow.getHandle(row.workflowId).executeUpdate(stopReclaimUpdate, {
          args: [{ caseId: row.caseId, by: req.caller!.subject, why: 'exempted', comment: e.reason }],
        });
        stopped.push(row.caseId);
      } catch {
        // Past stopping (deleting) or over: its next re-check sees the exemption anyway.
      }
    }
    res.json({ exemption: e, stopped });
  });

  router.post('/v1/reclaim/pause', requireRole('admin'), async (req, res) => {
    const body = parse(operatorActionRequest, req.body ?? {}, 'body');
    if (!(await pauseReclaim(deps.db, req.caller!.subject, body.comment ?? 'no reason given')))
      throw conflict('reclaim is already paused');
    res.json({ paused: true });
  });

  router.post('/v1/reclaim/resume', requireRole('admin'), async (req, res) => {
    const body = parse(operatorActionRequest, req.body ?? {}, 'body');
    if (!(await resumeReclaim(deps.db, req.caller!.subject, body.comment ?? 'resumed')))
      throw conflict('reclaim is not paused');
    res.json({ paused: false });
  });

  router.post('/v1/reclaim/scans', requireRole('operator'), async (req, res) => {
    const body = parse(reclaimScanRequest, req.body ?? {}, 'body');
    const workflowId = `${deps.workflowIdPrefix}reclaim-scan/${randomUUID()}`;
    await deps.client.workflow.start('reclaimScanWorkflow', {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [{ ...(body.rules ? { rules: body.rules } : {}), workflowIdPrefix: deps.workflowIdPrefix }],
    });
    res.status(202).json({ scanId: workflowId });
  });

  return router;
}
