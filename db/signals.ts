/**
 * The signals table: recording what arrives (one signal, or an Alertmanager
 * group of thousands in a few statements), claiming recorded signals for
 * delivery to Temporal so that no signal is delivered twice, storing what was
 * decided, and reading them back for simulate and drafts.
 *
 * The API writes signals (it receives them and decides what they do); the
 * worker writes only the signals its telemetry sweep raises (recordQueuedSignal).
 */
import type { Pool, PoolClient } from 'pg';
import { FINAL_PHASES } from '../domain/remediation';
import type { SignalOutcome, SignalRecord } from '../domain/types';
import { inTransaction, type Queryable } from './pool';

/**
 * A signal as it arrives. `host` is null when it concerns no host Shipshape knows;
 * `decided` is set when what it does is known without Temporal (that unknown host, no policy).
 */
export interface IncomingSignal extends Omit<SignalRecord, 'host'> {
  resourceId: string;
  host: string | null;
  annotations: Record<string, string>;
  decided: { outcome: 'ignored' | 'no-policy'; reason: string } | null;
}

/** What recording decided: `outcome` is null when the signal still has to be delivered. */
export interface RecordedSignal {
  id: string;
  outcome: SignalOutcome | null;
  reason: string | null;
  remediationId: string | null;
}

/** A recorded signal claimed for delivery, with where its host stands. */
export interface ClaimedSignal {
  signal: SignalRecord;
  zone: string;
  roles: string[];
}

/** Rows per INSERT: one statement per chunk keeps a group of 5,000 to a handful of round trips. */
const CHUNK = 1000;

/*
 * A repeat of an alert the host's open remediation already has is decided in the
 * INSERT itself (joined, or suppressed while a person has the host): in a storm or
 * when Alertmanager re-sends a whole group, that is most signals, and none of them
 * costs a call to Temporal.
 */
const INSERT_CHUNK = `
  WITH incoming AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(
      id uuid, source text, name text, resource_id text, host text, severity text, status text, fingerprint text,
      labels jsonb, annotations jsonb, starts_at timestamptz, received_by text, decided_outcome text, decided_reason text)
  ), placed AS (
    SELECT v.*, open.id AS open_id, open.phase AS open_phase, open.policy_name AS open_policy
      FROM incoming v
      LEFT JOIN LATERAL (
        SELECT r.id, r.phase, r.policy_name FROM remediations r
         WHERE v.status = 'firing' AND r.host = v.host AND r.closed_at IS NULL
           AND EXISTS (SELECT 1 FROM signals s WHERE s.remediation_id = r.id AND s.fingerprint = v.fingerprint
                       AND s.outcome IN ('started','joined','suppressed'))
         LIMIT 1) open ON true
  )
  INSERT INTO signals (id, source, name, resource_kind, resource_id, host, severity, status, fingerprint, labels, annotations,
                       starts_at, received_by, outcome, outcome_reason, remediation_id, policy_name, dispatched_at)
  SELECT id, source, name, 'host', resource_id, host, severity, status, fingerprint, labels, annotations, starts_at, received_by,
         CASE WHEN decided_outcome IS NOT NULL THEN decided_outcome
              WHEN open_id IS NULL THEN NULL
              WHEN open_phase = 'awaiting-operator' THEN 'suppressed' ELSE 'joined' END,
         CASE WHEN decided_outcome IS NOT NULL THEN decided_reason
              WHEN open_id IS NULL THEN NULL
              WHEN open_phase = 'awaiting-operator' THEN 'recorded; ' || host || ' is with an operator, automation does not act'
              ELSE 'repeat of an alert the running remediation has' END,
         CASE WHEN decided_outcome IS NULL THEN open_id END, CASE WHEN decided_outcome IS NULL THEN open_policy END,
         CASE WHEN decided_outcome IS NOT NULL OR open_id IS NOT NULL THEN now() END
    FROM placed
  RETURNING id, outcome, outcome_reason AS reason, remediation_id AS "remediationId"`;

function asRow(s: IncomingSignal) {
  return {
    id: s.id,
    source: s.source,
    name: s.name,
    resource_id: s.resourceId,
    host: s.host,
    severity: s.severity,
    status: s.status,
    fingerprint: s.fingerprint,
    labels: s.labels,
    annotations: s.annotations,
    starts_at: s.startsAt,
    received_by: s.receivedBy,
    decided_outcome: s.decided?.outcome ?? null,
    decided_reason: s.decided?.reason ?? null,
  };
}

async function insertChunk(db: Queryable, signals: readonly IncomingSignal[]): Promise<RecordedSignal[]> {
  const { rows } = await db.query<RecordedSignal>(INSERT_CHUNK, [JSON.stringify(signals.map(asRow))]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return signals.map((s) => byId.get(s.id)!);
}

/**
 * Record every signal durably, all or none, and say which are decided already.
 * Results are in the order given.
 */
export async function recordSignals(db: Pool, signals: readonly IncomingSignal[]): Promise<RecordedSignal[]> {
  if (signals.length <= CHUNK) return insertChunk(db, signals); // one statement is atomic by itself
  return inTransaction(db, async (tx) => {
    const recorded: RecordedSignal[] = [];
    for (let i = 0; i < signals.length; i += CHUNK)
      recorded.push(...(await insertChunk(tx, signals.slice(i, i + CHUNK))));
    return recorded;
  });
}

/** Which recorded signals to claim: these (just recorded), or any left behind (queued, or undecided for 30 s). */
export type Undelivered = { ids: readonly string[] } | 'left-behind';

/**
 * Lock up to `limit` undelivered signals of known hosts for the caller's transaction.
 * SKIP LOCKED: a signal another claimer holds (this API's or another replica's) is
 * not delivered twice.
 */
export async function claimUndelivered(tx: PoolClient, which: Undelivered, limit: number): Promise<ClaimedSignal[]> {
  const [where, args] =
    which === 'left-behind'
      ? [`s.outcome = 'queued' OR (s.outcome IS NULL AND s.received_at < now() - interval '30 seconds')`, [limit]]
      : [`s.id = ANY($2::uuid[]) AND s.outcome IS NULL`, [limit, which.ids]];
  const { rows } = await tx.query(
    `SELECT s.id, s.source, s.name, s.host, s.severity, s.status, s.fingerprint, s.labels, s.starts_at, s.received_by, h.zone, h.roles
       FROM signals s JOIN hosts h ON h.id = s.host
      WHERE ${where}
      ORDER BY s.received_at LIMIT $1 FOR UPDATE OF s SKIP LOCKED`,
    args,
  );
  return rows.map((row) => ({
    signal: {
      id: row.id,
      source: row.source,
      name: row.name,
      host: row.host,
      severity: row.severity,
      status: row.status,
      fingerprint: row.fingerprint,
      labels: row.labels,
      startsAt: row.starts_at?.toISOString?.() ?? '',
      receivedBy: row.received_by,
    },
    zone: row.zone,
    roles: row.roles,
  }));
}

/** What was decided for a signal, as it is stored. */
export interface SignalDecision {
  outcome: SignalOutcome;
  reason: string;
  remediationId: string | null;
  policyName: string | null;
}

/**
 * Store what was decided for a recorded signal, inside the claim's transaction
 * when it was claimed. `queued` leaves it undelivered, for the redispatcher.
 */
export async function recordSignalDecision(db: Queryable, signalId: string, d: SignalDecision): Promise<void> {
  await db.query(
    `UPDATE signals SET outcome = $2, outcome_reason = $3, remediation_id = $4, policy_name = $5,
            dispatched_at = CASE WHEN $2 = 'queued' THEN NULL ELSE now() END WHERE id = $1`,
    [signalId, d.outcome, d.reason, d.remediationId, d.policyName],
  );
}

/** A signal Shipshape raises itself about one of its hosts (a crossed telemetry threshold). */
export interface RaisedSignal {
  id: string;
  source: string;
  name: string;
  host: string;
  severity: SignalRecord['severity'];
  status: SignalRecord['status'];
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  receivedBy: string;
  /** Why it is queued, as the signal's outcome reason. */
  reason: string;
}

/**
 * Record a raised signal as `queued`: the API's redispatcher decides and
 * delivers it like any alert that arrived while Temporal was away.
 *
 * The worker writes signals here (the telemetry sweep), the API everywhere
 * else: a sweep's signal is recorded in the transaction of the reading that
 * raised it, so a reading is never kept without its signal or the reverse.
 */
export async function recordQueuedSignal(db: Queryable, s: RaisedSignal): Promise<void> {
  await db.query(
    `INSERT INTO signals (id, source, name, resource_kind, resource_id, host, severity, status, fingerprint, labels, annotations,
                          starts_at, received_by, outcome, outcome_reason)
     VALUES ($1, $2, $3, 'host', $4, $4, $5, $6, $7, $8, $9, now(), $10, 'queued', $11)`,
    [
      s.id,
      s.source,
      s.name,
      s.host,
      s.severity,
      s.status,
      s.fingerprint,
      JSON.stringify(s.labels),
      JSON.stringify(s.annotations),
      s.receivedBy,
      s.reason,
    ],
  );
}

/** A recorded signal as policy simulate replays it. */
export interface ReplayedSignal {
  signalId: string;
  name: string;
  host: string;
  labels: Record<string, string>;
  severity: SignalRecord['severity'];
  status: SignalRecord['status'];
}

/** The signals received in the last `days` days, oldest first (at most 50,000), for simulate. */
export async function signalsReceivedSince(db: Queryable, days: number): Promise<ReplayedSignal[]> {
  const { rows } = await db.query<ReplayedSignal>(
    `SELECT id AS "signalId", name, coalesce(host, resource_id) AS host, labels, severity, status FROM signals
      WHERE received_at > now() - make_interval(secs => $1::float8 * 86400) ORDER BY received_at LIMIT 50000`,
    [days],
  );
  return rows;
}

/** The names of the alerts a remediation received, each once, in order. */
export async function alertNamesOfRemediation(db: Queryable, remediationId: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    'SELECT DISTINCT name FROM signals WHERE remediation_id = $1 ORDER BY name',
    [remediationId],
  );
  return rows.map((r) => r.name);
}

/** How many signals are recorded (the storm benchmark's check that none was lost). */
export async function countSignals(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM signals');
  return rows[0]!.n;
}

/**
 * Delete signals received more than `retentionDays` ago, in batches of
 * `batch`: only those already dispatched, and only when no open remediation
 * points at them (its alert list stays whole while it runs). Returns how many
 * went. Runs with the telemetry sweep's bookkeeping.
 */
export async function pruneSignals(db: Queryable, retentionDays: number, batch = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM signals WHERE id IN (
         SELECT s.id FROM signals s LEFT JOIN remediations r ON r.id = s.remediation_id
          WHERE s.received_at < now() - make_interval(days => $1)
            AND s.outcome IS NOT NULL AND s.outcome <> 'queued'
            AND (r.id IS NULL OR r.phase = ANY($3::text[]))
          LIMIT $2)`,
      [retentionDays, batch, FINAL_PHASES],
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batch) return total;
  }
}

/** A signal Shipshape raises about something that is not a host (a tenant resource whose reclaim failed). */
export interface ResourceSignal {
  id: string;
  source: string;
  name: string;
  resourceKind: string;
  resourceId: string;
  severity: SignalRecord['severity'];
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  receivedBy: string;
  /** Why no automation takes it: the alert inbox shows it to a person. */
  reason: string;
}

/**
 * Record a firing signal about a non-host resource, decided at once as
 * `no-policy`: no remediation is for it, the alert inbox takes it in and a
 * person sees it after the grace time.
 */
export async function recordResourceSignal(db: Queryable, s: ResourceSignal): Promise<void> {
  await db.query(
    `INSERT INTO signals (id, source, name, resource_kind, resource_id, host, severity, status, fingerprint, labels, annotations,
                          starts_at, received_by, outcome, outcome_reason, dispatched_at)
     VALUES ($1, $2, $3, $4, $5, NULL, $6, 'firing', $7, $8, $9, now(), $10, 'no-policy', $11, now())`,
    [
      s.id,
      s.source,
      s.name,
      s.resourceKind,
      s.resourceId,
      s.severity,
      s.fingerprint,
      JSON.stringify(s.labels),
      JSON.stringify(s.annotations),
      s.receivedBy,
      s.reason,
    ],
  );
}
