/**
 * What the inbox month benchmark (bench/inbox-month.ts) reads while it
 * replays and when it reports: read-only, outside the application's paths.
 */
import type { Queryable } from './pool';

/** Remediations at work now: not ended, and not waiting on a person (a hand-off or an approval). */
export async function remediationsAtWork(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM remediations
      WHERE closed_at IS NULL AND phase NOT IN ('awaiting-operator', 'awaiting-approval')`,
  );
  return rows[0]?.n ?? 0;
}

/** Signals the dispatcher has not decided yet (their remediation not started or joined). */
export async function undecidedSignals(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM signals WHERE inbox_grouped_at IS NULL AND (outcome IS NULL OR outcome = 'queued')`,
  );
  return rows[0]?.n ?? 0;
}

/** Signals not yet taken into the inbox. */
export async function signalsNotInInbox(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM signals WHERE inbox_grouped_at IS NULL',
  );
  return rows[0]?.n ?? 0;
}

/** The host's open remediation and its phase. */
export async function openRemediationPhase(db: Queryable, host: string): Promise<{ id: string; phase: string } | null> {
  const { rows } = await db.query<{ id: string; phase: string }>(
    'SELECT id, phase FROM remediations WHERE host = $1 AND closed_at IS NULL',
    [host],
  );
  return rows[0] ?? null;
}

export interface BenchItem {
  id: string;
  kind: string;
  source: string;
  name: string;
  host: string | null;
  firstSeen: Date;
  state: string;
  resolvedHow: string | null;
  remediationId: string | null;
  mergedInto: string | null;
  /** Was it ever marked flapping (flapped_at)? */
  flapped: boolean;
}

/** A history line that set the item's state (a change of state, or of its reason only: then from = to). */
export interface BenchTransition {
  itemId: string;
  at: Date;
  fromState: string | null;
  toState: string;
}

export interface BenchAlert {
  itemId: string;
  fingerprint: string;
  name: string;
  host: string | null;
  firstSeen: Date;
}

/** Every item, every state transition and every alert of the inbox: the benchmark's report is computed from them. */
export async function inboxRecord(
  db: Queryable,
): Promise<{ items: BenchItem[]; transitions: BenchTransition[]; alerts: BenchAlert[] }> {
  const items = await db.query<BenchItem>(
    `SELECT i.id, i.kind, i.source, i.name, i.host, i.first_seen AS "firstSeen", i.state,
            i.resolved_how AS "resolvedHow", i.remediation_id AS "remediationId", i.merged_into AS "mergedInto",
            i.flapped_at IS NOT NULL AS flapped
       FROM inbox_items i ORDER BY i.first_seen, i.id`,
  );
  const transitions = await db.query<BenchTransition>(
    `SELECT item_id AS "itemId", at, from_state AS "fromState", to_state AS "toState" FROM inbox_history
      WHERE to_state IS NOT NULL ORDER BY seq`,
  );
  const alerts = await db.query<BenchAlert>(
    `SELECT item_id AS "itemId", fingerprint, name, host, first_seen AS "firstSeen" FROM inbox_alerts`,
  );
  return { items: items.rows, transitions: transitions.rows, alerts: alerts.rows };
}

/** Notifications the inbox notifier recorded, by status and by kind (opened, changed, reminder, escalated, resolved). */
export async function deliveryCounts(
  db: Queryable,
): Promise<{ sent: number; failed: number; pending: number; sentByKind: Record<string, number> }> {
  const { rows } = await db.query<{ status: string; kind: string; n: number }>(
    'SELECT status, kind, count(*)::int AS n FROM inbox_deliveries GROUP BY status, kind',
  );
  const of = (status: string) => rows.filter((r) => r.status === status).reduce((n, r) => n + r.n, 0);
  const sentByKind: Record<string, number> = {};
  for (const r of rows) if (r.status === 'sent') sentByKind[r.kind] = r.n;
  return { sent: of('sent'), failed: of('failed'), pending: of('pending'), sentByKind };
}

/** Remediations started so far. */
export async function remediationsStarted(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM remediations');
  return rows[0]?.n ?? 0;
}

/** The newest line of any item's history: when it moves, an item changed. */
export async function lastInboxHistoryLine(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ seq: string | null }>('SELECT max(seq)::text AS seq FROM inbox_history');
  return rows[0]?.seq ?? '0';
}
