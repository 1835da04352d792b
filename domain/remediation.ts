/**
 * The remediation lifecycle in domain words: phases, which pool state each
 * phase implies, and the view of a remediation that the API and the audit log
 * show. Pure: imported by the workflow and by the API.
 */
import type { ComplianceTarget } from './compliance-drift';
import type { Blocker, PolicyGuards } from './guards';
import type { ApprovalRule, ConfirmCheck } from './policy';
import type { PoolState, SignalOutcome, Severity, SignalStatus } from './types';

export const ACTIVE_PHASES = [
  'auditing',
  'awaiting-approval',
  'waiting-for-capacity',
  'draining',
  'repairing',
  'verifying',
  'returning',
  'awaiting-operator',
] as const;
export const FINAL_PHASES = ['returned', 'false-alarm', 'rejected', 'cancelled', 'stood-down'] as const;
export type ActivePhase = (typeof ACTIVE_PHASES)[number];
export type FinalPhase = (typeof FINAL_PHASES)[number];
export type Phase = ActivePhase | FinalPhase;

export function isFinal(phase: Phase): phase is FinalPhase {
  return (FINAL_PHASES as readonly string[]).includes(phase);
}

/**
 * The pool state a host is in while its remediation is in `phase`.
 * `touched` says whether the host is out of scheduling (by Shipshape, or by
 * the person Shipshape stood down for):
 * a remediation that is cancelled or handed off after the drain started leaves
 * the host out of the pool, one that never touched it leaves it in service.
 */
export function poolStateFor(phase: Phase, touched: boolean): PoolState {
  switch (phase) {
    case 'auditing':
    case 'awaiting-approval':
    case 'waiting-for-capacity':
    case 'returned':
    case 'false-alarm':
    case 'rejected':
      return 'in-service';
    case 'draining':
      return 'draining';
    case 'repairing':
    case 'verifying':
    case 'returning':
      return 'in-remediation';
    case 'awaiting-operator':
      return 'awaiting-operator';
    case 'cancelled':
      return touched ? 'out-of-service' : 'in-service';
    case 'stood-down':
      // Where the person left it: disabled (out of the pool) or re-enabled.
      return touched ? 'out-of-service' : 'in-service';
  }
}

/** A repair action the policy may ask for, in the order it lists them. */
export const REPAIR_ACTIONS = ['power-cycle', 'reboot', 'restart-compute-service'] as const;
export type RepairAction = (typeof REPAIR_ACTIONS)[number];

/**
 * Everything a step of the escalation ladder may do. `compliance-fix` applies
 * the failing rule's own fix: the one step of a policy for compliance drift.
 */
export const LADDER_ACTIONS = [...REPAIR_ACTIONS, 'notify', 'wait', 'compliance-fix'] as const;
export type LadderAction = (typeof LADDER_ACTIONS)[number];

export interface LadderStep {
  action: LadderAction;
  timeoutSeconds?: number;
  retries?: number;
  fixWithinSeconds?: number;
  message?: string;
  seconds?: number;
}

/** The part of a policy a remediation runs under; a snapshot travels with the workflow. */
export interface RemediationPolicy {
  name: string;
  version: string;
  approval: {
    /** Runs started before approval rules existed only know this flag. */
    required: boolean;
    /** Seconds to wait for an approver before escalating to an operator. */
    timeoutSeconds: number;
    rule?: ApprovalRule;
  };
  /** Checks that must show the problem (all of them when absent). */
  confirm?: ConfirmCheck[];
  /** The escalation ladder; runs started before it existed use `repair`. */
  ladder?: LadderStep[];
  drain: {
    /** Seconds to wait for the host to be empty after every move has been issued. */
    emptyTimeoutSeconds: number;
    /** A server that cannot be live-migrated (stopped, or the live migration failed) is cold-migrated instead. */
    coldMigrationFallback?: boolean;
    /** `when-host-down`: a host that is down (compute service down or powered off) is fenced and its servers evacuated. */
    evacuate?: 'never' | 'when-host-down';
    /** Evacuation rebuilds servers elsewhere: a person approves it unless this is false. */
    evacuationApproval?: boolean;
  };
  repair: RepairAction[];
  /** Guards this policy tightens beyond the fleet-wide ones. */
  guards?: PolicyGuards;
  verify: {
    attempts: number;
    intervalSeconds: number;
  };
}

export interface TriggerSignal {
  signalId: string;
  name: string;
  fingerprint: string;
  severity: Severity;
  status: SignalStatus;
}

export interface RemediationInput {
  remediationId: string;
  host: string;
  zone: string;
  policy: RemediationPolicy;
  trigger: TriggerSignal;
  /** The API user whose signal started this remediation; they may not approve it. */
  requestedBy: string;
  /** Set when the signal is a compliance drift: the rule whose fix this remediation applies (workflows/compliance-fix.ts). */
  complianceFix?: ComplianceTarget;
}

export type StepStatus = 'running' | 'succeeded' | 'failed' | 'skipped';

export interface StepView {
  name: string;
  status: StepStatus;
  startedAt: string;
  endedAt: string | null;
  detail: string | null;
}

export interface RemediationView {
  remediationId: string;
  host: string;
  zone: string;
  policy: { name: string; version: string };
  phase: Phase;
  poolState: PoolState;
  requestedBy: string;
  steps: StepView[];
  pendingApproval: { requestedAt: string; deadline: string } | null;
  /** The guards holding this remediation back while it waits for capacity. */
  waitingFor: Blocker[] | null;
  handOff: { reason: string; since: string } | null;
  /** What the operator said fixed the host when they handed it back. */
  resolution?: { by: string; note: string; fixedBy: RepairAction | null } | null;
  outcome: { phase: FinalPhase; reason: string; at: string } | null;
  signals: { received: number; lastName: string | null };
}

/** What an alert delivered to a running remediation did. */
export interface AlertDelivery {
  outcome: Extract<SignalOutcome, 'started' | 'joined' | 'suppressed'>;
  remediationId: string;
  phase: Phase;
}

/** The reason prefix every compute service Shipshape disables carries. */
export const DISABLE_REASON_PREFIX = 'shipshape:';

export function disableReason(remediationId: string, signalName: string): string {
  return `${DISABLE_REASON_PREFIX} remediation ${remediationId} (${signalName})`;
}

/**
 * Workflow ID for a host's remediation: one at a time per host. The prefix
 * keeps installations apart when several share one Temporal namespace.
 */
export function remediationWorkflowId(host: string, prefix = ''): string {
  return `${prefix}remediation/${host}`;
}

/** Down for evacuation's purpose: the compute service is down or the host is off. */
export function hostIsDown(state: { power: string; compute: { up: boolean } }): boolean {
  return !state.compute.up || state.power === 'off';
}
