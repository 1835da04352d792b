/**
 * The inbox's tables as the engine (api/inbox-engine.ts) reads and writes
 * them: signals not yet taken in, open items with their alerts, and the bulk
 * writes of one tick. The API's reads for people are in db/inbox-views.ts.
 *
 * The engine keeps a tick's items in memory and writes what changed in a few
 * statements, so a storm of repeated alerts costs the inbox a handful of
 * statements per batch, not several per alert.
 */
import type { FlapObservation } from '../domain/flapping';
import type { InboxItemKind } from '../domain/inbox-grouping';
import type { InboxState, ResolvedHow } from '../domain/inbox';
import type { Severity, SignalOutcome, SignalStatus } from '../domain/types';
import type { Queryable } from './pool';

/** A recorded signal the inbox has not taken in yet. */
export interface UngroupedSignal {
  id: string;
  source: string;
  name: string;
  resource: string;
  host: string | null;
  zone: string | null;
  roles: string[] | null;
  severity: Severity;
  status: SignalStatus;
  fingerprint: string;
  labels: Record<string, string>;
  outcome: SignalOutcome | null;
  remediationId: string | null;
  policyName: string | null;
}

/**
 * Signals to take in, oldest first. A signal is taken in once it is decided
 * (its policy and remediation are known then), or after `undecidedSeconds`
 * without a decision (Temporal away: the item shows the policy waiting).
 */
export async function ungroupedSignals(
  db: Queryable,
  limit: number,
  undecidedSeconds: number,
): Promise<UngroupedSignal[]> {
  const { rows } = await db.query<UngroupedSignal>(
    `SELECT s.id, s.source, s.name, s.resource_id AS resource, s.host, h.zone, h.roles, s.severity, s.status,
            s.fingerprint, s.labels, s.outcome, s.remediation_id AS "remediationId", s.policy_name AS "policyName"
       FROM signals s LEFT JOIN hosts h ON h.id = s.host
      WHERE s.inbox_grouped_at IS NULL
        AND ((s.outcome IS NOT NULL AND s.outcome <> 'queued')
             OR s.received_at < now() - make_interval(secs => $2::float8))
      ORDER BY s.received_at, s.id LIMIT $1`,
    [limit, undecidedSeconds],
  );
  return rows;
}

/** An item as the engine holds it. */
export interface ItemRow {
  id: string;
  kind: InboxItemKind;
  key: string;
  topologyLabel: string | null;
  topologyValue: string | null;
  title: string;
  source: string;
  name: string;
  host: string | null;
  zone: string | null;
  role: string | null;
  severity: Severity;
  firstSeen: Date;
  lastSeen: Date;
  lastChange: Date;
  firing: boolean;
  resolvedAt: Date | null;
  alertsReceived: number;
  policyName: string | null;
  remediationId: string | null;
  remediationPhase: string | null;
  remediationPhaseSince: Date | null;
  remediationWaitingSince: Date | null;
  state: InboxState;
  stateReason: string;
  stateSince: Date;
  resolvedHow: ResolvedHow | null;
  closedAt: Date | null;
  mergedInto: string | null;
  flappingSince: Date | null;
  flapPercent: number | null;
  /** When it first flapped (kept after the flapping stops). */
  flappedAt: Date | null;
  silenceId: string | null;
  acknowledgedBy: string | null;
  acknowledgedAt: Date | null;
  snoozeBy: string | null;
  snoozeAt: Date | null;
  snoozeUntil: Date | null;
  snoozeUntilChange: boolean;
  resolvedBy: string | null;
  resolvedByAt: Date | null;
  resolvedNote: string | null;
  reopenedBy: string | null;
  reopenedAt: Date | null;
  assignee: string | null;
  assignedBy: string | null;
  assignedAt: Date | null;
}

/** An alert of an item as the engine holds it. */
export interface AlertRow {
  itemId: string;
  fingerprint: string;
  name: string;
  resource: string;
  host: string | null;
  source: string;
  severity: Severity;
  labels: Record<string, string>;
  topology: Record<string, string>;
  status: SignalStatus;
  firstSeen: Date;
  lastSeen: Date;
  lastChange: Date;
  resolvedAt: Date | null;
  received: number;
  observations: FlapObservation[];
  flapping: boolean;
  flappingSince: Date | null;
  flapPercent: number | null;
}

const ITEM_COLUMNS: [keyof ItemRow, string][] = [
  ['id', 'id'],
  ['kind', 'kind'],
  ['key', 'key'],
  ['topologyLabel', 'topology_label'],
  ['topologyValue', 'topology_value'],
  ['title', 'title'],
  ['source', 'source'],
  ['name', 'name'],
  ['host', 'host'],
  ['zone', 'zone'],
  ['role', 'role'],
  ['severity', 'severity'],
  ['firstSeen', 'first_seen'],
  ['lastSeen', 'last_seen'],
  ['lastChange', 'last_change'],
  ['firing', 'firing'],
  ['resolvedAt', 'resolved_at'],
  ['alertsReceived', 'alerts_received'],
  ['policyName', 'policy_name'],
  ['remediationId', 'remediation_id'],
  ['remediationPhase', 'remediation_phase'],
  ['remediationPhaseSince', 'remediation_phase_since'],
  ['remediationWaitingSince', 'remediation_waiting_since'],
  ['state', 'state'],
  ['stateReason', 'state_reason'],
  ['stateSince', 'state_since'],
  ['resolvedHow', 'resolved_how'],
  ['closedAt', 'closed_at'],
  ['mergedInto', 'merged_into'],
  ['flappingSince', 'flapping_since'],
  ['flapPercent', 'flap_percent'],
  ['flappedAt', 'flapped_at'],
  ['silenceId', 'silence_id'],
  ['acknowledgedBy', 'acknowledged_by'],
  ['acknowledgedAt', 'acknowledged_at'],
  ['snoozeBy', 'snooze_by'],
  ['snoozeAt', 'snooze_at'],
  ['snoozeUntil', 'snooze_until'],
  ['snoozeUntilChange', 'snooze_until_change'],
  ['resolvedBy', 'resolved_by'],
  ['resolvedByAt', 'resolved_by_at'],
  ['resolvedNote', 'resolved_note'],
  ['reopenedBy', 'reopened_by'],
  ['reopenedAt', 'reopened_at'],
  ['assignee', 'assignee'],
  ['assignedBy', 'assigned_by'],
  ['assignedAt', 'assigned_at'],
];
/** The columns the engine owns: a person's columns (acknowledged_by, snooze_*, …) are written only by db/inbox-actions.ts. */
const ENGINE_COLUMNS = ITEM_COLUMNS.slice(
  0,
  ITEM_COLUMNS.findIndex(([field]) => field === 'acknowledgedBy'),
);
/** Every column of an item as an {@link ItemRow} (revive it with {@link reviveItem}); `i` is the table's alias in the query. */
export const SELECT_ITEM = ITEM_COLUMNS.map(([field, column]) => `i.${column} AS "${field}"`).join(', ');

const ALERT_COLUMNS: [keyof AlertRow, string][] = [
  ['itemId', 'item_id'],
  ['fingerprint', 'fingerprint'],
  ['name', 'name'],
  ['resource', 'resource'],
  ['host', 'host'],
  ['source', 'source'],
  ['severity', 'severity'],
  ['labels', 'labels'],
  ['topology', 'topology'],
  ['status', 'status'],
  ['firstSeen', 'first_seen'],
  ['lastSeen', 'last_seen'],
  ['lastChange', 'last_change'],
  ['resolvedAt', 'resolved_at'],
  ['received', 'received'],
  ['observations', 'observations'],
  ['flapping', 'flapping'],
  ['flappingSince', 'flapping_since'],
  ['flapPercent', 'flap_percent'],
];
const SELECT_ALERT = ALERT_COLUMNS.map(([field, column]) => `a.${column} AS "${field}"`).join(', ');

const SQL_TYPES: Record<string, string> = {
  first_seen: 'timestamptz',
  last_seen: 'timestamptz',
  last_change: 'timestamptz',
  resolved_at: 'timestamptz',
  remediation_phase_since: 'timestamptz',
  remediation_waiting_since: 'timestamptz',
  state_since: 'timestamptz',
  closed_at: 'timestamptz',
  flapping_since: 'timestamptz',
  flapped_at: 'timestamptz',
  firing: 'boolean',
  flapping: 'boolean',
  alerts_received: 'integer',
  received: 'integer',
  flap_percent: 'real',
  id: 'uuid',
  item_id: 'uuid',
  merged_into: 'uuid',
  labels: 'jsonb',
  topology: 'jsonb',
  observations: 'jsonb',
};
const typed = (column: string) => `${column} ${SQL_TYPES[column] ?? 'text'}`;

/** An item row as node-postgres gives it, with its numbers as numbers. */
export function reviveItem<T extends ItemRow>(row: T): T {
  return { ...row, flapPercent: row.flapPercent === null ? null : Number(row.flapPercent) };
}

function reviveAlert(row: AlertRow): AlertRow {
  return {
    ...row,
    flapPercent: row.flapPercent === null ? null : Number(row.flapPercent),
    observations: row.observations.map((o) => ({ at: new Date(o.at), status: o.status })),
  };
}

/**
 * Open items (and, with `reopenableSince`, items that resolved by themselves
 * or by verification since then: a flapping or recurring alert joins the
 * item it had rather than open another), with their alerts.
 */
export async function loadOpenItems(
  db: Queryable,
  reopenableSince: Date | null,
): Promise<{ items: ItemRow[]; alerts: AlertRow[] }> {
  const { rows: items } = await db.query<ItemRow>(
    `SELECT ${SELECT_ITEM} FROM inbox_items i
      WHERE i.merged_into IS NULL
        AND (i.closed_at IS NULL OR ($1::timestamptz IS NOT NULL AND i.closed_at >= $1 AND i.resolved_how IN ('source','verified')))`,
    [reopenableSince],
  );
  if (items.length === 0) return { items: [], alerts: [] };
  const { rows: alerts } = await db.query<AlertRow>(
    `SELECT ${SELECT_ALERT} FROM inbox_alerts a WHERE a.item_id = ANY($1::uuid[])`,
    [items.map((i) => i.id)],
  );
  return { items: items.map(reviveItem), alerts: alerts.map(reviveAlert) };
}

/** These items (any state) with their alerts. */
export async function loadItems(db: Queryable, ids: string[]): Promise<{ items: ItemRow[]; alerts: AlertRow[] }> {
  if (ids.length === 0) return { items: [], alerts: [] };
  const { rows: items } = await db.query<ItemRow>(
    `SELECT ${SELECT_ITEM} FROM inbox_items i WHERE i.id = ANY($1::uuid[])`,
    [ids],
  );
  const { rows: alerts } = await db.query<AlertRow>(
    `SELECT ${SELECT_ALERT} FROM inbox_alerts a WHERE a.item_id = ANY($1::uuid[])`,
    [ids],
  );
  return { items: items.map(reviveItem), alerts: alerts.map(reviveAlert) };
}

function toJson(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

/** Insert or update items: the engine's columns only (a person's columns are left as they are). */
export async function saveItems(db: Queryable, items: ItemRow[]): Promise<void> {
  if (items.length === 0) return;
  const columns = ENGINE_COLUMNS.map(([, c]) => c);
  const records = items.map((item) => Object.fromEntries(ENGINE_COLUMNS.map(([f, c]) => [c, toJson(item[f])])));
  await db.query(
    `INSERT INTO inbox_items (${columns.join(', ')})
     SELECT ${columns.join(', ')} FROM json_to_recordset($1::json) AS r(${columns.map(typed).join(', ')})
     ON CONFLICT (id) DO UPDATE SET ${columns
       .filter((c) => c !== 'id')
       .map((c) => `${c} = excluded.${c}`)
       .join(', ')}`,
    [JSON.stringify(records)],
  );
}

/** Insert or update alerts. */
export async function saveAlerts(db: Queryable, alerts: AlertRow[]): Promise<void> {
  if (alerts.length === 0) return;
  const columns = ALERT_COLUMNS.map(([, c]) => c);
  const records = alerts.map((a) =>
    Object.fromEntries(
      ALERT_COLUMNS.map(([f, c]) => [
        c,
        f === 'observations' ? a.observations.map((o) => ({ at: o.at.toISOString(), status: o.status })) : toJson(a[f]),
      ]),
    ),
  );
  await db.query(
    `INSERT INTO inbox_alerts (${columns.join(', ')})
     SELECT ${columns.join(', ')} FROM json_to_recordset($1::json) AS r(${columns.map(typed).join(', ')})
     ON CONFLICT (item_id, fingerprint) DO UPDATE SET ${columns
       .filter((c) => c !== 'item_id' && c !== 'fingerprint')
       .map((c) => `${c} = excluded.${c}`)
       .join(', ')}`,
    [JSON.stringify(records)],
  );
}

/** Move the alerts of folded items to the item they were merged into (an alert both hold stays with the target). */
export async function moveAlerts(db: Queryable, from: string[], to: string): Promise<void> {
  if (from.length === 0) return;
  await db.query(
    `DELETE FROM inbox_alerts a WHERE a.item_id = ANY($1::uuid[])
        AND EXISTS (SELECT 1 FROM inbox_alerts b WHERE b.item_id = $2 AND b.fingerprint = a.fingerprint)`,
    [from, to],
  );
  await db.query('UPDATE inbox_alerts SET item_id = $2 WHERE item_id = ANY($1::uuid[])', [from, to]);
  await db.query('UPDATE signals SET inbox_item_id = $2 WHERE inbox_item_id = ANY($1::uuid[])', [from, to]);
}

/** Record which item each signal went to (null: none, a resolved alert nothing held). */
export async function markGrouped(
  db: Queryable,
  placed: { signalId: string; itemId: string | null }[],
  at: Date,
): Promise<void> {
  if (placed.length === 0) return;
  await db.query(
    `UPDATE signals s SET inbox_item_id = p.item, inbox_grouped_at = $2
       FROM unnest($1::uuid[], $3::uuid[]) AS p(id, item) WHERE s.id = p.id`,
    [placed.map((p) => p.signalId), at, placed.map((p) => p.itemId)],
  );
}

/** One line of an item's history. */
export interface HistoryLine {
  itemId: string;
  at: Date;
  actor: string;
  fromState: InboxState | null;
  toState: InboxState | null;
  entry: string;
}

export async function appendHistory(db: Queryable, lines: HistoryLine[]): Promise<void> {
  if (lines.length === 0) return;
  await db.query(
    `INSERT INTO inbox_history (item_id, at, actor, from_state, to_state, entry)
     SELECT item_id, at, actor, from_state, to_state, entry
       FROM ROWS FROM (json_to_recordset($1::json)
              AS (item_id uuid, at timestamptz, actor text, from_state text, to_state text, entry text))
            WITH ORDINALITY AS r(item_id, at, actor, from_state, to_state, entry, n)
      ORDER BY n`,
    [
      JSON.stringify(
        lines.map((l) => ({
          item_id: l.itemId,
          at: l.at.toISOString(),
          actor: l.actor,
          from_state: l.fromState,
          to_state: l.toState,
          entry: l.entry,
        })),
      ),
    ],
  );
}

/** What the engine needs of a remediation. */
export interface RemediationFacts {
  id: string;
  host: string;
  phase: string;
  handOffReason: string | null;
  waitingFor: string[];
  pendingApproval: boolean;
}

export async function remediationFacts(db: Queryable, ids: string[]): Promise<Map<string, RemediationFacts>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; host: string; phase: string; view: Record<string, unknown> }>(
    'SELECT id, host, phase, view FROM remediations WHERE id = ANY($1)',
    [ids],
  );
  return new Map(
    rows.map((r) => {
      const view = r.view as {
        handOff?: { reason: string } | null;
        waitingFor?: { guard: string }[] | null;
        pendingApproval?: unknown;
      };
      return [
        r.id,
        {
          id: r.id,
          host: r.host,
          phase: r.phase,
          handOffReason: view.handOff?.reason ?? null,
          waitingFor: (view.waitingFor ?? []).map((b) => b.guard),
          pendingApproval: Boolean(view.pendingApproval),
        },
      ];
    }),
  );
}

/**
 * For items whose policy matched but which have no remediation yet: the
 * remediation one of their signals went to since (a signal queued while
 * Temporal was away, delivered later).
 */
export async function laterRemediations(db: Queryable, itemIds: string[]): Promise<Map<string, string>> {
  if (itemIds.length === 0) return new Map();
  const { rows } = await db.query<{ item: string; remediation: string }>(
    `SELECT DISTINCT ON (inbox_item_id) inbox_item_id AS item, remediation_id AS remediation
       FROM signals WHERE inbox_item_id = ANY($1::uuid[]) AND remediation_id IS NOT NULL
      ORDER BY inbox_item_id, received_at DESC`,
    [itemIds],
  );
  return new Map(rows.map((r) => [r.item, r.remediation]));
}

/** The zones whose circuit breaker is tripped. */
export async function trippedBreakers(
  db: Queryable,
): Promise<Map<string, { zone: string; trippedAt: Date; reason: string }>> {
  const { rows } = await db.query<{ zone: string; trippedAt: Date; reason: string }>(
    'SELECT zone, tripped_at AS "trippedAt", reason FROM guard_breakers WHERE reset_at IS NULL',
  );
  return new Map(rows.map((r) => [r.zone, r]));
}

/** Is this alert flapping in an open item? Then a firing repeat must not start a remediation. */
export async function flappingItemOf(
  db: Queryable,
  fingerprint: string,
): Promise<{ itemId: string; percent: number } | null> {
  const { rows } = await db.query<{ itemId: string; percent: number }>(
    `SELECT a.item_id AS "itemId", a.flap_percent AS percent FROM inbox_alerts a JOIN inbox_items i ON i.id = a.item_id
      WHERE a.fingerprint = $1 AND a.flapping AND i.closed_at IS NULL AND i.merged_into IS NULL LIMIT 1`,
    [fingerprint],
  );
  return rows[0] ? { itemId: rows[0].itemId, percent: Number(rows[0].percent) } : null;
}

/** Hold the inbox's single-writer lock for this transaction, if no other API replica holds it. */
export async function tryInboxLock(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [INBOX_LOCK]);
  return rows[0]!.locked;
}

/** Wait for the inbox's lock for this transaction (a person's action derives its item after the tick under way). */
export async function waitForInboxLock(db: Queryable): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock($1)', [INBOX_LOCK]);
}

/** The advisory lock key of the inbox engine ("inbx" in ASCII): one replica groups and derives at a time. */
export const INBOX_LOCK = 0x696e6278;

/**
 * Delete items resolved more than `retentionDays` ago that no signal belongs
 * to any more (signals are pruned first, with the same retention). Their
 * alerts, history and deliveries go with them.
 */
export async function pruneInbox(db: Queryable, retentionDays: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM inbox_items i WHERE i.closed_at < now() - make_interval(days => $1)
        AND NOT EXISTS (SELECT 1 FROM signals s WHERE s.inbox_item_id = i.id)
        AND NOT EXISTS (SELECT 1 FROM inbox_items m WHERE m.merged_into = i.id AND m.closed_at >= now() - make_interval(days => $1))`,
    [retentionDays],
  );
  return rowCount ?? 0;
}

/** Every item's title and state, newest first (the demo prints their changes). */
export async function itemStates(
  db: Queryable,
  limit = 200,
): Promise<{ id: string; title: string; state: InboxState; reason: string }[]> {
  const { rows } = await db.query<{ id: string; title: string; state: InboxState; reason: string }>(
    `SELECT id, title, state, state_reason AS reason FROM inbox_items WHERE merged_into IS NULL
      ORDER BY last_seen DESC LIMIT $1`,
    [limit],
  );
  return rows;
}
