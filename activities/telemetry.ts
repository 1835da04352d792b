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
import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../db/pool';
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
  type Conditions,
  type HostUtilisation,
  type Thresholds,
} from '../domain/telemetry';
import type { BmcEndpoint, HostState } from '../domain/types';
import { readBmc, type BmcConnector } from '../providers/bmc';
import { syncInventory } from './inventory';

export interface TelemetrySettings {
  thresholds: Thresholds;
  /** Samples older than this are pruned at the end of each sweep. */
  retentionDays: number;
  /** Hosts read at once within one batch. */
  concurrency: number;
  /** The longest one host's whole reading may take. */
  readDeadlineMs: number;
}

export const DEFAULT_TELEMETRY: TelemetrySettings = {
  thresholds: DEFAULT_THRESHOLDS,
  retentionDays: 14,
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

export function createTelemetryActivities(deps: { db: Pool; provider: FleetProvider; bmc: BmcConnector; settings: TelemetrySettings }) {
  const { db, provider, bmc, settings } = deps;

  async function readOne(sweepId: string, host: string, endpoint: BmcEndpoint | null): Promise<HostReadResult> {
    const [bmcOutcome, state, utilisation] = await Promise.all([
      readBmc(bmc, host, endpoint, settings.readDeadlineMs),
      settle(() => provider.readHostState(host)),
      settle(() => provider.readUtilisation(host)),
    ]);
    const assessment = assess(bmcOutcome, state.value, settings.thresholds, { correctableErrorsAtWindowStart: await errorsAtWindowStart(host) });
    const providerError = state.error ?? utilisation.error;
    const bmcError = bmcOutcome.status === 'failed' ? bmcOutcome.error : null;

    const changes = await inTransaction(db, async (tx) => {
      const { rows: prev } = await tx.query<{ conditions: Conditions }>('SELECT conditions FROM host_snapshots WHERE host = $1 FOR UPDATE', [host]);
      const { next, changes } = diffConditions(prev[0]?.conditions ?? {}, assessment.conditions, {
        bmc: bmcOutcome.status === 'read',
        reachability: bmcOutcome.status !== 'not-configured',
      });
      await writeSnapshot(tx, { sweepId, host, bmcOutcome, state: state.value, utilisation: utilisation.value, providerError, assessment, conditions: next });
      for (const change of changes) await raiseSignal(tx, host, change);
      return changes;
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

  async function endpoints(hosts: string[]): Promise<Map<string, BmcEndpoint | null>> {
    const { rows } = await db.query<{ id: string; bmc_address: string | null; bmc_credentials_ref: string | null; bmc_system_id: string | null }>(
      'SELECT id, bmc_address, bmc_credentials_ref, bmc_system_id FROM hosts WHERE id = ANY($1)',
      [hosts],
    );
    return new Map(
      rows.map((r) => [r.id, r.bmc_address ? { address: r.bmc_address, credentialsRef: r.bmc_credentials_ref, systemId: r.bmc_system_id } : null]),
    );
  }

  /**
   * For the remediation's audit: the BMC's own view of the host, and the
   * host's health from both sources (what the sweep would record).
   */
  async function auditView(host: string, state: HostState): Promise<{ bmc: NonNullable<HostState['bmc']>; assessment: Assessment }> {
    const known = await endpoints([host]);
    const outcome = await readBmc(bmc, host, known.get(host) ?? null, settings.readDeadlineMs);
    const history = { correctableErrorsAtWindowStart: await errorsAtWindowStart(host) };
    const own = assess(outcome, null, settings.thresholds, history);
    return {
      bmc: { status: outcome.status, health: own.health, reasons: own.reasons },
      assessment: assess(outcome, state, settings.thresholds, history),
    };
  }

  async function errorsAtWindowStart(host: string): Promise<number | null> {
    const { rows } = await db.query<{ value: number }>(
      `SELECT value FROM telemetry_samples
        WHERE host = $1 AND metric = 'correctable_errors' AND at >= now() - make_interval(mins => $2)
        ORDER BY at LIMIT 1`,
      [host, settings.thresholds.correctableErrorsWindowMinutes],
    );
    return rows[0]?.value ?? null;
  }

  const activities = {
    /** Bring the inventory in line with the provider, open a sweep, and list the hosts to read. */
    async startSweep(): Promise<SweepStart> {
      await syncInventory(db, provider);
      const sweepId = `sweep-${new Date().toISOString()}-${randomUUID().slice(0, 8)}`;
      const { rows } = await db.query<{ id: string }>('SELECT id FROM hosts ORDER BY id');
      await db.query('INSERT INTO telemetry_sweeps (id, hosts) VALUES ($1, $2)', [sweepId, rows.length]);
      return { sweepId, hosts: rows.map((r) => r.id) };
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
      await db.query('UPDATE telemetry_sweeps SET read_ok = read_ok + $2, read_failed = read_failed + $3, signals = signals + $4 WHERE id = $1', [
        input.sweepId,
        result.ok,
        result.failed,
        result.signals,
      ]);
      return result;
    },

    /** Close the sweep and prune samples past the retention. */
    async finishSweep(sweepId: string): Promise<{ pruned: number }> {
      const { rowCount } = await db.query(`DELETE FROM telemetry_samples WHERE at < now() - make_interval(days => $1)`, [settings.retentionDays]);
      await db.query('UPDATE telemetry_sweeps SET finished_at = now(), pruned = $2 WHERE id = $1', [sweepId, rowCount ?? 0]);
      return { pruned: rowCount ?? 0 };
    },

    /** Read one host now (POST /v1/hosts/{id}/refresh). */
    async refreshHost(host: string): Promise<HostReadResult> {
      const known = await endpoints([host]);
      if (!known.has(host)) throw ApplicationFailure.nonRetryable(`host ${host} is not in the inventory`, FailureType.UnknownHost);
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

async function writeSnapshot(
  tx: PoolClient,
  s: {
    sweepId: string;
    host: string;
    bmcOutcome: BmcOutcome;
    state: HostState | null;
    utilisation: HostUtilisation | null;
    providerError: string | null;
    assessment: Assessment;
    conditions: Conditions;
  },
): Promise<void> {
  const reading = s.bmcOutcome.status === 'read' ? s.bmcOutcome.reading : null;
  const seen = reading !== null || s.state !== null;
  await tx.query(
    `INSERT INTO host_snapshots (host, read_at, sweep_id, bmc_reachable, bmc_error, provider_error, bmc, state, utilisation, health, reasons, conditions)
     VALUES ($1, now(), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (host) DO UPDATE SET read_at = now(), sweep_id = $2, bmc_reachable = $3, bmc_error = $4, provider_error = $5,
       bmc = coalesce($6, host_snapshots.bmc), state = coalesce($7, host_snapshots.state), utilisation = coalesce($8, host_snapshots.utilisation),
       health = $9, reasons = $10, conditions = $11`,
    [
      s.host,
      s.sweepId,
      s.bmcOutcome.status === 'not-configured' ? null : s.bmcOutcome.status === 'read',
      s.bmcOutcome.status === 'failed' ? s.bmcOutcome.error : null,
      s.providerError,
      reading ? JSON.stringify(reading) : null,
      s.state ? JSON.stringify(s.state) : null,
      s.utilisation ? JSON.stringify(s.utilisation) : null,
      s.assessment.health,
      s.assessment.reasons,
      JSON.stringify(s.conditions),
    ],
  );
  await tx.query(
    `UPDATE hosts SET health = $2, health_reasons = $3, health_checked_at = now(), updated_at = now(),
            last_seen_at = CASE WHEN $4 THEN now() ELSE last_seen_at END WHERE id = $1`,
    [s.host, s.assessment.health, s.assessment.reasons, seen],
  );
  const metrics = Object.entries(metricsOf(s.bmcOutcome, s.utilisation));
  if (metrics.length) {
    await tx.query(
      `INSERT INTO telemetry_samples (host, metric, at, value)
       SELECT $1, m, now(), v FROM unnest($2::text[], $3::float8[]) AS t(m, v) ON CONFLICT DO NOTHING`,
      [s.host, metrics.map(([m]) => m), metrics.map(([, v]) => v)],
    );
  }
}

/**
 * A crossed threshold becomes a signal like an alert: recorded as `queued`,
 * and the API's redispatcher decides and delivers it (policy match, guards,
 * update-with-start), exactly as for an alert that arrived while Temporal was away.
 */
async function raiseSignal(tx: PoolClient, host: string, change: ConditionChange): Promise<void> {
  await tx.query(
    `INSERT INTO signals (id, source, name, resource_kind, resource_id, host, severity, status, fingerprint, labels, annotations,
                          starts_at, received_by, outcome, outcome_reason)
     VALUES ($1, $2, $3, 'host', $4, $4, $5, $6, $7, $8, $9, now(), 'telemetry-sweep', 'queued', 'raised by the telemetry sweep')`,
    [
      randomUUID(),
      TELEMETRY_SOURCE,
      change.name,
      host,
      change.severity,
      change.status,
      `telemetry:${host}:${change.name}`,
      JSON.stringify({ alertname: change.name, host, source: TELEMETRY_SOURCE, severity: change.severity }),
      JSON.stringify({ summary: change.reason }),
    ],
  );
}
