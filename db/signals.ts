/**
 * The signals table: recording what arrives (one signal, or an Alertmanager
 * group of thousands in a few statements) and claiming recorded signals for
 * delivery to Temporal, so that no signal is delivered twice.
 */
import type { Pool, PoolClient } from 'pg';
import type { SignalOutcome, SignalRecord } from '../domain/types';
import { inTransaction } from './pool';

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
    id: s.id, source: s.source, name: s.name, resource_id: s.resourceId, host: s.host, severity: s.severity, status: s.status,
    fingerprint: s.fingerprint, labels: s.labels, annotations: s.annotations, starts_at: s.startsAt, received_by: s.receivedBy,
    decided_outcome: s.decided?.outcome ?? null, decided_reason: s.decided?.reason ?? null,
  };
}

async function insertChunk(db: Pick<Pool, 'query'>, signals: readonly IncomingSignal[]): Promise<RecordedSignal[]> {
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
    for (let i = 0; i < signals.length; i += CHUNK) recorded.push(...(await insertChunk(tx, signals.slice(i, i + CHUNK))));
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
      id: row.id, source: row.source, name: row.name, host: row.host, severity: row.severity, status: row.status,
      fingerprint: row.fingerprint, labels: row.labels, startsAt: row.starts_at?.toISOString?.() ?? '', receivedBy: row.received_by,
    },
    zone: row.zone,
    roles: row.roles,
  }));
}
