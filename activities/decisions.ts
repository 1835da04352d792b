/**
 * The worker's check of a person's decision before the workflow acts on it:
 * the API's signature over exactly this decision, and the decision's rules
 * (role, approver roles, age). Workflows hold no secrets, so this is a
 * (local) activity; the key stays in the worker's memory.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { NamedKey } from '../config/keys';
import { decisionSignatureValid, startSignatureValid } from '../config/decision-signature';
import { decisionRefusal, type DecisionClaim } from '../domain/decisions';
import { FailureType } from '../domain/errors';
import type { ApiRole } from '../domain/types';

export interface DecisionCheck {
  claim: DecisionClaim;
  signature?: string;
  policyName: string;
  approverRoles: ApiRole[] | null;
}

const refuse = (message: string) =>
  ApplicationFailure.create({ type: FailureType.Forbidden, message, nonRetryable: true });

export function createDecisionActivities(decisionKeys: NamedKey[]) {
  return {
    /** Resolves when the decision is the API's and the person may make it; otherwise fails, naming why. */
    async verifyDecision(check: DecisionCheck): Promise<void> {
      const { claim } = check;
      if (!decisionSignatureValid(decisionKeys, claim, check.signature))
        throw refuse(
          `${claim.decision} refused: it is not signed by the Shipshape API for remediation ${claim.remediationId} as it stands; decisions are accepted only through the API (POST /v1/remediations/${claim.remediationId}/${claim.decision})`,
        );
      const refusal = decisionRefusal(claim, {
        policyName: check.policyName,
        approverRoles: check.approverRoles,
        nowMs: Date.now(),
      });
      if (refusal) throw refuse(refusal);
    },

    /** Resolves when the API started this remediation with exactly this input; otherwise fails, naming why. */
    async verifyStart(check: { workflowId: string; input: object; signature?: string }): Promise<void> {
      if (!startSignatureValid(decisionKeys, check.workflowId, check.input, check.signature))
        throw refuse(
          `${check.workflowId} was not started by the Shipshape API with this input: it does nothing (remediations start from alerts sent to the API)`,
        );
    },
  };
}

export type DecisionActivities = ReturnType<typeof createDecisionActivities>;
