/**
 * The remediation workflow's Updates and Query, shared by the workflow and the
 * API client. Human steps are Updates with validators: the caller learns at
 * once whether the workflow accepted them, and why not.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { AlertDelivery, RemediationView, RepairAction, TriggerSignal } from '../domain/remediation';
import type { ApiRole } from '../domain/types';

export interface OperatorAction {
  /** The remediation the caller means; a workflow of a later remediation of the same host rejects it. */
  remediationId: string;
  /** The API subject of the person acting. */
  by: string;
  /** The caller's API role: required, and checked against the decision and the policy's approver roles. */
  role?: ApiRole;
  comment?: string;
  /** For hand-back: the catalog action that fixed the host, so a policy can be drafted from it. */
  fixedBy?: RepairAction;
  /** When the API signed this decision (ISO 8601). */
  issuedAt?: string;
  /** The API's HMAC over the decision (domain/decisions.ts `DecisionClaim`); the worker refuses a decision without a valid one. */
  signature?: string;
}

export const alertUpdate = defineUpdate<AlertDelivery, [TriggerSignal]>('alert');
export const approveUpdate = defineUpdate<RemediationView, [OperatorAction]>('approve');
export const rejectUpdate = defineUpdate<RemediationView, [OperatorAction]>('reject');
export const handBackUpdate = defineUpdate<RemediationView, [OperatorAction]>('hand-back');
export const cancelUpdate = defineUpdate<RemediationView, [OperatorAction]>('cancel');
export const viewQuery = defineQuery<RemediationView>('view');

export const OPERATOR_UPDATES = {
  approve: approveUpdate,
  reject: rejectUpdate,
  'hand-back': handBackUpdate,
  cancel: cancelUpdate,
} as const;
export type OperatorUpdateName = keyof typeof OPERATOR_UPDATES;
