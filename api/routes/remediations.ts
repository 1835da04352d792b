/** Remediations: list, inspect, and the human steps (approve, reject, hand back, cancel) as Temporal Updates. */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Router } from 'express';
import type { Pool } from 'pg';
import { FailureType } from '../../domain/errors';
import type { RemediationView, RepairAction } from '../../domain/remediation';
import type { ApiRole } from '../../domain/types';
import { OPERATOR_UPDATES, type OperatorUpdateName } from '../../workflows/messages';
import { requireRole } from '../auth';
import { Filters } from '../filters';
import { AppError, conflict, forbidden, notFound } from '../errors';
import { handBackRequest, operatorActionRequest, remediationListQuery } from '../schemas';
import { parse } from '../validate';

interface RemediationRow {
  id: string;
  host: string;
  workflow_id: string;
  phase: string;
  policy_name: string;
  policy_version: string;
  requested_by: string;
  view: Partial<RemediationView>;
  started_at: Date;
  closed_at: Date | null;
}

/** The view the workflow last recorded; a remediation the workflow has not recorded yet shows what the API knows. */
function present(row: RemediationRow) {
  const view = row.view.remediationId
    ? row.view
    : { remediationId: row.id, host: row.host, phase: row.phase, policy: { name: row.policy_name, version: row.policy_version }, requestedBy: row.requested_by, steps: [] };
  return { ...view, workflowId: row.workflow_id, startedAt: row.started_at.toISOString(), closedAt: row.closed_at?.toISOString() ?? null };
}

const ROLE_FOR: Record<OperatorUpdateName, ApiRole> = { approve: 'approver', reject: 'approver', 'hand-back': 'operator', cancel: 'operator' };

function failureType(err: unknown): { type: string | undefined; message: string } {
  const cause = err instanceof WorkflowUpdateFailedError ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? undefined, message: cause.message };
  return { type: undefined, message: (cause as Error)?.message ?? String(err) };
}

/** Why the workflow refused an Update, as the HTTP status an operator expects. */
function asHttpError(err: unknown, row: RemediationRow): unknown {
  if (err instanceof WorkflowNotFoundError) return conflict(`remediation ${row.id} is no longer running`);
  const failure = failureType(err);
  if (failure.type === FailureType.Forbidden) return forbidden(failure.message);
  if (failure.type === FailureType.WrongPhase) return conflict(failure.message, { phase: row.phase });
  if (err instanceof WorkflowUpdateFailedError) return new AppError(409, 'conflict', failure.message);
  return err;
}

export function createRemediationsRouter(deps: { db: Pool; client: Client }): Router {
  const router = Router();

  async function load(id: string): Promise<RemediationRow> {
    const { rows } = await deps.db.query<RemediationRow>('SELECT * FROM remediations WHERE id = $1', [id]);
    if (!rows[0]) throw notFound(`no remediation "${id}"`, { field: 'id' });
    return rows[0];
  }

  router.get('/v1/remediations', requireRole('viewer'), async (req, res) => {
    const q = parse(remediationListQuery, req.query, 'query');
    const where = new Filters()
      .add('host = ?', q.host)
      .when(q.state === 'open', 'closed_at IS NULL')
      .when(q.state === 'closed', 'closed_at IS NOT NULL')
      .add('phase = ?', q.state === 'open' || q.state === 'closed' ? undefined : q.state);
    const { rows } = await deps.db.query<RemediationRow>(
      `SELECT * FROM remediations ${where} ORDER BY started_at DESC LIMIT ${where.param(q.limit)}`,
      where.args,
    );
    res.json({ remediations: rows.map(present) });
  });

  router.get('/v1/remediations/:id', requireRole('viewer'), async (req, res) => {
    res.json(present(await load(req.params.id as string)));
  });

  for (const name of Object.keys(OPERATOR_UPDATES) as OperatorUpdateName[]) {
    router.post(`/v1/remediations/:id/${name}`, requireRole(ROLE_FOR[name]), async (req, res) => {
      const body = parse(name === 'hand-back' ? handBackRequest : operatorActionRequest, req.body ?? {}, 'body') as { comment?: string; fixedBy?: RepairAction };
      const row = await load(req.params.id as string);
      if (row.closed_at) throw conflict(`remediation ${row.id} has ended (${row.phase}); ${name} is accepted only while it runs`, { phase: row.phase });
      try {
        const view = await deps.client.workflow
          .getHandle(row.workflow_id)
          .executeUpdate(OPERATOR_UPDATES[name], { args: [{ remediationId: row.id, by: req.caller!.subject, role: req.caller!.role, comment: body.comment, fixedBy: body.fixedBy }] });
        res.json(view);
      } catch (err) {
        throw asHttpError(err, row);
      }
    });
  }

  return router;
}
