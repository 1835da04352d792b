/**
 * What a person reads of the inbox: the list (by default what needs a person,
 * in the order domain/inbox.ts compareForPerson gives), the counts per state
 * ("automation is handling 37"), one item's page, and the noise report's
 * input. Reads only; db/inbox.ts (the engine) and db/inbox-actions.ts write.
 */
import { INBOX_STATES, type InboxState, type ResolvedHow } from '../domain/inbox';
import { closedBy, type NoiseItem } from '../domain/inbox-noise';
import type { Severity } from '../domain/types';
import { Filters } from './filters';
import { reviveItem, SELECT_ITEM, type ItemRow } from './inbox';
import type { Queryable } from './pool';

/** The item as a person reads it. */
export interface InboxItemView {
  id: string;
  kind: 'resource' | 'topology';
  title: string;
  state: InboxState;
  stateReason: string;
  stateSince: Date;
  resolvedHow: ResolvedHow | null;
  source: string;
  name: string;
  host: string | null;
  zone: string | null;
  role: string | null;
  severity: Severity;
  topology: { label: string; value: string } | null;
  firstSeen: Date;
  lastSeen: Date;
  lastChange: Date;
  firing: boolean;
  resolvedAt: Date | null;
  alertsReceived: number;
  policy: string | null;
  remediationId: string | null;
  remediationPhase: string | null;
  flapping: { since: Date; percent: number | null } | null;
  silenceId: string | null;
  acknowledged: { by: string; at: Date } | null;
  assignee: { to: string; by: string | null; at: Date | null } | null;
  snooze: { by: string | null; at: Date | null; until: Date | null; untilChange: boolean } | null;
  resolution: { by: string; at: Date | null; note: string | null } | null;
  reopened: { by: string; at: Date | null } | null;
  closedAt: Date | null;
  /** The item this one was folded into (a topology item); it is no longer shown. */
  mergedInto: string | null;
}

export function asItemView(r: ItemRow): InboxItemView {
  const snoozed = r.snoozeUntil !== null || r.snoozeUntilChange;
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    state: r.state,
    stateReason: r.stateReason,
    stateSince: r.stateSince,
    resolvedHow: r.resolvedHow,
    source: r.source,
    name: r.name,
    host: r.host,
    zone: r.zone,
    role: r.role,
    severity: r.severity,
    topology: r.topologyLabel && r.topologyValue !== null ? { label: r.topologyLabel, value: r.topologyValue } : null,
    firstSeen: r.firstSeen,
    lastSeen: r.lastSeen,
    lastChange: r.lastChange,
    firing: r.firing,
    resolvedAt: r.resolvedAt,
    alertsReceived: r.alertsReceived,
    policy: r.policyName,
    remediationId: r.remediationId,
    remediationPhase: r.remediationPhase,
    flapping: r.flappingSince ? { since: r.flappingSince, percent: r.flapPercent } : null,
    silenceId: r.silenceId,
    acknowledged: r.acknowledgedBy ? { by: r.acknowledgedBy, at: r.acknowledgedAt! } : null,
    assignee: r.assignee ? { to: r.assignee, by: r.assignedBy, at: r.assignedAt } : null,
    snooze: snoozed ? { by: r.snoozeBy, at: r.snoozeAt, until: r.snoozeUntil, untilChange: r.snoozeUntilChange } : null,
    resolution: r.resolvedBy ? { by: r.resolvedBy, at: r.resolvedByAt, note: r.resolvedNote } : null,
    reopened: r.reopenedBy ? { by: r.reopenedBy, at: r.reopenedAt } : null,
    closedAt: r.closedAt,
    mergedInto: r.mergedInto,
  };
}

/** The sort keys of compareForPerson in SQL: state rank, severity rank, last_seen (newest first, to the microsecond), id. */
const STATE_RANK = `array_position(ARRAY[${INBOX_STATES.map((s) => `'${s}'`).join(',')}]::text[], i.state)`;
const SEVERITY_RANK = `array_position(ARRAY['critical','warning','info']::text[], i.severity)`;
const LAST_SEEN_US = `(extract(epoch FROM i.last_seen) * 1000000)::bigint`;

/** Where the previous page ended: the last item's sort keys (see {@link encodeCursor}). */
export interface InboxCursor {
  stateRank: number;
  severityRank: number;
  lastSeenUs: string;
  id: string;
}

/** An opaque `next` a client passes back as `after`. */
export function encodeCursor(c: InboxCursor): string {
  return Buffer.from(JSON.stringify([c.stateRank, c.severityRank, c.lastSeenUs, c.id])).toString('base64url');
}

/** The cursor in `after`, or null when it is not one this API gave out. */
export function decodeCursor(text: string): InboxCursor | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 4) return null;
    const [stateRank, severityRank, lastSeenUs, id] = v as unknown[];
    if (!Number.isInteger(stateRank) || !Number.isInteger(severityRank)) return null;
    if (typeof lastSeenUs !== 'string' || !/^-?\d{1,20}$/.test(lastSeenUs)) return null;
    if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id)) return null;
    return { stateRank: stateRank as number, severityRank: severityRank as number, lastSeenUs, id };
  } catch {
    return null;
  }
}

export interface InboxListFilter {
  /** These states; `all` for every one (resolved included). Default: needs-person. */
  states?: InboxState[] | 'all';
  severities?: Severity[];
  host?: string;
  zone?: string;
  source?: string;
  /** Alert name of the item's first alert. */
  name?: string;
  assignee?: string;
  /** A substring of the title, any case. */
  q?: string;
  /** Seen (its last alert) at or after this time. */
  since?: Date;
  after?: InboxCursor;
  limit: number;
}

/** Every filter but state and paging: what the counts per state are counted over too. */
function filtersOf(f: InboxListFilter): Filters {
  return new Filters()
    .when(true, 'i.merged_into IS NULL')
    .add('i.severity = ANY(?::text[])', f.severities?.length ? f.severities : undefined)
    .add('i.host = ?', f.host)
    .add('i.zone = ?', f.zone)
    .add('i.source = ?', f.source)
    .add('i.name = ?', f.name)
    .add('i.assignee = ?', f.assignee)
    .add(`i.title ILIKE '%' || ? || '%'`, f.q === undefined ? undefined : f.q.replace(/[\\%_]/g, '\\$&'))
    .add('i.last_seen >= ?', f.since);
}

export interface InboxPage {
  items: InboxItemView[];
  /** Pass as `after` for the next page; null on the last. */
  next: string | null;
  /** Items per state over the same filters (state aside); merged items are not counted. */
  counts: Record<InboxState, number>;
}

/** A page of items in the order a person reads them, and the counts per state. */
export async function listInboxItems(db: Queryable, f: InboxListFilter): Promise<InboxPage> {
  const states = f.states === 'all' ? undefined : (f.states ?? ['needs-person']);
  const where = filtersOf(f).add('i.state = ANY(?::text[])', states);
  const a = f.after;
  if (a) {
    const [sr, vr, ls, id] = [
      where.param(a.stateRank),
      where.param(a.severityRank),
      where.param(a.lastSeenUs),
      where.param(a.id),
    ];
    where.when(
      true,
      `(${STATE_RANK} > ${sr} OR (${STATE_RANK} = ${sr} AND (${SEVERITY_RANK} > ${vr} OR (${SEVERITY_RANK} = ${vr} AND
        (${LAST_SEEN_US} < ${ls}::bigint OR (${LAST_SEEN_US} = ${ls}::bigint AND i.id > ${id}::uuid))))))`,
    );
  }
  // One more than asked says whether there is a next page.
  const { rows } = await db.query<ItemRow & { state_rank: number; severity_rank: number; last_seen_us: string }>(
    `SELECT ${SELECT_ITEM}, ${STATE_RANK} AS state_rank, ${SEVERITY_RANK} AS severity_rank, ${LAST_SEEN_US}::text AS last_seen_us
       FROM inbox_items i ${where}
      ORDER BY state_rank, severity_rank, ${LAST_SEEN_US} DESC, i.id LIMIT ${where.param(f.limit + 1)}`,
    where.args,
  );
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  const next =
    rows.length > f.limit && last
      ? encodeCursor({
          stateRank: last.state_rank,
          severityRank: last.severity_rank,
          lastSeenUs: last.last_seen_us,
          id: last.id,
        })
      : null;
  return { items: page.map((r) => asItemView(reviveItem(r))), next, counts: await countByState(db, filtersOf(f)) };
}

async function countByState(db: Queryable, where: Filters): Promise<Record<InboxState, number>> {
  const { rows } = await db.query<{ state: InboxState; n: number }>(
    `SELECT i.state, count(*)::int AS n FROM inbox_items i ${where} GROUP BY i.state`,
    where.args,
  );
  const counts = Object.fromEntries(INBOX_STATES.map((s) => [s, 0])) as Record<InboxState, number>;
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}

/** One item by id (merged or not), or null. */
export async function findInboxItem(db: Queryable, id: string): Promise<InboxItemView | null> {
  const { rows } = await db.query<ItemRow>(`SELECT ${SELECT_ITEM} FROM inbox_items i WHERE i.id = $1`, [id]);
  return rows[0] ? asItemView(reviveItem(rows[0])) : null;
}

export interface InboxAlertView {
  fingerprint: string;
  name: string;
  resource: string;
  host: string | null;
  source: string;
  severity: string;
  labels: Record<string, string>;
  topology: Record<string, string>;
  status: 'firing' | 'resolved';
  firstSeen: Date;
  lastSeen: Date;
  lastChange: Date;
  resolvedAt: Date | null;
  received: number;
  flapping: boolean;
  flappingSince: Date | null;
  flapPercent: number | null;
}

export interface InboxSignalView {
  id: string;
  receivedAt: Date;
  source: string;
  name: string;
  host: string | null;
  severity: string;
  status: string;
  fingerprint: string;
  outcome: string | null;
  outcomeReason: string | null;
  remediationId: string | null;
  policy: string | null;
}

export interface InboxHistoryView {
  seq: number;
  at: Date;
  actor: string;
  fromState: string | null;
  toState: string | null;
  entry: string;
}

export interface InboxDeliveryView {
  receiver: string;
  kind: string;
  state: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface InboxHostView {
  id: string;
  zone: string;
  roles: string[];
  poolState: string;
  health: string;
  healthReasons: string[];
}

/** The remediation that owns (or owned) the item, as its page shows it. */
export interface InboxRemediationView {
  id: string;
  host: string;
  phase: string;
  policy: string;
  startedAt: Date;
  closedAt: Date | null;
  handOff: { reason: string; since: string } | null;
  pendingApproval: { requestedAt: string; deadline: string } | null;
  waitingFor: Array<{ guard: string; reason: string }> | null;
}

/** Everything on an item's page. */
export interface InboxItemPage {
  item: InboxItemView;
  alerts: InboxAlertView[];
  /** The latest signals of the item, newest first. */
  signals: InboxSignalView[];
  host: InboxHostView | null;
  remediation: InboxRemediationView | null;
  history: InboxHistoryView[];
  deliveries: InboxDeliveryView[];
}

/** How many of its signals an item's page shows. */
export const ITEM_PAGE_SIGNALS = 100;

/** An item's page, or null when there is no such item. */
export async function inboxItemPage(db: Queryable, id: string): Promise<InboxItemPage | null> {
  const item = await findInboxItem(db, id);
  if (!item) return null;
  const [alerts, signals, history, deliveries, host, remediation] = await Promise.all([
    db.query<InboxAlertView>(
      `SELECT fingerprint, name, resource, host, source, severity, labels, topology, status, first_seen AS "firstSeen",
              last_seen AS "lastSeen", last_change AS "lastChange", resolved_at AS "resolvedAt", received, flapping,
              flapping_since AS "flappingSince", flap_percent AS "flapPercent"
         FROM inbox_alerts WHERE item_id = $1 ORDER BY first_seen, fingerprint`,
      [id],
    ),
    db.query<InboxSignalView>(
      `SELECT id, received_at AS "receivedAt", source, name, host, severity, status, fingerprint, outcome,
              outcome_reason AS "outcomeReason", remediation_id AS "remediationId", policy_name AS policy
         FROM signals WHERE inbox_item_id = $1 ORDER BY received_at DESC, id LIMIT ${ITEM_PAGE_SIGNALS}`,
      [id],
    ),
    db.query<InboxHistoryView>(
      `SELECT seq::int, at, actor, from_state AS "fromState", to_state AS "toState", entry
         FROM inbox_history WHERE item_id = $1 ORDER BY seq`,
      [id],
    ),
    db.query<InboxDeliveryView>(
      `SELECT receiver, kind, state, status, attempts, last_error AS "lastError", created_at AS "createdAt",
              finished_at AS "finishedAt"
         FROM inbox_deliveries WHERE item_id = $1 ORDER BY created_at, id`,
      [id],
    ),
    item.host ? hostOf(db, item.host) : Promise.resolve(null),
    item.remediationId ? remediationOf(db, item.remediationId) : Promise.resolve(null),
  ]);
  return {
    item,
    alerts: alerts.rows,
    signals: signals.rows,
    host,
    remediation,
    history: history.rows,
    deliveries: deliveries.rows,
  };
}

async function hostOf(db: Queryable, id: string): Promise<InboxHostView | null> {
  const { rows } = await db.query<InboxHostView>(
    `SELECT id, zone, roles, pool_state AS "poolState", health, health_reasons AS "healthReasons" FROM hosts WHERE id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

async function remediationOf(db: Queryable, id: string): Promise<InboxRemediationView | null> {
  type Row = Omit<InboxRemediationView, 'handOff' | 'pendingApproval' | 'waitingFor'> & {
    view: Partial<Pick<InboxRemediationView, 'handOff' | 'pendingApproval' | 'waitingFor'>>;
  };
  const { rows } = await db.query<Row>(
    `SELECT id, host, phase, policy_name AS policy, started_at AS "startedAt", closed_at AS "closedAt", view
       FROM remediations WHERE id = $1`,
    [id],
  );
  const r = rows[0];
  if (!r) return null;
  const { view, ...rest } = r;
  return {
    ...rest,
    handOff: view.handOff ?? null,
    pendingApproval: view.pendingApproval ?? null,
    waitingFor: view.waitingFor?.map((w) => ({ guard: w.guard, reason: w.reason })) ?? null,
  };
}

/**
 * The noise report's input: the items first seen at or after `since` (merged
 * ones left out: their alerts count in the item they were folded into). An
 * item counts as flapping when it or one of its alerts is marked flapping, or
 * its history says it was (the marks are cleared after a quiet period).
 */
export async function noiseItemsSince(db: Queryable, since: Date): Promise<NoiseItem[]> {
  const { rows } = await db.query<{
    name: string;
    source: string;
    state: InboxState;
    how: ResolvedHow | null;
    flapping: boolean;
  }>(
    `SELECT i.name, i.source, i.state, i.resolved_how AS how,
            i.flapped_at IS NOT NULL AS flapping
       FROM inbox_items i WHERE i.first_seen >= $1 AND i.merged_into IS NULL`,
    [since],
  );
  return rows.map((r) => ({
    name: r.name,
    source: r.source,
    flapping: r.flapping,
    closedBy: closedBy({ state: r.state, how: r.how ?? undefined, reason: '', since }),
  }));
}

/** How many open items each of these silences keeps quiet now. */
export async function itemsSilencedBy(db: Queryable, silenceIds: string[]): Promise<Map<string, number>> {
  if (silenceIds.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; n: number }>(
    `SELECT silence_id AS id, count(*)::int AS n FROM inbox_items
      WHERE silence_id = ANY($1::text[]) AND state = 'silenced' AND closed_at IS NULL AND merged_into IS NULL
      GROUP BY silence_id`,
    [silenceIds],
  );
  return new Map(rows.map((r) => [r.id, r.n]));
}
