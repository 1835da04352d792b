/**
 * The inbox engine: takes recorded signals into inbox items and keeps each
 * open item's state derived and explained. It runs in the API process, one
 * replica at a time (a PostgreSQL advisory lock per tick), every second.
 *
 * Why beside the signal path and not inside it: grouping by rack needs one
 * consistent view of the open items, so doing it in each signal's insert would
 * serialise every webhook on one lock. Instead the signal is recorded as
 * before (an accepted signal is never lost, and ingestion is as fast as it
 * was), and each tick takes the decided signals in, oldest first, in batches:
 * grouping (domain/inbox-grouping.ts) and flap detection (domain/flapping.ts)
 * run in memory, and a batch is written in a few statements, with the states
 * it changed (domain/inbox.ts) and their history, in one transaction.
 *
 * Times in the inbox are the engine's clock: when it took an alert in (within
 * a second of its arrival) and when it saw a remediation change phase. The
 * month benchmark gives it a virtual clock and ticks it itself.
 *
 * Every open item is derived again every few seconds as well: the grace time
 * runs out, a snooze ends, a silence ends, a remediation moves on, a breaker
 * trips, a flap goes quiet. A person's action derives its item at once.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../config/logger';
import {
  appendHistory,
  laterRemediations,
  loadItems,
  loadOpenItems,
  markGrouped,
  moveAlerts,
  remediationFacts,
  saveAlerts,
  saveItems,
  trippedBreakers,
  tryInboxLock,
  ungroupedSignals,
  waitForInboxLock,
  type AlertRow,
  type HistoryLine,
  type ItemRow,
  type RemediationFacts,
  type UngroupedSignal,
} from '../db/inbox';
import { inTransaction, isDatabaseUnavailable, type Queryable } from '../db/pool';
import { endSilencesOnResolve, loadActiveSilences } from '../db/silences';
import { DEFAULT_FLAP_SETTINGS, flapState, type FlapSettings } from '../domain/flapping';
import type { GuardConfig } from '../domain/guards';
import {
  DEFAULT_INBOX_TIMINGS,
  inboxState,
  inboxTransition,
  type InboxFacts,
  type InboxTimings,
  type LinkedRemediation,
} from '../domain/inbox';
import {
  DEFAULT_GROUPING,
  groupSignal,
  inboxTitle,
  topologyOf,
  type GroupingSettings,
  type InboxAlertRef,
  type InboxSignal,
  type OpenInboxItem,
} from '../domain/inbox-grouping';
import { isFinal, type Phase } from '../domain/remediation';
import { activeSilence, silenceEnd, silencesEndedBy, type Silence } from '../domain/silences';
import type { Severity } from '../domain/types';
import { coversZone, windowOccurrence, type MaintenanceWindow } from '../domain/windows';

export interface InboxSettings {
  grouping: GroupingSettings;
  timings: InboxTimings;
  flap: FlapSettings;
  /** The inbox's clock (a virtual one in the month benchmark). */
  now: () => Date;
  /** Tick this often by itself; 0: only when `tick()` is called. */
  tickMs: number;
  /** Derive every open item again this often (by the inbox's clock). */
  evaluateEveryMs: number;
  /** Signals taken in per transaction. */
  batch: number;
  /** Take a signal in undecided after this long (Temporal away): the item shows its policy waiting. */
  undecidedSeconds: number;
}

export const DEFAULT_INBOX_SETTINGS: InboxSettings = {
  grouping: DEFAULT_GROUPING,
  timings: DEFAULT_INBOX_TIMINGS,
  flap: DEFAULT_FLAP_SETTINGS,
  now: () => new Date(),
  tickMs: 1000,
  evaluateEveryMs: 5000,
  batch: 2000,
  undecidedSeconds: 10,
};

export interface InboxEngineDeps {
  db: Pool;
  logger: Logger;
  /** The guards' maintenance windows with `silence: true` silence the hosts they cover. */
  guards: () => GuardConfig;
  settings?: Partial<InboxSettings>;
}

/** An item in memory during a tick. */
interface Held {
  row: ItemRow;
  alerts: Map<string, AlertRow>;
  /** Not yet in the table. */
  isNew: boolean;
  /** JSON of the row as loaded: changed rows are written. */
  loaded: string;
  dirtyAlerts: Set<string>;
}

/** Batches per tick, so one tick cannot hold the lock for long. */
const BATCHES_PER_TICK = 10;
const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
const ENGINE = 'inbox';

export class InboxEngine {
  readonly settings: InboxSettings;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private lastFullEvaluation = 0;
  /** Open maintenance windows' occurrences, by the window's definition. */
  private readonly occurrences = new Map<string, { start: Date; end: Date }>();

  constructor(private readonly deps: InboxEngineDeps) {
    this.settings = { ...DEFAULT_INBOX_SETTINGS, ...deps.settings };
  }

  /** Tick every `tickMs` until stopped (no timer when it is 0). */
  start(): void {
    if (this.settings.tickMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      void this.tick().catch((err: unknown) =>
        this.deps.logger.warn({ err: (err as Error).message }, 'inbox tick failed; the next one tries again'),
      );
    }, this.settings.tickMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.chain.catch(() => undefined);
  }

  /**
   * Take new signals in and derive what changed; every few seconds, derive
   * every open item again. Ticks of one process run one after the other; of
   * several replicas, one at a time (the others skip).
   */
  tick(): Promise<void> {
    const run = this.chain.catch(() => undefined).then(() => this.tickOnce());
    this.chain = run;
    return run;
  }

  private async tickOnce(): Promise<void> {
    for (let i = 0; i < BATCHES_PER_TICK; i++) {
      let taken: number;
      try {
        taken = await this.takeInBatch(this.settings.batch);
      } catch (err) {
        if (isDatabaseUnavailable(err)) throw err;
        if ((await this.isolate(err as Error)) > 0) continue; // then the rest of the batch, without it
        break;
      }
      if (taken < this.settings.batch) break;
    }
    const now = this.settings.now().getTime();
    if (now - this.lastFullEvaluation < this.settings.evaluateEveryMs) return;
    const done = await inTransaction(this.deps.db, async (tx) => {
      if (!(await tryInboxLock(tx))) return false;
      const { items, alerts } = await loadOpenItems(tx, null);
      await this.derive(tx, [...hold(items, alerts).values()], []);
      return true;
    });
    if (done) this.lastFullEvaluation = now;
  }

  /**
   * Derive these items now, inside the caller's transaction (a person's
   * action, so the answer shows the new state). Waits for a tick under way.
   */
  async evaluate(ids: string[], tx: Queryable): Promise<void> {
    await waitForInboxLock(tx);
    const { items, alerts } = await loadItems(tx, ids);
    await this.derive(tx, [...hold(items, alerts).values()], []);
  }

  /** One batch in its own transaction, under the inbox's lock (-1: another replica holds it). */
  private takeInBatch(limit: number): Promise<number> {
    return inTransaction(this.deps.db, async (tx) => ((await tryInboxLock(tx)) ? this.takeIn(tx, limit) : -1));
  }

  /**
   * A batch failed for another reason than the database being away: take the
   * oldest signal alone. If that fails too, it is the one at fault: it is set
   * aside (taken in, into no item) and logged with the reason, so that one
   * signal the inbox cannot take cannot stop it taking every later one.
   */
  private async isolate(cause: Error): Promise<number> {
    try {
      return await this.takeInBatch(1);
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
      const [bad] = await ungroupedSignals(this.deps.db, 1, this.settings.undecidedSeconds);
      if (!bad) return 0;
      await markGrouped(this.deps.db, [{ signalId: bad.id, itemId: null }], this.settings.now());
      this.deps.logger.error(
        {
          signal: bad.id,
          name: bad.name,
          resource: bad.resource,
          err: (err as Error).message,
          batchErr: cause.message,
        },
        'the inbox could not take this signal in; it is set aside in no item (the signal itself is kept)',
      );
      return 1;
    }
  }

  /** One batch of signals into items; how many signals it took. */
  private async takeIn(tx: PoolClient, limit: number): Promise<number> {
    const { grouping, flap } = this.settings;
    const signals = await ungroupedSignals(tx, limit, this.settings.undecidedSeconds);
    if (signals.length === 0) return 0;
    const now = this.settings.now();
    const { items, alerts } = await loadOpenItems(tx, new Date(now.getTime() - flap.quietMinutes * 60_000));
    const held = hold(items, alerts);
    const byFingerprint = new Map<string, Held>();
    const byAlert = new Map<string, Held>();
    const indexAlert = (h: Held, a: AlertRef) => {
      const newer = (other: Held | undefined) =>
        !other || other === h || other.row.mergedInto !== null || other.row.lastSeen <= h.row.lastSeen;
      if (newer(byFingerprint.get(a.fingerprint))) byFingerprint.set(a.fingerprint, h);
      if (newer(byAlert.get(`${a.resource}\u0000${a.name}`))) byAlert.set(`${a.resource}\u0000${a.name}`, h);
    };
    const index = (h: Held) => {
      for (const a of h.alerts.values()) indexAlert(h, a);
    };
    for (const h of held.values()) index(h);
    // What grouping sees of the open items, kept up to date signal by signal (not rebuilt for each).
    const openView = new Map([...held.values()].filter((h) => isOpen(h.row)).map((h) => [h.row.id, openItemOf(h)]));
    const history: HistoryLine[] = [];
    const placed: { signalId: string; itemId: string | null }[] = [];
    const folds: { from: string[]; to: string }[] = [];
    let silences: Silence[] | null = null;
    const ended = new Set<string>();

    for (const s of signals) {
      const signal = inboxSignalOf(s, now);
      // Repeats (a storm) and recurrences (a flap) join the item that has the alert, open or just resolved.
      let target =
        byFingerprint.get(signal.fingerprint) ?? byAlert.get(`${signal.resource}\u0000${signal.name}`) ?? null;
      // An item folded into a rack's item this batch hands its alerts on to it.
      while (target?.row.mergedInto) target = held.get(target.row.mergedInto) ?? null;
      let why = target ? `same alert ${signal.name} on ${signal.resource}` : '';
      if (!target) {
        const decision = groupSignal(signal, [...openView.values()], grouping);
        if (decision.action === 'none') {
          placed.push({ signalId: s.id, itemId: null });
          continue;
        }
        why = decision.reason;
        if (decision.action === 'new') {
          target = newItem(s, signal, decision.key, now);
          held.set(target.row.id, target);
          history.push(line(target, now, `opened: ${decision.reason}`));
        } else {
          target = held.get(decision.itemId)!;
          if (decision.action === 'merge') {
            const folded = decision.fold.map((id) => held.get(id)!);
            mergeInto(target, folded, decision.topology, decision.key, now);
            folds.push({ from: decision.fold, to: target.row.id });
            for (const f of folded) {
              history.push(line(f, now, `folded into ${target.row.id}: ${decision.reason}`));
              openView.delete(f.row.id);
            }
            index(target);
            openView.set(target.row.id, openItemOf(target));
            history.push(
              line(
                target,
                now,
                `became the item of ${decision.topology.label} ${decision.topology.value}: ${decision.reason}`,
              ),
            );
          }
        }
      }
      const isNewAlert = !target.alerts.has(signal.fingerprint);
      const reopened = target.row.closedAt !== null && s.status === 'firing';
      this.record(target, s, signal, now);
      if (isNewAlert && target.alerts.size > 1)
        history.push(line(target, now, `${signal.name} on ${signal.resource} joined: ${why}`));
      if (reopened) history.push(line(target, now, `${signal.name} on ${signal.resource} fires again: ${why}`));
      indexAlert(target, { fingerprint: signal.fingerprint, name: signal.name, resource: signal.resource });
      const view = openView.get(target.row.id);
      if (!view && isOpen(target.row)) openView.set(target.row.id, openItemOf(target));
      else if (view) {
        if (isNewAlert) view.alerts.push(alertRefOf(target.alerts.get(signal.fingerprint)!));
        view.lastSeen = now;
      }
      placed.push({ signalId: s.id, itemId: target.row.id });
      if (s.status === 'resolved') {
        silences ??= await loadActiveSilences(tx, now);
        for (const sil of silencesEndedBy(s.labels, now, silences)) ended.add(sil.id);
      }
    }
    await endSilencesOnResolve(tx, [...ended], now);
    // Signals placed in an item that a later signal of the batch folded away belong to the item it went into.
    const finalItem = (id: string | null) => {
      let h = id ? held.get(id) : undefined;
      while (h?.row.mergedInto) h = held.get(h.row.mergedInto);
      return h ? h.row.id : id;
    };
    const touched = [...held.values()].filter(
      (h) => h.isNew || JSON.stringify(h.row) !== h.loaded || h.dirtyAlerts.size > 0,
    );
    // Items first (a folded item's alerts move to an item that must exist), then the moves, then the alerts.
    await this.derive(tx, touched, history, folds);
    await markGrouped(
      tx,
      placed.map((p) => ({ signalId: p.signalId, itemId: finalItem(p.itemId) })),
      now,
    );
    return signals.length;
  }

  /** Record one signal in its item: the alert's status, its observations and flap verdict, the item's facts and links. */
  private record(h: Held, s: UngroupedSignal, signal: InboxSignal, now: Date): void {
    let alert = h.alerts.get(signal.fingerprint);
    if (!alert) {
      alert = {
        itemId: h.row.id,
        fingerprint: signal.fingerprint,
        name: signal.name,
        resource: signal.resource,
        host: s.host,
        source: s.source,
        severity: s.severity,
        labels: s.labels,
        topology: topologyOf(s.labels, this.settings.grouping),
        status: s.status,
        firstSeen: now,
        lastSeen: now,
        lastChange: now,
        resolvedAt: null,
        received: 0,
        observations: [],
        flapping: false,
        flappingSince: null,
        flapPercent: null,
      };
      h.alerts.set(signal.fingerprint, alert);
      h.row.lastChange = now;
    } else if (alert.status !== s.status) {
      alert.lastChange = now;
      h.row.lastChange = now;
    }
    alert.status = s.status;
    alert.lastSeen = now;
    alert.received += 1;
    alert.resolvedAt = s.status === 'resolved' ? (alert.resolvedAt ?? now) : null;
    alert.observations = [...alert.observations, { at: now, status: s.status }].slice(-this.settings.flap.observations);
    this.judgeFlap(alert, now);
    h.dirtyAlerts.add(signal.fingerprint);

    const row = h.row;
    row.lastSeen = now;
    row.alertsReceived += 1;
    if (SEVERITY_RANK[s.severity] < SEVERITY_RANK[row.severity]) row.severity = s.severity;
    if (s.status === 'firing' && row.closedAt) row.closedAt = null;
    // A rack's item holds several hosts' remediations: it follows the one started last, not every repeat's.
    if (s.remediationId && (!row.remediationId || s.outcome === 'started')) row.remediationId = s.remediationId;
    if (s.policyName) row.policyName = s.policyName;
  }

  /** Apply the flap verdict to an alert; true when it changed. */
  private judgeFlap(alert: AlertRow, now: Date): boolean {
    const verdict = flapState(alert.observations, alert.flapping, now, this.settings.flap);
    const changed = verdict.flapping !== alert.flapping;
    if (verdict.flapping && !alert.flapping) alert.flappingSince = now;
    if (!verdict.flapping) alert.flappingSince = null;
    alert.flapping = verdict.flapping;
    alert.flapPercent = verdict.percent;
    return changed;
  }

  /**
   * Derive the state of each item, write what changed with its history line,
   * and save the items and alerts (with `folds`, the alerts of merged items
   * move in between).
   */
  private async derive(
    tx: Queryable,
    items: Held[],
    history: HistoryLine[],
    folds: { from: string[]; to: string }[] = [],
  ): Promise<void> {
    if (items.length === 0 && history.length === 0) return;
    const now = this.settings.now();
    const missing = items.filter((h) => h.row.policyName && !h.row.remediationId).map((h) => h.row.id);
    for (const [item, remediation] of await laterRemediations(tx, missing))
      items.find((h) => h.row.id === item)!.row.remediationId = remediation;
    const remediations = await remediationFacts(
      tx,
      items.map((h) => h.row.remediationId).filter((id): id is string => id !== null),
    );
    const breakers = await trippedBreakers(tx);
    const silences = await loadActiveSilences(tx, now);
    const windows = this.windowSilences(now);
    for (const h of items) {
      if (h.row.mergedInto) continue;
      for (const alert of h.alerts.values())
        if (alert.flapping && this.judgeFlap(alert, now)) h.dirtyAlerts.add(alert.fingerprint);
      summarise(h);
      const facts = this.factsOf(h, remediations.get(h.row.remediationId ?? ''), breakers, silences, windows, now);
      const view = inboxState(facts, now, this.settings.timings);
      const previous = h.isNew ? null : { state: h.row.state, reason: h.row.stateReason, since: h.row.stateSince };
      const change = inboxTransition(previous, view);
      if (!change.entry) continue;
      history.push({ ...line(h, now, change.entry), fromState: previous?.state ?? null, toState: view.state });
      if (change.stateChanged) h.row.stateSince = !previous || view.since > previous.since ? view.since : now;
      h.row.state = view.state;
      h.row.stateReason = view.reason;
      h.row.resolvedHow = view.how ?? null;
      h.row.closedAt = view.state === 'resolved' ? (h.row.closedAt ?? now) : null;
      h.row.silenceId = facts.silence?.id ?? null;
    }
    const changed = items.filter((h) => h.isNew || JSON.stringify(h.row) !== h.loaded);
    await saveItems(
      tx,
      changed.map((h) => h.row),
    );
    for (const f of folds) await moveAlerts(tx, f.from, f.to);
    await saveAlerts(
      tx,
      items.flatMap((h) => [...h.dirtyAlerts].map((fp) => ({ ...h.alerts.get(fp)!, itemId: h.row.id }))),
    );
    await appendHistory(tx, history);
  }

  private factsOf(
    h: Held,
    remediation: RemediationFacts | undefined,
    breakers: Map<string, { zone: string; trippedAt: Date; reason: string }>,
    silences: Silence[],
    windows: WindowSilence[],
    now: Date,
  ): InboxFacts {
    const row = h.row;
    const linked = remediation ? this.linked(row, remediation, now) : null;
    const breaker = row.zone ? breakers.get(row.zone) : undefined;
    const silence = this.silenceOf(h, silences, windows, now);
    return {
      openedAt: firingSince(h) ?? row.firstSeen,
      firing: row.firing,
      resolvedAt: row.resolvedAt,
      lastChangeAt: row.lastChange,
      policy: row.policyName,
      remediation: linked,
      flapping: row.flappingSince ? { since: row.flappingSince, percent: row.flapPercent ?? 0 } : null,
      breaker: breaker && row.policyName && !(linked && isFinal(linked.phase)) ? breaker : null,
      acknowledged:
        row.acknowledgedBy && row.acknowledgedAt ? { by: row.acknowledgedBy, at: row.acknowledgedAt } : null,
      snooze:
        row.snoozeBy && row.snoozeAt
          ? { by: row.snoozeBy, at: row.snoozeAt, until: row.snoozeUntil, untilChange: row.snoozeUntilChange }
          : null,
      silence: silence
        ? {
            id: silence.id,
            createdBy: silence.createdBy,
            comment: silence.comment,
            startsAt: silence.startsAt,
            endsAt: silenceEnd(silence),
          }
        : null,
      resolvedByPerson:
        row.resolvedBy && row.resolvedByAt
          ? { by: row.resolvedBy, at: row.resolvedByAt, note: row.resolvedNote ?? '' }
          : null,
      reopened: row.reopenedBy && row.reopenedAt ? { by: row.reopenedBy, at: row.reopenedAt } : null,
    };
  }

  /** The item's remediation, with the times the inbox saw it change phase and start waiting. */
  private linked(row: ItemRow, r: RemediationFacts, now: Date): LinkedRemediation {
    if (row.remediationPhase !== r.phase || !row.remediationPhaseSince) {
      row.remediationPhase = r.phase;
      row.remediationPhaseSince = now;
    }
    const waiting = r.waitingFor.length > 0 && !isFinal(r.phase as Phase);
    row.remediationWaitingSince = waiting ? (row.remediationWaitingSince ?? now) : null;
    return {
      id: r.id,
      host: r.host,
      phase: r.phase as Phase,
      since: row.remediationPhaseSince,
      handOffReason: r.handOffReason,
      waitingSince: row.remediationWaitingSince,
      waitingFor: r.waitingFor,
    };
  }

  /**
   * The silence that keeps the item quiet: one that applies to every alert
   * still firing (to every alert, once none fires), or a maintenance window
   * open over the item's zone.
   */
  private silenceOf(h: Held, silences: Silence[], windows: WindowSilence[], now: Date): Silence | null {
    const zone = h.row.zone;
    const window = zone ? windows.find((w) => w.covers(zone)) : undefined;
    if (window) return window.silence;
    const alerts = [...h.alerts.values()];
    const relevant = alerts.some((a) => a.status === 'firing') ? alerts.filter((a) => a.status === 'firing') : alerts;
    let found: Silence | null = null;
    for (const a of relevant) {
      const s = activeSilence({ labels: a.labels, resolvedAt: a.resolvedAt }, silences, now);
      if (!s) return null;
      found ??= s;
    }
    return found;
  }

  /** The guards' maintenance windows that silence (`silence: true`) and are open now, as silences. */
  /**
   * The window's occurrence around `now`, remembered until it ends: finding
   * its edges steps through it minute by minute, and ticks come every second.
   */
  private occurrenceOf(w: MaintenanceWindow, now: Date): { start: Date; end: Date } | null {
    const key = JSON.stringify(w);
    const known = this.occurrences.get(key);
    if (known && known.start <= now && now < known.end) return known;
    const found = windowOccurrence(w, now);
    if (found) this.occurrences.set(key, found);
    else this.occurrences.delete(key);
    return found;
  }

  private windowSilences(now: Date): WindowSilence[] {
    const result: WindowSilence[] = [];
    for (const w of this.deps.guards().windows) {
      if (!w.silence) continue;
      const occurrence = this.occurrenceOf(w, now);
      if (!occurrence) continue;
      const silence: Silence = {
        id: `window:${w.name}`,
        matchers: [],
        startsAt: occurrence.start,
        endsAt: occurrence.end,
        createdBy: 'guards',
        comment: `maintenance window "${w.name}"${w.zones ? ` of ${w.zones.join(', ')}` : ''}`,
        endOnResolve: false,
        endedAt: null,
      };
      result.push({ silence, covers: (zone) => coversZone(w, zone) });
    }
    return result;
  }
}

/** An open maintenance window as a silence, and the zones it covers (it has no label matchers). */
interface WindowSilence {
  silence: Silence;
  covers(zone: string): boolean;
}

function hold(items: ItemRow[], alerts: AlertRow[]): Map<string, Held> {
  const byItem = new Map<string, AlertRow[]>();
  for (const a of alerts) {
    const list = byItem.get(a.itemId);
    if (list) list.push(a);
    else byItem.set(a.itemId, [a]);
  }
  const held = new Map<string, Held>();
  for (const row of items)
    held.set(row.id, {
      row,
      alerts: new Map((byItem.get(row.id) ?? []).map((a) => [a.fingerprint, a])),
      isNew: false,
      loaded: JSON.stringify(row),
      dirtyAlerts: new Set(),
    });
  return held;
}

function isOpen(row: ItemRow): boolean {
  return row.closedAt === null && row.mergedInto === null;
}

function inboxSignalOf(s: UngroupedSignal, now: Date): InboxSignal {
  const resource = s.host ?? (s.resource || 'unknown');
  return {
    source: s.source,
    name: s.name,
    resource,
    // An alert for no known host may come without a fingerprint: it is then told apart by what it is about.
    fingerprint: s.fingerprint || `${s.source}/${s.name}/${resource}`,
    labels: s.labels,
    severity: s.severity,
    status: s.status,
    receivedAt: now,
  };
}

function openItemOf(h: Held): OpenInboxItem {
  const { row } = h;
  return {
    id: row.id,
    kind: row.kind,
    key: row.key,
    topology: row.topologyLabel && row.topologyValue ? { label: row.topologyLabel, value: row.topologyValue } : null,
    alerts: [...h.alerts.values()].map(alertRefOf),
    firstSeen: row.firstSeen,
    lastSeen: row.lastSeen,
  };
}

function alertRefOf(a: AlertRow): InboxAlertRef {
  return { fingerprint: a.fingerprint, name: a.name, resource: a.resource, topology: a.topology };
}

/** What indexes an alert: its fingerprint, and its resource and name. */
type AlertRef = Pick<AlertRow, 'fingerprint' | 'name' | 'resource'>;

function titleFacts(h: Held) {
  const { row } = h;
  return {
    kind: row.kind,
    topology: row.topologyLabel && row.topologyValue ? { label: row.topologyLabel, value: row.topologyValue } : null,
    // Names in order of first appearance; alerts that came at the same instant by name, so the title is stable.
    alerts: [...h.alerts.values()].sort(
      (a, b) => a.firstSeen.getTime() - b.firstSeen.getTime() || a.name.localeCompare(b.name),
    ),
  };
}

/**
 * When the first of the item's alerts that fire now first came: the grace
 * time counts from here, not from the item's first alert, so an alert that
 * joined a rack's item late gets its own grace however old the item is (a
 * transient that came and went before does not shorten it). An alert that
 * fires again keeps its first time: one that keeps coming back does not get
 * a new grace each time.
 */
function firingSince(h: Held): Date | null {
  let since: Date | null = null;
  for (const a of h.alerts.values()) if (a.status === 'firing' && (!since || a.firstSeen < since)) since = a.firstSeen;
  return since;
}

/** The item's facts that follow from its alerts: its title, firing, when it resolved, flapping. */
function summarise(h: Held): void {
  const alerts = [...h.alerts.values()];
  const row = h.row;
  row.title = inboxTitle(titleFacts(h));
  row.firing = alerts.some((a) => a.status === 'firing');
  row.resolvedAt = row.firing
    ? null
    : alerts.reduce<Date | null>((at, a) => (a.resolvedAt && (!at || a.resolvedAt > at) ? a.resolvedAt : at), null);
  const flapping = alerts.filter((a) => a.flapping);
  row.flappingSince = flapping.length
    ? flapping.reduce(
        (at, a) => (a.flappingSince && a.flappingSince < at ? a.flappingSince : at),
        flapping[0]!.flappingSince ?? new Date(),
      )
    : null;
  row.flapPercent = flapping.length ? Math.max(...flapping.map((a) => a.flapPercent ?? 0)) : null;
  row.flappedAt ??= row.flappingSince;
}

function newItem(s: UngroupedSignal, signal: InboxSignal, key: string, now: Date): Held {
  const row: ItemRow = {
    id: randomUUID(),
    kind: 'resource',
    key,
    topologyLabel: null,
    topologyValue: null,
    title: `${signal.resource}: ${signal.name}`,
    source: s.source,
    name: s.name,
    host: s.host,
    zone: s.zone,
    role: s.roles?.[0] ?? null,
    severity: s.severity,
    firstSeen: now,
    lastSeen: now,
    lastChange: now,
    firing: true,
    resolvedAt: null,
    alertsReceived: 0,
    policyName: null,
    remediationId: null,
    remediationPhase: null,
    remediationPhaseSince: null,
    remediationWaitingSince: null,
    state: 'automation',
    stateReason: '',
    stateSince: now,
    resolvedHow: null,
    closedAt: null,
    mergedInto: null,
    flappingSince: null,
    flapPercent: null,
    flappedAt: null,
    silenceId: null,
    acknowledgedBy: null,
    acknowledgedAt: null,
    snoozeBy: null,
    snoozeAt: null,
    snoozeUntil: null,
    snoozeUntilChange: false,
    resolvedBy: null,
    resolvedByAt: null,
    resolvedNote: null,
    reopenedBy: null,
    reopenedAt: null,
    assignee: null,
    assignedBy: null,
    assignedAt: null,
  };
  return { row, alerts: new Map(), isNew: true, loaded: '', dirtyAlerts: new Set() };
}

/** Make `target` the item of a rack (or PDU, switch) and fold the other hosts' items into it. */
function mergeInto(
  target: Held,
  folded: Held[],
  topology: { label: string; value: string },
  key: string,
  now: Date,
): void {
  target.row.kind = 'topology';
  target.row.key = key;
  target.row.topologyLabel = topology.label;
  target.row.topologyValue = topology.value;
  for (const f of folded) {
    for (const [fp, alert] of f.alerts) {
      if (target.alerts.has(fp)) continue;
      target.alerts.set(fp, { ...alert, itemId: target.row.id });
      target.dirtyAlerts.add(fp);
    }
    f.dirtyAlerts.clear();
    f.row.mergedInto = target.row.id;
    f.row.closedAt = now;
    target.row.alertsReceived += f.row.alertsReceived;
    if (f.row.firstSeen < target.row.firstSeen) target.row.firstSeen = f.row.firstSeen;
    if (SEVERITY_RANK[f.row.severity] < SEVERITY_RANK[target.row.severity]) target.row.severity = f.row.severity;
    target.row.policyName ??= f.row.policyName;
    target.row.remediationId ??= f.row.remediationId;
  }
  target.row.title = inboxTitle(titleFacts(target));
}

function line(h: Held, at: Date, entry: string): HistoryLine {
  return { itemId: h.row.id, at, actor: ENGINE, fromState: null, toState: null, entry };
}
