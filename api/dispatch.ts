/**
 * From an accepted signal to a remediation. The signal is written to
 * PostgreSQL before anything else, so an accepted signal is never lost.
 *
 * Built for storms, where thousands of alerts a second mostly repeat alerts
 * a running remediation already has:
 *  1. fast path — one indexed query: if the host's open remediation already
 *     received this fingerprint, the signal is recorded as joined (or
 *     suppressed while an operator has the host) and Temporal is not called;
 *  2. otherwise, per host and per API process, one delivery at a time goes to
 *     Temporal as update-with-start on the host's workflow ID: it starts the
 *     remediation or joins the running one, and the workflow says which;
 *  3. if Temporal cannot be reached the signal stays `queued` and the
 *     redispatcher delivers it later.
 *
 * A whole group (an Alertmanager notification of thousands of alerts) is
 * recorded in a few multi-row statements, all or none, before the answer;
 * its deliveries to Temporal go on after the answer when they take longer
 * than a sender such as Alertmanager should wait.
 */
import { fixTargetOf } from '../domain/compliance-drift';
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { Pool } from 'pg';

import type { Logger } from '../config/logger';
import { flappingItemOf } from '../db/inbox';
import { inTransaction, type Queryable } from '../db/pool';
import { indexStartedRemediation, openRemediationHavingAlert, openRemediationOf } from '../db/remediations';
import { claimUndelivered, recordSignalDecision, recordSignals, type IncomingSignal } from '../db/signals';
import { FailureType } from '../domain/errors';
import { matchPolicy } from '../domain/policy-match';
import { remediationWorkflowId, type RemediationInput, type TriggerSignal } from '../domain/remediation';
import { HOST, PHASE, POLICY, ZONE } from '../domain/search-attributes';
import type { SignalOutcome, SignalRecord } from '../domain/types';
import type { LoadedPolicy } from '../policies/loader';
import type { remediationWorkflow } from '../workflows/remediation';
import { signStart } from '../config/decision-signature';
import type { NamedKey } from '../config/keys';
import { alertUpdate } from '../workflows/messages';
import type { SignalResult } from './schemas';

export interface DispatcherDeps {
  db: Pool;
  client: Client;
  taskQueue: string;
  workflowIdPrefix: string;
  policies: () => readonly LoadedPolicy[];
  logger: Logger;
  /** How long one delivery to Temporal may take before the signal is queued instead (default 5 s). */
  deliveryDeadlineMs?: number;
  /** The keys file's decision keys: the API signs every remediation it starts, and the worker checks it. */
  decisionKeys: NamedKey[];
}

/** Where a host stands in the fleet: what policies match on. */
export interface HostPlace {
  zone: string;
  roles: string[];
}

/** A signal of a group (an Alertmanager notification), with where its host stands when Shipshape knows it. */
export type GroupSignal = IncomingSignal & { place: HostPlace | null };

const noPolicyFor = (name: string) => `no policy matches ${name}`;

interface Decision {
  outcome: SignalOutcome;
  remediationId: string | null;
  reason: string;
  policyName: string | null;
}

/** Alertmanager gives a notification at least 10 s (its group_interval when longer), retries included. */
const ANSWER_GROUP_WITHIN_MS = 2000;
const DELIVERY_CLAIMERS = 4;
const DELIVERY_BATCH = 25;
const DELIVERING = {
  outcome: 'queued',
  remediationId: null,
  reason: 'recorded; delivered to Temporal after this answer',
} as const;

export class SignalDispatcher {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly background = new Set<Promise<void>>();
  /**
   * A claim holds a pool connection while its deliveries make queries on others:
   * with many groups at once, uncapped claims could hold every connection and wait
   * for one forever. Slots are taken in turn, so a small group is not stuck behind a big one.
   */
  private readonly claimSlots = new Slots(DELIVERY_CLAIMERS);
  private temporalAwayUntil = 0;
  private stopping = false;

  constructor(private readonly deps: DispatcherDeps) {}

  /**
   * Record the signal durably, then decide what it does. The storm case — a
   * repeat of an alert the host's open remediation already has — costs this
   * one statement: the fast-path check and the durable insert together.
   */
  async accept(signal: SignalRecord, annotations: Record<string, string>, host: HostPlace): Promise<SignalResult> {
    const [recorded] = await recordSignals(this.deps.db, [
      { ...signal, resourceId: signal.host, annotations, decided: null },
    ]);
    if (recorded?.outcome) {
      return {
        signalId: signal.id,
        outcome: recorded.outcome,
        remediationId: recorded.remediationId,
        reason: recorded.reason ?? '',
      };
    }
    const decision = await this.decideAndRecord(signal, host);
    return {
      signalId: signal.id,
      outcome: decision.outcome,
      remediationId: decision.remediationId,
      reason: decision.reason,
    };
  }

  /**
   * Accept a whole group (an Alertmanager notification of any size): every signal
   * is recorded durably in a few statements, then delivered. The answer comes once
   * all are decided or after `answerWithinMs`, whichever is first, so that a group
   * of thousands is answered well inside Alertmanager's notification deadline;
   * delivery of the rest goes on after the answer.
   */
  async acceptGroup(signals: readonly GroupSignal[], answerWithinMs = ANSWER_GROUP_WITHIN_MS): Promise<SignalResult[]> {
    const recorded = await recordSignals(
      this.deps.db,
      signals.map((s) => this.withoutTemporal(s)),
    );
    const undecided = recorded.filter((r) => !r.outcome).map((r) => r.id);
    const decided = new Map<string, Decision>();
    if (undecided.length > 0) {
      const delivery = this.inBackground(this.deliverRecorded(undecided, decided));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([delivery, new Promise((r) => (timer = setTimeout(r, answerWithinMs)))]);
      clearTimeout(timer);
    }
    return recorded.map((r) => {
      const decision = r.outcome
        ? { outcome: r.outcome, remediationId: r.remediationId, reason: r.reason ?? '' }
        : (decided.get(r.id) ?? DELIVERING);
      return {
        signalId: r.id,
        outcome: decision.outcome,
        remediationId: decision.remediationId,
        reason: decision.reason,
      };
    });
  }

  /** A signal no policy covers is decided as it is recorded: only the others wait for delivery to Temporal. */
  private withoutTemporal({ place, ...signal }: GroupSignal): IncomingSignal {
    if (signal.decided || !place || !signal.host) return signal;
    const policy = matchPolicy(this.deps.policies(), {
      name: signal.name,
      labels: signal.labels,
      severity: signal.severity,
      host: place,
    });
    return policy ? signal : { ...signal, decided: { outcome: 'no-policy', reason: noPolicyFor(signal.name) } };
  }

  /**
   * Deliver recorded, undecided signals. Several claimers take batches with SKIP
   * LOCKED, so the redispatcher (or another replica) never delivers one of them
   * twice; per host, deliveries still go one at a time.
   */
  private async deliverRecorded(ids: readonly string[], decided: Map<string, Decision>): Promise<void> {
    const claimer = async () => {
      for (let claimed = -1; claimed !== 0 && !this.stopping; ) {
        claimed = await this.claimSlots.run(() =>
          inTransaction(this.deps.db, async (tx) => {
            const batch = await claimUndelivered(tx, { ids }, DELIVERY_BATCH);
            // Decide at once (each host's deliveries still go one at a time), then store in turn: one client runs one query at a time.
            const decisions = await Promise.all(
              batch.map(({ signal, zone, roles }) => this.decide(signal, { zone, roles })),
            );
            for (const [i, { signal }] of batch.entries()) {
              await recordSignalDecision(tx, signal.id, decisions[i]!);
              decided.set(signal.id, decisions[i]!);
            }
            return batch.length;
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: DELIVERY_CLAIMERS }, claimer));
  }

  /** Work that outlives the request: a failure is logged (the redispatcher takes what is left), and stop() waits for it. */
  private inBackground(work: Promise<void>): Promise<void> {
    const tracked = work.catch((err: unknown) =>
      this.deps.logger.warn(
        { err: (err as Error).message },
        'delivering a recorded group failed; the redispatcher will deliver the rest',
      ),
    );
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
    return tracked;
  }

  /** Stop claiming signals and wait for deliveries under way (on shutdown). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.background]);
  }

  /** Decide for a recorded signal and store the outcome (used by accept and the redispatcher). */
  async decideAndRecord(signal: SignalRecord, host: HostPlace, db: Queryable = this.deps.db): Promise<Decision> {
    const decision = await this.decide(signal, host);
    await recordSignalDecision(db, signal.id, decision);
    return decision;
  }

  private async fastPath(signal: SignalRecord): Promise<Decision | null> {
    const open = await openRemediationHavingAlert(this.deps.db, signal.host, signal.fingerprint);
    if (!open) return null;
    const suppressed = open.phase === 'awaiting-operator';
    return {
      outcome: suppressed ? 'suppressed' : 'joined',
      remediationId: open.id,
      reason: suppressed
        ? `recorded; ${signal.host} is with an operator, automation does not act`
        : 'repeat of an alert the running remediation has',
      policyName: open.policyName,
    };
  }

  private async decide(signal: SignalRecord, host: HostPlace): Promise<Decision> {
    const policy = matchPolicy(this.deps.policies(), {
      name: signal.name,
      labels: signal.labels,
      severity: signal.severity,
      host,
    });
    if (!policy)
      return { outcome: 'no-policy', remediationId: null, reason: noPolicyFor(signal.name), policyName: null };
    if (signal.status === 'resolved') {
      const open = await openRemediationOf(this.deps.db, signal.host);
      return open
        ? {
            outcome: 'joined',
            remediationId: open.id,
            reason: 'resolved; the running remediation re-checks the real state itself',
            policyName: policy.name,
          }
        : {
            outcome: 'ignored',
            remediationId: null,
            reason: `resolved; nothing running for ${signal.host}`,
            policyName: policy.name,
          };
    }
    const flapping = await flappingItemOf(this.deps.db, signal.fingerprint);
    if (flapping)
      return {
        outcome: 'suppressed',
        remediationId: null,
        reason: `recorded; the alert is flapping (${flapping.percent}% state change): inbox item ${flapping.itemId} needs a person, automation does not start a remediation per flap`,
        policyName: policy.name,
      };
    const queued: Decision = {
      outcome: 'queued',
      remediationId: null,
      reason: 'recorded; Temporal unreachable, will be delivered when it is back',
      policyName: policy.name,
    };
    // Right after a failed delivery, don't make every signal of a burst wait out its own deadline.
    if (Date.now() < this.temporalAwayUntil) return queued;
    try {
      const delivered = await this.oneAtATime(signal.host, () => this.deliver(signal, host.zone, policy));
      return { ...delivered, policyName: policy.name };
    } catch (err) {
      this.temporalAwayUntil = Date.now() + 2000;
      this.deps.logger.warn(
        { err: (err as Error).message, signal: signal.id },
        'could not reach Temporal; signal queued',
      );
      return queued;
    }
  }

  /** Serialise deliveries per host in this process so a burst costs Temporal one update, not hundreds. */
  private async oneAtATime<T>(host: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.inFlight.get(host) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(fn);
    this.inFlight.set(host, current);
    try {
      return await current;
    } finally {
      if (this.inFlight.get(host) === current) this.inFlight.delete(host);
    }
  }

  private async deliver(
    signal: SignalRecord,
    zone: string,
    policy: LoadedPolicy,
  ): Promise<Omit<Decision, 'policyName'>> {
    const again = await this.fastPath(signal);
    if (again) return again;
    const trigger: TriggerSignal = {
      signalId: signal.id,
      name: signal.name,
      fingerprint: signal.fingerprint,
      severity: signal.severity,
      status: signal.status,
    };
    const input: RemediationInput = {
      remediationId: randomUUID(),
      host: signal.host,
      zone,
      policy: policy.policy,
      trigger,
      requestedBy: signal.receivedBy,
    };
    // A compliance drift names the rule to fix: the workflow applies that rule's fix (workflows/compliance-fix.ts).
    const fixTarget = fixTargetOf(signal.name, signal.labels);
    if (fixTarget) input.complianceFix = fixTarget;
    const workflowId = remediationWorkflowId(signal.host, this.deps.workflowIdPrefix);
    const startSignature = signStart(this.deps.decisionKeys, workflowId, input);
    // A workflow in its last moments rejects new alerts; the retry then starts a fresh run.
    for (let attempt = 1; ; attempt++) {
      const start = new WithStartWorkflowOperation<typeof remediationWorkflow>('remediationWorkflow', {
        workflowId,
        taskQueue: this.deps.taskQueue,
        args: [{ ...input, startSignature }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: [
          { key: HOST, value: signal.host },
          { key: ZONE, value: zone },
          { key: POLICY, value: policy.name },
          { key: PHASE, value: 'auditing' },
        ],
        staticSummary: fixTarget
          ? `Fix ${fixTarget.ruleId} (${fixTarget.profile}) on ${signal.host} (${policy.name})`
          : `Remediate ${signal.host}: ${signal.name} (${policy.name})`,
        staticDetails: `Started by ${signal.receivedBy} from ${signal.source}; policy ${policy.name}@${policy.policy.version}`,
      });
      try {
        // Bounded: with Temporal (or every worker) away, answer `queued` in seconds rather than hold the sender.
        const delivery = await this.deps.client.withDeadline(Date.now() + (this.deps.deliveryDeadlineMs ?? 5000), () =>
          this.deps.client.workflow.executeUpdateWithStart(alertUpdate, {
            args: [trigger],
            startWorkflowOperation: start,
          }),
        );
        // Index the id Temporal answered: when an earlier delivery of this signal started the run and its
        // answer was lost (a timeout, the API stopped), the run has that delivery's id, not this one's.
        if (delivery.outcome === 'started')
          await this.indexNewRemediation({ ...input, remediationId: delivery.remediationId });
        const reason =
          delivery.outcome === 'started'
            ? `remediation started under policy ${policy.name}`
            : delivery.outcome === 'suppressed'
              ? `recorded; ${signal.host} is with an operator, automation does not act`
              : `joined the running remediation (${delivery.phase})`;
        return { outcome: delivery.outcome, remediationId: delivery.remediationId, reason };
      } catch (err) {
        if (attempt >= 5 || !isWrongPhase(err)) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  /** Make the new remediation visible to the fast path at once; the workflow fills in the rest. */
  private async indexNewRemediation(input: RemediationInput): Promise<void> {
    await indexStartedRemediation(this.deps.db, {
      remediationId: input.remediationId,
      host: input.host,
      workflowId: remediationWorkflowId(input.host, this.deps.workflowIdPrefix),
      policyName: input.policy.name,
      policyVersion: input.policy.version,
      requestedBy: input.requestedBy,
    });
  }
}

/** At most `size` runs at once; the others wait in arrival order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((take) => this.waiting.push(take));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

function isWrongPhase(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    if ((e as { type?: string }).type === FailureType.WrongPhase) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
