/**
 * What the telemetry sweep keeps: each host's latest snapshot (BMC and
 * provider reading, utilisation, the thresholds crossed), the time series of
 * samples, and one row per sweep.
 *
 * Written only by the worker (the sweep and a read on demand); the API reads
 * snapshots through db/hosts.ts and series and sweeps here.
 */
import type { Pool } from 'pg';
import type { Assessment, BmcOutcome, Conditions, HostUtilisation, Metric } from '../domain/telemetry';
import type { HostState } from '../domain/types';
import { Filters } from './filters';
import { recordHostHealth } from './hosts';
import { inTransaction, type Queryable } from './pool';
import { recordQueuedSignal, type RaisedSignal } from './signals';

/** One reading of a host, from its BMC and the provider, assessed. */
export interface HostReading {
  sweepId: string;
  host: string;
  bmcOutcome: BmcOutcome;
  state: HostState | null;
  utilisation: HostUtilisation | null;
  providerError: string | null;
  assessment: Assessment;
  metrics: Partial<Record<Metric, number>>;
}

/** What a reading changes beyond itself: the conditions to keep, and the signals to raise. */
export interface ReadingConsequences {
  conditions: Conditions;
  signals: RaisedSignal[];
}

/**
 * Record a reading, all or none: the snapshot, the host's health, the samples,
 * and the signals it raises. `decide` is given the conditions of the previous
 * reading, locked until the end so that two readings of one host (a sweep and
 * a refresh) never both raise the same signal.
 */
export async function recordHostReading<C extends ReadingConsequences>(
  db: Pool,
  r: HostReading,
  decide: (previous: Conditions) => C,
): Promise<C> {
  return inTransaction(db, async (tx) => {
    const { rows: prev } = await tx.query<{ conditions: Conditions }>(
      'SELECT conditions FROM host_snapshots WHERE host = $1 FOR UPDATE',
      [r.host],
    );
    const consequences = decide(prev[0]?.conditions ?? {});
    await writeSnapshot(tx, r, consequences.conditions);
    for (const signal of consequences.signals) await recordQueuedSignal(tx, signal);
    return consequences;
  });
}

async function writeSnapshot(tx: Queryable, r: HostReading, conditions: Conditions): Promise<void> {
  const reading = r.bmcOutcome.status === 'read' ? r.bmcOutcome.reading : null;
  const seen = reading !== null || r.state !== null;
  await tx.query(
    `INSERT INTO host_snapshots (host, read_at, sweep_id, bmc_reachable, bmc_error, provider_error, bmc, state, utilisation, health, reasons, conditions)
     VALUES ($1, now(), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (host) DO UPDATE SET read_at = now(), sweep_id = $2, bmc_reachable = $3, bmc_error = $4, provider_error = $5,
       bmc = coalesce($6, host_snapshots.bmc), state = coalesce($7, host_snapshots.state), utilisation = coalesce($8, host_snapshots.utilisation),
       health = $9, reasons = $10, conditions = $11`,
    [
      r.host,
      r.sweepId,
      r.bmcOutcome.status === 'not-configured' ? null : r.bmcOutcome.status === 'read',
      r.bmcOutcome.status === 'failed' ? r.bmcOutcome.error : null,
      r.providerError,
      reading ? JSON.stringify(reading) : null,
      r.state ? JSON.stringify(r.state) : null,
      r.utilisation ? JSON.stringify(r.utilisation) : null,
      r.assessment.health,
      r.assessment.reasons,
      JSON.stringify(conditions),
    ],
  );
  await recordHostHealth(tx, r.host, r.assessment, seen);
  const metrics = Object.entries(r.metrics);
  if (metrics.length) {
    await tx.query(
      `INSERT INTO telemetry_samples (host, metric, at, value)
       SELECT $1, m, now(), v FROM unnest($2::text[], $3::float8[]) AS t(m, v) ON CONFLICT DO NOTHING`,
      [r.host, metrics.map(([m]) => m), metrics.map(([, v]) => v)],
    );
  }
}

/** The host's correctable-error count at the start of the window, if its series reaches back that far. */
export async function correctableErrorsAtWindowStart(
  db: Queryable,
  host: string,
  windowMinutes: number,
): Promise<number | null> {
  const { rows } = await db.query<{ value: number }>(
    `SELECT value FROM telemetry_samples
      WHERE host = $1 AND metric = 'correctable_errors' AND at >= now() - make_interval(mins => $2)
      ORDER BY at LIMIT 1`,
    [host, windowMinutes],
  );
  return rows[0]?.value ?? null;
}

export interface SeriesQuery {
  host: string;
  metric?: Metric;
  since: Date;
  until: Date;
  /** The newest `limit` samples are kept. */
  limit: number;
}

/** A host's samples in the window, oldest first: the newest `limit` of them. */
export async function telemetrySeries(
  db: Queryable,
  q: SeriesQuery,
): Promise<{ metric: string; at: Date; value: number }[]> {
  const where = new Filters()
    .add('host = ?', q.host)
    .add('metric = ?', q.metric)
    .add('at >= ?', q.since)
    .add('at <= ?', q.until);
  const { rows } = await db.query<{ metric: string; at: Date; value: number }>(
    `SELECT metric, at, value FROM (SELECT metric, at, value FROM telemetry_samples ${where} ORDER BY at DESC LIMIT ${where.param(q.limit)}) t ORDER BY at`,
    where.args,
  );
  return rows;
}

/** Open a sweep over `hosts` hosts. */
export async function openSweep(db: Queryable, sweepId: string, hosts: number): Promise<void> {
  await db.query('INSERT INTO telemetry_sweeps (id, hosts) VALUES ($1, $2)', [sweepId, hosts]);
}

/** Add one batch's counts to its sweep. */
export async function countSweepBatch(
  db: Queryable,
  sweepId: string,
  batch: { ok: number; failed: number; signals: number },
): Promise<void> {
  await db.query(
    'UPDATE telemetry_sweeps SET read_ok = read_ok + $2, read_failed = read_failed + $3, signals = signals + $4 WHERE id = $1',
    [sweepId, batch.ok, batch.failed, batch.signals],
  );
}

/** Prune samples older than the retention, then close the sweep with how many went; returns that number. */
export async function closeSweepAndPrune(db: Queryable, sweepId: string, retentionDays: number): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM telemetry_samples WHERE at < now() - make_interval(days => $1)`, [
    retentionDays,
  ]);
  await db.query('UPDATE telemetry_sweeps SET finished_at = now(), pruned = $2 WHERE id = $1', [
    sweepId,
    rowCount ?? 0,
  ]);
  return rowCount ?? 0;
}

export interface SweepRecord {
  id: string;
  startedAt: Date;
  finishedAt: Date | null;
  hosts: number;
  readOk: number;
  readFailed: number;
  signals: number;
}

const SWEEP_COLUMNS = `id, started_at AS "startedAt", finished_at AS "finishedAt", hosts, read_ok AS "readOk", read_failed AS "readFailed", signals`;

/** The sweep started last, finished or not. */
export async function lastSweep(db: Queryable): Promise<SweepRecord | null> {
  const { rows } = await db.query<SweepRecord>(
    `SELECT ${SWEEP_COLUMNS} FROM telemetry_sweeps ORDER BY started_at DESC LIMIT 1`,
  );
  return rows[0] ?? null;
}

/** The sweep finished last. */
export async function lastFinishedSweep(db: Queryable): Promise<SweepRecord | null> {
  const { rows } = await db.query<SweepRecord>(
    `SELECT ${SWEEP_COLUMNS} FROM telemetry_sweeps WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1`,
  );
  return rows[0] ?? null;
}

/** How much the telemetry keeps: samples, and the bytes of the two tables with their indexes (the sweep benchmark). */
export async function telemetryFootprint(
  db: Queryable,
): Promise<{ samples: number; sampleBytes: number; snapshotBytes: number }> {
  const { rows } = await db.query<{ samples: number; sampleBytes: string; snapshotBytes: string }>(
    `SELECT (SELECT count(*)::int FROM telemetry_samples) AS samples,
            pg_total_relation_size('telemetry_samples')::bigint AS "sampleBytes",
            pg_total_relation_size('host_snapshots')::bigint AS "snapshotBytes"`,
  );
  const r = rows[0]!;
  return { samples: r.samples, sampleBytes: Number(r.sampleBytes), snapshotBytes: Number(r.snapshotBytes) };
}
