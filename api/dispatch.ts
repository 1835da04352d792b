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
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { Pool } from 'pg';

import type { Logger } from '../config/logger';
import { FailureType } from '../domain/errors';
import { matchPolicy } from '../domain/policy-match';
import { remediationWorkflowId, type RemediationInput, type TriggerSignal } from '../domain/remediation';
import { HOST, PHASE, POLICY, ZONE } from '../domain/search-attributes';
import type { SignalOutcome, SignalRecord } from '../domain/types';
import type { LoadedPolicy } from '../policies/loader';
import type { remediationWorkflow } from '../workflows/remediation';
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
}

/** Where a host stands in the fleet: what policies match on. */
export interface HostPlace {
  zone: string;
  roles: string[];
}

interface Decision {
  outcome: SignalOutcome;
  remediationId: string | null;
  reason: string;
  policyName: string | null;
}

export class SignalDispatcher {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private temporalAwayUntil = 0;

  constructor(private readonly deps: DispatcherDeps) {}

  /**
   * Record the signal durably, then decide what it does. The storm case — a
   * repeat of an alert the host's open remediation already has — costs this
   * one statement: the fast-path check and the durable insert together.
   */
  async accept(signal: SignalRecord, annotations: Record<string, string>, host: HostPlace): Promise<SignalResult> {
    const { rows } = await this.deps.db.query<{ outcome: SignalOutcome | null; outcome_reason: string | null; remediation_id: string | null }>(
      `WITH open AS (
         SELECT r.id, r.phase, r.policy_name FROM remediations r
          WHERE $6 = 'firing' AND r.host = $4 AND r.closed_at IS NULL
            AND EXISTS (SELECT 1 FROM signals s WHERE s.remediation_id = r.id AND s.fingerprint = $7
                        AND s.outcome IN ('started','joined','suppressed')))
       INSERT INTO signals (id, source, name, resource_kind, resource_id, host, severity, status, fingerprint, labels, annotations,
                            starts_at, received_by, outcome, outcome_reason, remediation_id, policy_name, dispatched_at)
       SELECT $1,$2,$3,'host',$4,$4,$5,$6,$7,$8,$9,$10,$11,
              CASE WHEN open.id IS NULL THEN NULL WHEN open.phase = 'awaiting-operator' THEN 'suppressed' ELSE 'joined' END,
              CASE WHEN open.id IS NULL THEN NULL
                   WHEN open.phase = 'awaiting-operator' THEN 'recorded; ' || $4 || ' is with an operator, automation does not act'
                   ELSE 'repeat of an alert the running remediation has' END,
              open.id, open.policy_name, CASE WHEN open.id IS NULL THEN NULL ELSE now() END
         FROM (SELECT 1) AS one LEFT JOIN open ON true
       RETURNING outcome, outcome_reason, remediation_id`,
      [
        signal.id, signal.source, signal.name, signal.host, signal.severity, signal.status, signal.fingerprint,
        JSON.stringify(signal.labels), JSON.stringify(annotations), signal.startsAt, signal.receivedBy,
      ],
    );
    const fast = rows[0];
    if (fast?.outcome) {
      return { signalId: signal.id, outcome: fast.outcome, remediationId: fast.remediation_id, reason: fast.outcome_reason ?? '' };
    }
    const decision = await this.decideAndRecord(signal, host);
    return { signalId: signal.id, outcome: decision.outcome, remediationId: decision.remediationId, reason: decision.reason };
  }

  /** Record a signal that cannot concern any host Shipshape knows; it is kept for the record. */
  async recordIgnored(
    signal: Omit<SignalRecord, 'host'> & { resourceId: string },
    annotations: Record<string, string>,
    reason: string,
  ): Promise<SignalResult> {
    await this.deps.db.query(
      `INSERT INTO signals (id, source, name, resource_kind, resource_id, host, severity, status, fingerprint, labels, annotations,
                            starts_at, received_by, outcome, outcome_reason, dispatched_at)
       VALUES ($1,$2,$3,'host',$4,NULL,$5,$6,$7,$8,$9,$10,$11,'ignored',$12, now())`,
      [
        signal.id, signal.source, signal.name, signal.resourceId, signal.severity, signal.status, signal.fingerprint,
        JSON.stringify(signal.labels), JSON.stringify(annotations), signal.startsAt, signal.receivedBy, reason,
      ],
    );
    return { signalId: signal.id, outcome: 'ignored', remediationId: null, reason };
  }

  /** Decide for a recorded signal and store the outcome (used by accept and the redispatcher). */
  async decideAndRecord(signal: SignalRecord, host: HostPlace, db: Pick<Pool, 'query'> = this.deps.db): Promise<Decision> {
    const decision = await this.decide(signal, host);
    await db.query(
      `UPDATE signals SET outcome = $2, outcome_reason = $3, remediation_id = $4, policy_name = $5,
              dispatched_at = CASE WHEN $2 = 'queued' THEN NULL ELSE now() END WHERE id = $1`,
      [signal.id, decision.outcome, decision.reason, decision.remediationId, decision.policyName],
    );
    return decision;
  }

  private async fastPath(signal: SignalRecord): Promise<Decision | null> {
    const { rows } = await this.deps.db.query<{ id: string; phase: string; policy_name: string }>(
      `SELECT r.id, r.phase, r.policy_name FROM remediations r
        WHERE r.host = $1 AND r.closed_at IS NULL
          AND EXISTS (SELECT 1 FROM signals s WHERE s.remediation_id = r.id AND s.fingerprint = $2
                      AND s.outcome IN ('started','joined','suppressed'))`,
      [signal.host, signal.fingerprint],
    );
    const open = rows[0];
    if (!open) return null;
    const suppressed = open.phase === 'awaiting-operator';
    return {
      outcome: suppressed ? 'suppressed' : 'joined',
      remediationId: open.id,
      reason: suppressed ? `recorded; ${signal.host} is with an operator, automation does not act` : 'repeat of an alert the running remediation has',
      policyName: open.policy_name,
    };
  }

  private async decide(signal: SignalRecord, host: HostPlace): Promise<Decision> {
    const policy = matchPolicy(this.deps.policies(), { name: signal.name, labels: signal.labels, severity: signal.severity, host });
    if (!policy) return { outcome: 'no-policy', remediationId: null, reason: `no policy matches ${signal.name}`, policyName: null };
    if (signal.status === 'resolved') {
      const { rows } = await this.deps.db.query<{ id: string }>('SELECT id FROM remediations WHERE host = $1 AND closed_at IS NULL', [signal.host]);
      const open = rows[0];
      return open
        ? { outcome: 'joined', remediationId: open.id, reason: 'resolved; the running remediation re-checks the real state itself', policyName: policy.name }
        : { outcome: 'ignored', remediationId: null, reason: `resolved; nothing running for ${signal.host}`, policyName: policy.name };
    }
    const queued: Decision = { outcome: 'queued', remediationId: null, reason: 'recorded; Temporal unreachable, will be delivered when it is back', policyName: policy.name };
    // Right after a failed delivery, don't make every signal of a burst wait out its own deadline.
    if (Date.now() < this.temporalAwayUntil) return queued;
    try {
      const delivered = await this.oneAtATime(signal.host, () => this.deliver(signal, host.zone, policy));
      return { ...delivered, policyName: policy.name };
    } catch (err) {
      this.temporalAwayUntil = Date.now() + 2000;
      this.deps.logger.warn({ err: (err as Error).message, signal: signal.id }, 'could not reach Temporal; signal queued');
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

  private async deliver(signal: SignalRecord, zone: string, policy: LoadedPolicy): Promise<Omit<Decision, 'policyName'>> {
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
    // A workflow in its last moments rejects new alerts; the retry then starts a fresh run.
    for (let attempt = 1; ; attempt++) {
      const start = new WithStartWorkflowOperation<typeof remediationWorkflow>('remediationWorkflow', {
        workflowId: remediationWorkflowId(signal.host, this.deps.workflowIdPrefix),
        taskQueue: this.deps.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: [
          { key: HOST, value: signal.host },
          { key: ZONE, value: zone },
          { key: POLICY, value: policy.name },
          { key: PHASE, value: 'auditing' },
        ],
        staticSummary: `Remediate ${signal.host}: ${signal.name} (${policy.name})`,
        staticDetails: `Started by ${signal.receivedBy} from ${signal.source}; policy ${policy.name}@${policy.policy.version}`,
      });
      try {
        // Bounded: with Temporal (or every worker) away, answer `queued` in seconds rather than hold the sender.
        const delivery = await this.deps.client.withDeadline(Date.now() + (this.deps.deliveryDeadlineMs ?? 5000), () =>
          this.deps.client.workflow.executeUpdateWithStart(alertUpdate, { args: [trigger], startWorkflowOperation: start }),
        );
        if (delivery.outcome === 'started') await this.indexNewRemediation(input);
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
    // run_id is filled in by the workflow's first record.
    await this.deps.db.query(
      `INSERT INTO remediations (id, host, workflow_id, run_id, policy_name, policy_version, phase, requested_by)
       VALUES ($1, $2, $3, '', $4, $5, 'auditing', $6) ON CONFLICT DO NOTHING`,
      [input.remediationId, input.host, remediationWorkflowId(input.host, this.deps.workflowIdPrefix), input.policy.name, input.policy.version, input.requestedBy],
    );
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
