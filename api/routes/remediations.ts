/**
 * Remediations: list, inspect, and the human steps (approve, reject, hand
 * back, cancel) as Temporal Updates. Each step is signed here with the keys
 * file's decision key, bound to the workflow, the remediation and what it
 * answers; the worker refuses a decision the API did not sign.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Router } from 'express';
import type { Pool } from 'pg';
import type { NamedKey } from '../../config/keys';
import { signDecision } from '../../config/decision-signature';
import { findRemediation, listRemediations, type RemediationRecord } from '../../db/remediations';
import { FailureType } from '../../domain/errors';
import { DECISION_ROLE, decisionAnswers, type DecisionClaim } from '../../domain/decisions';
import type { RepairAction } from '../../domain/remediation';
import { OPERATOR_UPDATES, viewQuery, type OperatorUpdateName } from '../../workflows/messages';
import { requireRole } from '../auth';
import { AppError, conflict, forbidden, notFound } from '../errors';
import { handBackRequest, operatorActionRequest, remediationListQuery } from '../schemas';
import { parse } from '../validate';

/** The view the workflow last recorded; a remediation the workflow has not recorded yet shows what the API knows. */
function present(row: RemediationRecord) {
  const view = row.view.remediationId
    ? row.view
    : {
        remediationId: row.id,
        host: row.host,
        phase: row.phase,
        policy: { name: row.policyName, version: row.policyVersion },
        requestedBy: row.requestedBy,
        steps: [],
      };
  return {
    ...view,
    workflowId: row.workflowId,
    startedAt: row.startedAt.toISOString(),
    closedAt: row.closedAt?.toISOString() ?? null,
  };
}

function failureType(err: unknown): { type: string | undefined; message: string } {
  const cause = err instanceof WorkflowUpdateFailedError ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? undefined, message: cause.message };
  return { type: undefined, message: (cause as Error)?.message ?? String(err) };
}

/** Why the workflow refused an Update, as the HTTP status an operator expects. */
function asHttpError(err: unknown, row: RemediationRecord): unknown {
  if (err instanceof WorkflowNotFoundError) return conflict(`remediation ${row.id} is no longer running`);
  const failure = failureType(err);
  if (failure.type === FailureType.Forbidden) return forbidden(failure.message);
  if (failure.type === FailureType.WrongPhase) return conflict(failure.message, { phase: row.phase });
  if (err instanceof WorkflowUpdateFailedError) return new AppError(409, 'conflict', failure.message);
  return err;
}

export function createRemediationsRouter(deps: { db: Pool; client: Client; decisionKeys: NamedKey[] }): Router {
  const router = Router();

  async function load(id: string): Promise<RemediationRecord> {
    const row = await findRemediation(deps.db, id);
    if (!row) throw notFound(`no remediation "${id}"`, { field: 'id' });
    return row;
  }

  router.get('/v1/remediations', requireRole('viewer'), async (req, res) => {
    const q = parse(remediationListQuery, req.query, 'query');
    res.json({ remediations: (await listRemediations(deps.db, q)).map(present) });
  });

  router.get('/v1/remediations/:id', requireRole('viewer'), async (req, res) => {
    res.json(present(await load(req.params.id as string)));
  });

  for (const name of Object.keys(OPERATOR_UPDATES) as OperatorUpdateName[]) {
    router.post(`/v1/remediations/:id/${name}`, requireRole(DECISION_ROLE[name]), async (req, res) => {
      const body = parse(name === 'hand-back' ? handBackRequest : operatorActionRequest, req.body ?? {}, 'body') as {
        comment?: string;
        fixedBy?: RepairAction;
      };
      const row = await load(req.params.id as string);
      if (row.closedAt)
        throw conflict(`remediation ${row.id} has ended (${row.phase}); ${name} is accepted only while it runs`, {
          phase: row.phase,
        });
      try {
        const handle = deps.client.workflow.getHandle(row.workflowId);
        // What the decision answers (this approval request, this hand-off), as the workflow has it now.
        const claim: DecisionClaim = {
          workflowId: row.workflowId,
          remediationId: row.id,
          decision: name,
          by: req.caller!.subject,
          role: req.caller!.role,
          comment: body.comment ?? '',
          fixedBy: body.fixedBy ?? null,
          answers: decisionAnswers(name, await handle.query(viewQuery)),
          issuedAt: new Date().toISOString(),
        };
        const view = await handle.executeUpdate(OPERATOR_UPDATES[name], {
          args: [
            {
              remediationId: row.id,
              by: claim.by,
              role: claim.role!,
              comment: body.comment,
              fixedBy: body.fixedBy,
              issuedAt: claim.issuedAt,
              signature: signDecision(deps.decisionKeys, claim),
            },
          ],
        });
        res.json(view);
      } catch (err) {
        throw asHttpError(err, row);
      }
    });
  }

  return router;
}
