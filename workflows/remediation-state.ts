/**
 * The state of one remediation and the handlers that change it. The workflow
 * function in remediation.ts drives the process; this class owns the view,
 * records every transition, and validates what people ask of it.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AuditEntry } from '../domain/audit';
import { FailureType } from '../domain/errors';
import { personOverride } from '../domain/health';
import {
  DISABLE_REASON_PREFIX,
  isFinal,
  poolStateFor,
  type AlertDelivery,
  type FinalPhase,
  type Phase,
  type RemediationInput,
  type RemediationView,
  type StepView,
  type RepairAction,
  type TriggerSignal,
} from '../domain/remediation';
import { PHASE } from '../domain/search-attributes';
import type { HostState } from '../domain/types';
import type { ConfirmCheck } from '../domain/policy';
import type { DrainPlan } from '../domain/remediation-plan';
import { decisionAnswers, type DecisionClaim, type OperatorDecision } from '../domain/decisions';
import { decisions, paging, records } from './activity-profiles';
import { PATCH } from './patches';
import {
  alertUpdate,
  approveUpdate,
  cancelUpdate,
  handBackUpdate,
  rejectUpdate,
  viewQuery,
  type OperatorAction,
} from './messages';

export interface PersonDecision {
  by: string;
  comment: string;
  fixedBy?: RepairAction;
}

/** What survives a continue-as-new while the remediation waits for an operator. */
export interface ResumeState {
  view: RemediationView;
  seq: number;
  /** Whether the host is out of the pool (the name runs in flight already carry). */
  touched: boolean;
  fenced?: boolean;
}

/** Thrown inside the process when an operator's cancel is seen at a step boundary. */
export class RemediationCancelled extends Error {}

/**
 * Thrown inside the process when a person has taken the host over while
 * Shipshape held it (re-enabled it, disabled it with their own reason, put it
 * in maintenance), seen by a check or by an activity's pre-condition.
 */
export class PersonTookOver extends Error {
  constructor(
    message: string,
    /** Whether the host's compute service was enabled when the override was seen (null: not known). */
    readonly computeEnabled: boolean | null,
  ) {
    super(message);
  }
}

/** An activity that refused to act because a person took the host over, as the workflow's interruption. */
function asPersonTookOver(err: unknown): PersonTookOver | null {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure) || cause.type !== FailureType.PersonOverride) return null;
  const details = cause.details?.[0] as { computeEnabled?: boolean } | undefined;
  return new PersonTookOver(
    cause.message,
    typeof details?.computeEnabled === 'boolean' ? details.computeEnabled : null,
  );
}

/** Interruptions that end the process on purpose: never turned into a hand-off. */
export function isInterruption(err: unknown): boolean {
  return err instanceof RemediationCancelled || err instanceof PersonTookOver;
}

/**
 * Stand down if a person took the host over while Shipshape had it out of the
 * pool (see personOverride for what counts): their decision wins.
 */
export function standDownIfTakenOver(r: RemediationState, state: HostState): void {
  if (!r.holdsHost) return;
  const override = personOverride(state, DISABLE_REASON_PREFIX, true);
  if (override) throw new PersonTookOver(override, state.compute.enabled);
}

export function describeFailure(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.type) return `${cause.type}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(err);
}

function forbidden(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.Forbidden, message, nonRetryable: true });
}

function wrongPhase(action: string, view: RemediationView, accepted: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.WrongPhase,
    message: `remediation ${view.remediationId} is ${view.phase}; ${action} is accepted only ${accepted}`,
    nonRetryable: true,
  });
}

/**
 * A remediation's state. It changes only through the methods below, named for
 * what happens to the host (taken out of the pool, fenced, handed off, handed
 * back, returned) and for what people ask (approve, hand back, cancel), so the
 * process reads as the story and no module sets a field behind its back.
 */
export class RemediationState {
  readonly view: RemediationView;
  private seq: number;
  /** The host is out of scheduling: taken out by Shipshape, or left out by the person it stood down for. */
  private outOfPool: boolean;
  /** From the drain until a hand-off Shipshape holds the host: anyone else's change to it then is a person taking over. */
  private heldByShipshape = false;
  private approval: (PersonDecision & { decision: 'approved' | 'rejected' }) | null = null;
  /** Runs started before fleet guards existed replay without them. */
  readonly guarded: boolean = patched(PATCH.fleetGuards);
  private handBack: PersonDecision | null = null;
  private cancel: PersonDecision | null = null;
  /** The checks every re-check and verification uses (undefined: the defaults, as runs before the patch did). */
  readonly checks: ConfirmCheck[] | undefined;
  /** How the host is emptied, decided after the audit and approval. */
  private drain: DrainPlan | null = null;
  /** Shipshape fenced the host (forced down) and has not lifted it yet. */
  private fenced: boolean;

  constructor(
    readonly input: RemediationInput,
    resume?: ResumeState,
  ) {
    this.checks = patched(PATCH.checksThroughout) ? input.policy.confirm : undefined;
    this.seq = resume?.seq ?? 0;
    this.outOfPool = resume?.touched ?? false;
    this.fenced = resume?.fenced ?? false;
    this.view = resume?.view ?? {
      remediationId: input.remediationId,
      host: input.host,
      zone: input.zone,
      policy: { name: input.policy.name, version: input.policy.version },
      phase: 'auditing',
      poolState: 'in-service',
      requestedBy: input.requestedBy,
      steps: [],
      pendingApproval: null,
      waitingFor: null,
      handOff: null,
      outcome: null,
      signals: { received: 0, lastName: null },
    };
  }

  // ---- what has happened to the host ---------------------------------------

  get isOutOfPool(): boolean {
    return this.outOfPool;
  }

  get holdsHost(): boolean {
    return this.heldByShipshape;
  }

  get isFenced(): boolean {
    return this.fenced;
  }

  get drainPlan(): DrainPlan {
    if (!this.drain) throw new Error('the drain was not planned');
    return this.drain;
  }

  planDrain(plan: DrainPlan): void {
    this.drain = plan;
  }

  /** The drain starts: Shipshape takes the host out of scheduling and holds it. */
  takeOutOfPool(): void {
    this.outOfPool = true;
    this.heldByShipshape = true;
  }

  /** Verified and enabled again: back in the pool. */
  returnToPool(): void {
    this.outOfPool = false;
  }

  fence(): void {
    this.fenced = true;
  }

  fenceLifted(): void {
    this.fenced = false;
  }

  /** A person took the host over: in or out of the pool as they left its compute service (null: as it was). */
  leftAsPersonSet(computeEnabled: boolean | null): void {
    if (computeEnabled !== null) this.outOfPool = !computeEnabled;
  }

  /** The host goes to an operator: it stays where it is (in or out of the pool), and Shipshape no longer holds it. */
  handOff(reason: string): void {
    this.view.handOff = { reason, since: new Date().toISOString() };
    this.heldByShipshape = false;
  }

  // ---- what people ask ------------------------------------------------------

  get cancelRequested(): boolean {
    return this.cancel !== null;
  }

  /** Who cancelled and why, once someone has. */
  get cancellation(): PersonDecision | null {
    return this.cancel;
  }

  get handBackRequested(): boolean {
    return this.handBack !== null;
  }

  /** The approver's decision, once there is one. */
  get approvalDecision(): (PersonDecision & { decision: 'approved' | 'rejected' }) | null {
    return this.approval;
  }

  /** Cancelled from the Temporal UI or CLI rather than through the API: recorded like an operator's cancel. */
  cancelledInTemporal(): void {
    this.cancel ??= { by: 'temporal', comment: 'workflow cancelled in Temporal' };
  }

  askingApproval(timeoutMs: number): void {
    const now = Date.now();
    this.view.pendingApproval = {
      requestedAt: new Date(now).toISOString(),
      deadline: new Date(now + timeoutMs).toISOString(),
    };
  }

  approvalClosed(): void {
    this.view.pendingApproval = null;
  }

  /** The operator handed the host back: their note becomes the resolution, and the hand-off is over. */
  takeHandBack(): PersonDecision {
    const handBack = this.handBack;
    if (!handBack) throw new Error('no hand-back to take');
    this.handBack = null;
    this.view.handOff = null;
    this.view.resolution = { by: handBack.by, note: handBack.comment, fixedBy: handBack.fixedBy ?? null };
    return handBack;
  }

  waitingForCapacity(blockers: RemediationView['waitingFor']): void {
    this.view.waitingFor = blockers;
  }

  get policyActor(): AuditEntry {
    return {
      actorKind: 'policy',
      actor: this.input.policy.name,
      policyVersion: this.input.policy.version,
      action: '',
      reason: '',
    };
  }

  registerHandlers(): void {
    setHandler(viewQuery, () => this.view);
    setHandler(
      alertUpdate,
      (signal): AlertDelivery => {
        this.view.signals.received++;
        this.view.signals.lastName = signal.name;
        const outcome =
          signal.signalId === this.input.trigger.signalId
            ? 'started'
            : this.view.phase === 'awaiting-operator'
              ? 'suppressed'
              : 'joined';
        return { outcome, remediationId: this.view.remediationId, phase: this.view.phase };
      },
      {
        validator: (_signal: TriggerSignal) => {
          if (isFinal(this.view.phase)) throw wrongPhase('a new alert', this.view, 'while the remediation runs');
        },
      },
    );
    // Approve, reject and hand back answer once the workflow has acted on them, so the caller sees the new phase.
    // A decision is acted on only after the worker verified it (the API's signature, the role): see verifyDecision.
    const decide = (decision: 'approved' | 'rejected') => async (action: OperatorAction) => {
      const verb = decision === 'approved' ? 'approve' : 'reject';
      if (await this.verifyDecision(verb, action)) this.checkAwaitingApproval(verb);
      this.approval = { decision, by: action.by, comment: action.comment ?? '' };
      if (patched(PATCH.answerAfterActing)) await condition(() => this.view.phase !== 'awaiting-approval');
      return this.view;
    };
    const approvalValidator = (verb: 'approve' | 'reject') => (action: OperatorAction) => {
      this.checkSameRemediation(action);
      this.checkAwaitingApproval(verb);
      if (!action.role) throw forbidden(`${verb} needs the caller's role; ${action.by} sent none`);
      const roles = this.input.policy.approval.rule?.approverRoles;
      if (roles && !roles.includes(action.role))
        throw forbidden(
          `policy ${this.input.policy.name} lets only ${roles.join(' or ')} ${verb}; ${action.by} is ${action.role}`,
        );
      if (action.by === this.view.requestedBy)
        throw forbidden(`${action.by} requested this remediation and may not ${verb} it; another approver must`);
    };
    setHandler(approveUpdate, decide('approved'), { validator: approvalValidator('approve') });
    setHandler(rejectUpdate, decide('rejected'), { validator: approvalValidator('reject') });
    setHandler(
      handBackUpdate,
      async (action) => {
        if (await this.verifyDecision('hand-back', action)) this.checkAwaitingOperator();
        this.handBack = { by: action.by, comment: action.comment ?? '', fixedBy: action.fixedBy };
        if (patched(PATCH.answerAfterActing)) await condition(() => this.view.phase !== 'awaiting-operator');
        return this.view;
      },
      {
        validator: (action) => {
          this.checkSameRemediation(action);
          this.checkAwaitingOperator();
          if (!action.role) throw forbidden(`hand-back needs the caller's role; ${action.by} sent none`);
        },
      },
    );
    setHandler(
      cancelUpdate,
      async (action) => {
        if (await this.verifyDecision('cancel', action)) this.checkRunning();
        this.cancel = { by: action.by, comment: action.comment ?? '' };
        return this.view;
      },
      {
        validator: (action) => {
          this.checkSameRemediation(action);
          this.checkRunning();
          if (!action.role) throw forbidden(`cancel needs the caller's role; ${action.by} sent none`);
        },
      },
    );
  }

  /**
   * Have the worker check a person's decision before it is acted on: the API's
   * signature over exactly this workflow, remediation, decision and what it
   * answers (filled in here from the workflow's own state, not the caller's),
   * and the role. A refusal fails the Update and changes nothing. Returns
   * whether it checked (runs from before the patch replay without the check),
   * so the caller re-checks the phase: it may have moved on while waiting.
   */
  private async verifyDecision(decision: OperatorDecision, action: OperatorAction): Promise<boolean> {
    if (!patched(PATCH.signedDecisions)) return false;
    const claim: DecisionClaim = {
      workflowId: workflowInfo().workflowId,
      remediationId: this.view.remediationId,
      decision,
      by: action.by,
      role: action.role ?? null,
      comment: action.comment ?? '',
      fixedBy: action.fixedBy ?? null,
      answers: decisionAnswers(decision, this.view),
      issuedAt: action.issuedAt ?? '',
    };
    try {
      await decisions.verifyDecision({
        claim,
        signature: action.signature,
        policyName: this.input.policy.name,
        approverRoles: this.input.policy.approval.rule?.approverRoles ?? null,
      });
    } catch (err) {
      // The refusal itself (Forbidden), not the activity wrapper, so the API answers 403 with its reason.
      throw err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : err;
    }
    return true;
  }

  private checkAwaitingApproval(verb: string): void {
    if (this.view.phase !== 'awaiting-approval' || this.approval)
      throw wrongPhase(verb, this.view, 'while awaiting approval');
  }

  private checkAwaitingOperator(): void {
    if (this.view.phase !== 'awaiting-operator' || this.handBack)
      throw wrongPhase('hand-back', this.view, 'while awaiting an operator');
  }

  private checkRunning(): void {
    if (isFinal(this.view.phase) || this.cancel) throw wrongPhase('cancel', this.view, 'while the remediation runs');
  }

  private checkSameRemediation(action: OperatorAction): void {
    if (action.remediationId !== this.view.remediationId) {
      throw ApplicationFailure.create({
        type: FailureType.WrongPhase,
        message: `remediation ${action.remediationId} has ended; ${this.view.host} is now in remediation ${this.view.remediationId}`,
        nonRetryable: true,
      });
    }
  }

  throwIfCancelled(): void {
    if (this.cancel) throw new RemediationCancelled();
  }

  resumeState(): ResumeState {
    return { view: this.view, seq: this.seq, touched: this.outOfPool, ...(this.fenced ? { fenced: true } : {}) };
  }

  /** Persist the view (and pool state) with an optional audit entry, in order. */
  async record(audit: Omit<AuditEntry, 'policyVersion' | 'actorKind' | 'actor'> & Partial<AuditEntry>): Promise<void> {
    this.seq++;
    const entry: AuditEntry = { ...this.policyActor, ...audit };
    const info = workflowInfo();
    await records.recordProgress({
      workflowId: info.workflowId,
      runId: info.runId,
      seq: this.seq,
      view: this.view,
      audit: entry,
    });
  }

  async enterPhase(
    phase: Phase,
    audit: Omit<AuditEntry, 'policyVersion' | 'actorKind' | 'actor'> & Partial<AuditEntry>,
  ): Promise<void> {
    this.view.phase = phase;
    this.view.poolState = poolStateFor(phase, this.outOfPool);
    upsertSearchAttributes([{ key: PHASE, value: phase }]);
    setCurrentDetails(this.details());
    await this.record(audit);
  }

  async finish(phase: FinalPhase, reason: string, audit?: Partial<AuditEntry>): Promise<RemediationView> {
    this.view.outcome = { phase, reason, at: new Date().toISOString() };
    this.view.pendingApproval = null;
    this.view.waitingFor = null;
    if (this.guarded) await records.releaseCapacity(this.input.remediationId);
    await this.enterPhase(phase, { action: `remediation ${phase}`, reason, ...audit });
    return this.view;
  }

  /** Run one step of the process, timing it in the view; a cancel stops before the step starts. */
  async step<T>(name: string, run: () => Promise<T>, describe: (result: T) => string = () => 'done'): Promise<T> {
    this.throwIfCancelled();
    const step: StepView = {
      name,
      status: 'running',
      startedAt: new Date().toISOString(),
      endedAt: null,
      detail: null,
    };
    this.view.steps.push(step);
    setCurrentDetails(this.details());
    try {
      const result = await run();
      Object.assign(step, { status: 'succeeded', endedAt: new Date().toISOString(), detail: describe(result) });
      return result;
    } catch (err) {
      Object.assign(step, { status: 'failed', endedAt: new Date().toISOString(), detail: describeFailure(err) });
      throw asPersonTookOver(err) ?? err;
    }
  }

  private details(): string {
    const v = this.view;
    const steps = v.steps.map((s) => `- ${s.name}: ${s.status}${s.detail ? ` — ${s.detail}` : ''}`).join('\n');
    const handOff = v.handOff ? `\n**Handed off:** ${v.handOff.reason}` : '';
    return `**Host:** ${v.host} (${v.zone})  \n**Phase:** ${v.phase}  \n**Pool state:** ${v.poolState}  \n**Policy:** ${v.policy.name}@${v.policy.version}${handOff}\n\n${steps}`;
  }
}

export async function notify(
  r: RemediationState,
  kind: 'hand-off' | 'approval-requested' | 'approval-escalated' | 'notice',
  reason: string,
): Promise<void> {
  try {
    await paging.notifyOperator({ kind, remediationId: r.input.remediationId, host: r.input.host, reason });
  } catch (err) {
    await r.record({ action: 'notification failed', reason: describeFailure(err) });
  }
}

export function personActor(by: string | undefined) {
  return { actorKind: 'person' as const, actor: by ?? 'unknown', policyVersion: null };
}
