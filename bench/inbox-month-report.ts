/**
 * The inbox month benchmark's figures, computed from what the inbox recorded
 * (items, their state transitions, their alerts) and the generator's list of
 * real incidents. Pure.
 *
 * Definitions:
 * - raw alerts: alerts in Alertmanager's notifications, repeats included.
 * - items created: every inbox item, items later folded into a rack's item
 *   included.
 * - shown to a person: an item with a transition into `needs-person` at any
 *   time (folded items count for themselves). The share is shown / raw alerts.
 * - an item's family: the item, the item it was folded into (and so on), and
 *   the items folded into those: one piece of work as a person sees it.
 * - a real incident is caught when an item holding one of its alerts — an
 *   alert on the incident's first alert's host with that alert's name, first
 *   seen by the inbox from the incident's first alert until its last — has a
 *   family that was shown to a person or handled by automation (a member had a
 *   remediation linked). Otherwise it is missed. Its time to catch is from its
 *   first alert to the earliest such transition (into `needs-person`, or the
 *   first state of a member with a remediation).
 * - time to owner, for every shown item: from its first alert to its first
 *   state owned by someone (automation, needs-person, acknowledged, snoozed);
 *   time to a person: to its first transition into `needs-person`.
 * Times are the inbox's (virtual) clock.
 */
import { noiseReport, type ClosedBy, type NoiseReport } from '../domain/inbox-noise';
import type { BenchAlert, BenchItem, BenchTransition } from '../db/inbox-benchmark';
import type { Incident, InboxMonth } from './inbox-month-generator';

const OWNED = new Set(['automation', 'needs-person', 'acknowledged', 'snoozed']);
const MINUTE = 60_000;

export interface IncidentOutcome {
  id: string;
  kind: Incident['kind'];
  expect: Incident['expect'];
  caught: boolean;
  /** How: shown to a person, handled by automation, both. */
  by: 'person' | 'automation' | 'both' | null;
  /** Minutes from its first alert to being caught. */
  minutesToCatch: number | null;
  /** Minutes from its first alert to needs-person; null when no person was shown it. */
  minutesToPerson: number | null;
}

export interface MonthFigures {
  rawAlerts: number;
  itemsCreated: number;
  itemsFolded: number;
  itemsShown: number;
  shownShare: number;
  incidents: IncidentOutcome[];
  missed: IncidentOutcome[];
  /** State changes of shown items from their first needs-person on: at most one notification each. */
  shownStateChanges: number;
  /** Per shown item: minutes to an owner (automation or a person), and to a person. */
  minutesToOwner: number[];
  minutesToPerson: number[];
  /** Items shown to a person, by alert name. */
  shownByName: Record<string, number>;
  /** The shown items slowest to reach a person: alert name, host, minutes. */
  slowestToPerson: { name: string; host: string | null; minutes: number }[];
  noise: NoiseReport;
}

export function monthFigures(
  month: Pick<InboxMonth, 'rawAlerts' | 'incidents'>,
  epoch: Date,
  record: { items: BenchItem[]; transitions: BenchTransition[]; alerts: BenchAlert[] },
): MonthFigures {
  const byId = new Map(record.items.map((i) => [i.id, i]));
  const transitionsOf = new Map<string, BenchTransition[]>();
  for (const t of record.transitions) transitionsOf.set(t.itemId, [...(transitionsOf.get(t.itemId) ?? []), t]);
  const firstInto = (id: string, states: Set<string>) =>
    (transitionsOf.get(id) ?? []).find((t) => states.has(t.toState))?.at ?? null;
  const needsPerson = new Set(['needs-person']);

  const rootOf = (id: string): string => {
    const seen = new Set<string>();
    let at = id;
    while (byId.get(at)?.mergedInto && !seen.has(at)) {
      seen.add(at);
      at = byId.get(at)!.mergedInto!;
    }
    return at;
  };
  const families = new Map<string, BenchItem[]>();
  for (const item of record.items) {
    const root = rootOf(item.id);
    families.set(root, [...(families.get(root) ?? []), item]);
  }

  const shown = record.items.filter((i) => firstInto(i.id, needsPerson) !== null);
  const shownStateChanges = shown.reduce((n, i) => {
    const ts = transitionsOf.get(i.id) ?? [];
    const from = ts.findIndex((t) => t.toState === 'needs-person');
    return n + ts.slice(from).filter((t) => t.fromState !== t.toState).length;
  }, 0);
  const minutesToOwner = shown.map((i) => minutesBetween(i.firstSeen, firstInto(i.id, OWNED)));
  const minutesToPerson = shown.map((i) => minutesBetween(i.firstSeen, firstInto(i.id, needsPerson)));
  const shownByName: Record<string, number> = {};
  for (const i of shown) shownByName[i.name] = (shownByName[i.name] ?? 0) + 1;
  const slowestToPerson = shown
    .map((i, n) => ({ name: i.name, host: i.host, minutes: minutesToPerson[n]! }))
    .sort((a, b) => b.minutes - a.minutes)
    .slice(0, 3);

  const incidents = month.incidents.map((inc): IncidentOutcome => {
    const from = epoch.getTime() + inc.firstAlertAt;
    const to = epoch.getTime() + inc.lastAlertAt;
    const holding = record.alerts.filter(
      (a) =>
        a.host === inc.host &&
        a.name === inc.alertname &&
        a.firstSeen.getTime() >= from - MINUTE &&
        a.firstSeen.getTime() <= to + MINUTE,
    );
    const members = [...new Set(holding.map((a) => rootOf(a.itemId)))].flatMap((root) => families.get(root) ?? []);
    const personAt = earliest(members.map((m) => firstInto(m.id, needsPerson)));
    const automationAt = earliest(
      members.filter((m) => m.remediationId).map((m) => (transitionsOf.get(m.id) ?? [])[0]?.at ?? m.firstSeen),
    );
    const caughtAt = earliest([personAt, automationAt]);
    const by = personAt && automationAt ? 'both' : personAt ? 'person' : automationAt ? 'automation' : null;
    return {
      id: inc.id,
      kind: inc.kind,
      expect: inc.expect,
      caught: caughtAt !== null,
      by,
      minutesToCatch: caughtAt ? Math.max(0, (caughtAt.getTime() - from) / MINUTE) : null,
      minutesToPerson: personAt ? Math.max(0, (personAt.getTime() - from) / MINUTE) : null,
    };
  });

  const noise = noiseReport(
    record.items
      .filter((i) => !i.mergedInto)
      .map((i) => ({ name: i.name, source: i.source, closedBy: closedByOf(i), flapping: i.flapped })),
  );
  return {
    rawAlerts: month.rawAlerts,
    itemsCreated: record.items.length,
    itemsFolded: record.items.filter((i) => i.mergedInto).length,
    itemsShown: shown.length,
    shownShare: month.rawAlerts ? shown.length / month.rawAlerts : 0,
    incidents,
    missed: incidents.filter((i) => !i.caught),
    shownStateChanges,
    minutesToOwner,
    minutesToPerson,
    shownByName,
    slowestToPerson,
    noise,
  };
}

function closedByOf(i: BenchItem): ClosedBy {
  if (i.state !== 'resolved') return null;
  if (i.resolvedHow === 'verified') return 'automation';
  return i.resolvedHow === 'person' ? 'person' : 'source';
}

function minutesBetween(from: Date, to: Date | null): number {
  return to ? Math.max(0, (to.getTime() - from.getTime()) / MINUTE) : Infinity;
}

function earliest(dates: (Date | null)[]): Date | null {
  return dates.reduce<Date | null>((a, b) => (b && (!a || b < a) ? b : a), null);
}

/** The p-th percentile of `xs` (nearest rank). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'never');
const pct = (n: number) => `${(n * 100).toFixed(2)} %`;

export interface RunFacts {
  title: string;
  machine: string;
  hosts: number;
  days: number;
  realSeconds: number;
  notificationsSent: number;
  notificationsHow: string;
  remediationsStarted: number;
  settleTimeouts: number;
  /** Real time spent waiting for remediations. */
  settleSeconds: number;
  steps: number;
}

/** The report in markdown, as bench/RESULTS.md keeps it. */
export function renderReport(f: MonthFigures, run: RunFacts): string {
  const missed = f.missed.length;
  const ownerMax = Math.max(0, ...f.minutesToOwner);
  const lines = [
    `## ${run.title}`,
    '',
    `Machine: ${run.machine}. ${run.hosts} hosts, ${run.days} days replayed in ${(run.realSeconds / 60).toFixed(1)} min of real time (${run.steps} replay steps).`,
    '',
    '| measure | value | target |',
    '|---|---|---|',
    `| raw alerts (in Alertmanager's notifications, repeats included) | ${f.rawAlerts} | |`,
    `| items created (of them folded into a rack's item) | ${f.itemsCreated} (${f.itemsFolded}) | |`,
    `| items shown to a person (ever needs-person) | ${f.itemsShown} | |`,
    `| shown / raw alerts | ${pct(f.shownShare)} | ≤ 10 % ${f.shownShare <= 0.1 ? '✓' : '✗'} |`,
    `| notifications sent | ${run.notificationsSent} (${run.notificationsHow}) | at most one per state change of a shown item (${f.shownStateChanges}) ${run.notificationsSent <= f.shownStateChanges ? '✓' : '✗'} |`,
    `| real incidents missed | ${missed} of ${f.incidents.length} | 0 ${missed === 0 ? '✓' : '✗'} |`,
    `| shown items: minutes from first alert to an owner (automation or a person), p50 / p95 / max | ${fmt(percentile(f.minutesToOwner, 50))} / ${fmt(percentile(f.minutesToOwner, 95))} / ${fmt(ownerMax)} | ≤ 5 ${ownerMax <= 5 ? '✓' : '✗'} |`,
    `| shown items: minutes from first alert to needs-person, p50 / p95 / max | ${fmt(percentile(f.minutesToPerson, 50))} / ${fmt(percentile(f.minutesToPerson, 95))} / ${fmt(Math.max(0, ...f.minutesToPerson))} (slowest: ${f.slowestToPerson.map((s) => `${s.name} on ${s.host ?? '?'} ${fmt(s.minutes)}`).join(', ')}) | |`,
    `| remediations started (real workflows on the simulated fleet) | ${run.remediationsStarted} | |`,
    `| real time waiting for remediations; waits that hit their bound | ${run.settleSeconds.toFixed(0)} s; ${run.settleTimeouts} | |`,
    '',
    'Real incidents by kind (caught: shown to a person, handled by automation, or both; minutes from the first alert):',
    '',
    '| kind | expected | incidents | caught | by person / automation / both | minutes to catch, max | minutes to a person, max |',
    '|---|---|---|---|---|---|---|',
    ...incidentRows(f.incidents),
    '',
    `Noise report (items not folded; closed by automation ${pct(f.noise.totals.automationShare ?? 0)} of closed items):`,
    '',
    '| alert name | items | shown to a person | open | closed by automation / person / source | flapping |',
    '|---|---|---|---|---|---|',
    ...f.noise.rules
      .slice(0, 10)
      .map(
        (r) =>
          `| ${r.name} | ${r.items} | ${f.shownByName[r.name] ?? 0} | ${r.open} | ${r.closedByAutomation} / ${r.closedByPerson} / ${r.closedBySource} | ${r.flapping} |`,
      ),
    '',
    `Flappers: ${f.noise.flappers.map((r) => `${r.name} (${r.flapping} items)`).join(', ') || 'none marked'}.`,
  ];
  if (missed > 0) lines.push('', `Missed: ${f.missed.map((m) => m.id).join(', ')}.`);
  return lines.join('\n');
}

function incidentRows(incidents: IncidentOutcome[]): string[] {
  const keys = [...new Set(incidents.map((i) => `${i.kind}|${i.expect}`))].sort();
  return keys.map((key) => {
    const [kind, expect] = key.split('|');
    const these = incidents.filter((i) => i.kind === kind && i.expect === expect);
    const count = (by: IncidentOutcome['by']) => these.filter((i) => i.by === by).length;
    const max = Math.max(0, ...these.map((i) => i.minutesToCatch ?? Infinity));
    const toPerson = these.filter((i) => i.minutesToPerson !== null).map((i) => i.minutesToPerson!);
    const person = toPerson.length ? `${fmt(Math.max(...toPerson))} (${toPerson.length} shown)` : '–';
    return `| ${kind} | ${expect} | ${these.length} | ${these.filter((i) => i.caught).length} | ${count('person')} / ${count('automation')} / ${count('both')} | ${fmt(max)} | ${person} |`;
  });
}
