/**
 * The telemetry sweep's activities: read every host's BMC and provider state
 * with bounded concurrency, keep the latest snapshot and a time series,
 * derive health, and raise a signal into Shipshape's own pipeline when a
 * threshold is crossed (and a resolved one when it clears).
 *
 * A host that cannot be read is a state of that host, recorded with its
 * reason; the sweep goes on for every other host.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { allHostIds, bmcEndpointsOf } from '../db/hosts';
import { prunePowerActionIntents } from '../db/power-actions';
import { pruneSignals, type RaisedSignal } from '../db/signals';
import { pruneInbox } from '../db/inbox';
import {
  closeSweepAndPrune,
  correctableErrorsAtWindowStart,
  countSweepBatch,
  openSweep,
  recordHostReading,
} from '../db/telemetry';
import { FailureType } from '../domain/errors';
import type { FleetProvider } from '../domain/provider';
import {
  assess,
  DEFAULT_THRESHOLDS,
  diffConditions,
  metricsOf,
  type Assessment,
  type BmcOutcome,
  type ConditionChange,
  type Thresholds,
} from '../domain/telemetry';
import type { BmcEndpoint, HostState } from '../domain/types';
import { readBmc, type BmcConnector } from '../providers/bmc';
import { syncInventory } from './inventory';

export interface TelemetrySettings {
  thresholds: Thresholds;
  /** Samples older than this are pruned at the end of each sweep. */
  retentionDays: number;
  /** Signals (alerts) older than this are pruned at the end of each sweep, but never those of an open remediation. */
  signalRetentionDays: number;
  /** Hosts read at once within one batch. */
  concurrency: number;
  /** The longest one host's whole reading may take. */
  readDeadlineMs: number;
}

export const DEFAULT_TELEMETRY: TelemetrySettings = {
  thresholds: DEFAULT_THRESHOLDS,
  retentionDays: 14,
  signalRetentionDays: 90,
  concurrency: 16,
  readDeadlineMs: 30_000,
};

export interface SweepStart {
  sweepId: string;
  hosts: string[];
}

export interface HostReadResult {
  host: string;
  health: Assessment['health'];
  reasons: string[];
  bmc: BmcOutcome['status'];
  error: string | null;
  signals: ConditionChange[];
}

export interface BatchResult {
  ok: number;
  failed: number;
  signals: number;
  /** The hosts that could not be read, with why (BMC or provider). */
  errors: Array<{ host: string; error: string }>;
}

/** The source name telemetry signals carry; the API's redispatcher delivers them like any queued alert. */
export const TELEMETRY_SOURCE = 'telemetry';

export function createTelemetryActivities(deps: {
  db: Pool;
  provider: FleetProvider;
  bmc: BmcConnector;
  settings: TelemetrySettings;
}) {
  const { db, provider, bmc, settings } = deps;

  async function readOne(sweepId: string, host: string, endpoint: BmcEndpoint | null): Promise<HostReadResult> {
    const [bmcOutcome, state, utilisation] = await Promise.all([
      readBmc(bmc, host, endpoint, settings.readDeadlineMs),
      settle(() => provider.readHostState(host)),
      settle(() => provider.readUtilisation(host)),
    ]);
    const assessment = assess(bmcOutcome, state.value, settings.thresholds, {
      correctableErrorsAtWindowStart: await errorsAtWindowStart(host),
    });
    const providerError = state.error ?? utilisation.error;
    const bmcError = bmcOutcome.status === 'failed' ? bmcOutcome.error : null;

    const reading = {
      sweepId,
      host,
      bmcOutcome,
      state: state.value,
      utilisation: utilisation.value,
      providerError,
      assessment,
      metrics: metricsOf(bmcOutcome, utilisation.value),
    };
    const { changes } = await recordHostReading(db, reading, (previous) => {
      const { next, changes } = diffConditions(previous, assessment.conditions, {
        bmc: bmcOutcome.status === 'read',
        reachability: bmcOutcome.status !== 'not-configured',
      });
      return { conditions: next, signals: changes.map((change) => telemetrySignal(host, change)), changes };
    });
    return {
      host,
      health: assessment.health,
      reasons: assessment.reasons,
      bmc: bmcOutcome.status,
      error: bmcError ?? providerError,
      signals: changes,
    };
  }

  const endpoints = (hosts: string[]): Promise<Map<string, BmcEndpoint | null>> => bmcEndpointsOf(db, hosts);

  /**
   * For the remediation's audit: the BMC's own view of the host, and the
   * host's health from both sources (what the sweep would record).
   */
  async function auditView(
    host: string,
    state: HostState,
  ): Promise<{ bmc: NonNullable<HostState['bmc']>; assessment: Assessment }> {
    const known = await endpoints([host]);
    const outcome = await readBmc(bmc, host, known.get(host) ?? null, settings.readDeadlineMs);
    const history = { correctableErrorsAtWindowStart: await errorsAtWindowStart(host) };
    const own = assess(outcome, null, settings.thresholds, history);
    return {
      bmc: { status: outcome.status, health: own.health, reasons: own.reasons },
      assessment: assess(outcome, state, settings.thresholds, history),
    };
  }

  const errorsAtWindowStart = (host: string) =>
    correctableErrorsAtWindowStart(db, host, settings.thresholds.correctableErrorsWindowMinutes);

  const activities = {
    /** Bring the inventory in line with the provider, open a sweep, and list the hosts to read. */
    async startSweep(): Promise<SweepStart> {
      await syncInventory(db, provider);
      const sweepId = `sweep-${new Date().toISOString()}-${randomUUID().slice(0, 8)}`;
      const hosts = await allHostIds(db);
      await openSweep(db, sweepId, hosts.length);
      return { sweepId, hosts };
    },

    /** Read a batch of hosts, `concurrency` at a time; heartbeats as hosts finish. Never fails for one host. */
    async sweepHosts(input: { sweepId: string; hosts: string[] }): Promise<BatchResult> {
      const ctx = activityContext();
      const known = await endpoints(input.hosts);
      const result: BatchResult = { ok: 0, failed: 0, signals: 0, errors: [] };
      let next = 0;
      const worker = async () => {
        while (next < input.hosts.length) {
          const host = input.hosts[next++] as string;
          if (!known.has(host)) {
            result.failed++;
            result.errors.push({ host, error: 'no longer in the inventory' });
            continue;
          }
          const r = await readOne(input.sweepId, host, known.get(host) ?? null);
          if (r.error) {
            result.failed++;
            result.errors.push({ host, error: r.error });
          } else result.ok++;
          result.signals += r.signals.length;
          ctx?.heartbeat({ done: result.ok + result.failed });
        }
      };
      await Promise.all(Array.from({ length: Math.min(settings.concurrency, input.hosts.length) }, worker));
      await countSweepBatch(db, input.sweepId, result);
      return result;
    },

    /** Close the sweep and prune samples, signals, old power-action intents and resolved inbox items past their retention. */
    async finishSweep(sweepId: string): Promise<{ pruned: number; prunedSignals: number }> {
      const prunedSignals = await pruneSignals(db, settings.signalRetentionDays);
      await prunePowerActionIntents(db, settings.signalRetentionDays);
      await pruneInbox(db, settings.signalRetentionDays);
      return { pruned: await closeSweepAndPrune(db, sweepId, settings.retentionDays), prunedSignals };
    },

    /** Read one host now (POST /v1/hosts/{id}/refresh). */
    async refreshHost(host: string): Promise<HostReadResult> {
      const known = await endpoints([host]);
      if (!known.has(host))
        throw ApplicationFailure.nonRetryable(`host ${host} is not in the inventory`, FailureType.UnknownHost);
      return readOne(`refresh-${new Date().toISOString()}`, host, known.get(host) ?? null);
    },
  };
  return { activities, auditView };
}

function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null; // called outside an activity (benchmarks)
  }
}

async function settle<T>(read: () => Promise<T>): Promise<{ value: T | null; error: string | null }> {
  try {
    return { value: await read(), error: null };
  } catch (err) {
    return { value: null, error: `provider: ${(err as Error).message}` };
  }
}

/**
 * A crossed threshold becomes a signal like an alert: recorded as `queued`,
 * and the API's redispatcher decides and delivers it (policy match, guards,
 * update-with-start), exactly as for an alert that arrived while Temporal was away.
 */
function telemetrySignal(host: string, change: ConditionChange): RaisedSignal {
  return {
    id: randomUUID(),
    source: TELEMETRY_SOURCE,
    name: change.name,
    host,
    severity: change.severity,
    status: change.status,
    fingerprint: `telemetry:${host}:${change.name}`,
    labels: { alertname: change.name, host, source: TELEMETRY_SOURCE, severity: change.severity },
    annotations: { summary: change.reason },
    receivedBy: 'telemetry-sweep',
    reason: 'raised by the telemetry sweep',
  };
}
