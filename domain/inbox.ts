/**
 * The state of an inbox item, derived from facts and explained. Pure: the
 * caller gathers the facts (the item's alerts, its remediation, the breaker,
 * acknowledgements, snoozes, the silence that applies) and `now`; this
 * decides who owns the item and says why in the operator's words.
 *
 * Precedence, first that holds wins:
 * 1. `resolved`: a person resolved it with a note (and nobody reopened it
 *    since); or its remediation returned the host after verification and no
 *    alert still fires; or the source resolved every alert, no remediation is
 *    still at work (an item closes only once its host was verified) and the
 *    alert is not flapping (a flapping alert stays one item until it is quiet).
 * 2. `silenced`: a silence applies. It hides the item whatever it would be
 *    otherwise; the reason says what that is. Since the later of the
 *    silence's start and the item's first alert.
 * 3. The needs of a person, each with the time it began:
 *    - its remediation was handed off (awaiting an operator);
 *    - its remediation awaits approval;
 *    - no policy matched and an alert still fires past the grace time;
 *    - a policy matched but no remediation started within the grace time;
 *    - its remediation waits on guards longer than the limit;
 *    - the zone's circuit breaker is tripped;
 *    - the alert flaps;
 *    - its remediation ended without returning the host (rejected, cancelled,
 *      stood down, false alarm) and an alert still fires;
 *    - its remediation returned the host but an alert still fires past the
 *      grace time.
 *    With no need → 4. With needs, a person who already took them covers them:
 *    - `snoozed` while a snooze made after every need is in effect (until its
 *      time; or, for "until it changes", until an alert arrives or changes
 *      state after the snooze);
 *    - else `acknowledged` when the acknowledgement came after every need;
 *    - else `needs-person`: a need newer than the snooze or acknowledgement
 *      re-opens the item.
 * 4. `automation`: a remediation is at work (or has returned the host and
 *    waits, within the grace time, for the source to resolve), a policy
 *    matched and its remediation is starting, or an alert no policy matches is
 *    being watched through the grace time.
 *
 * Times in reasons are UTC, `HH:MM`, with the day when it is not `now`'s.
 */
import type { Phase } from './remediation';
import type { Severity } from './types';

export const INBOX_STATES = ['needs-person', 'acknowledged', 'snoozed', 'automation', 'silenced', 'resolved'] as const;
/** Who an item is with. The order is what a person sees first. */
export type InboxState = (typeof INBOX_STATES)[number];

/** How an item was resolved. */
export type ResolvedHow = 'source' | 'verified' | 'person';

/** The remediation linked to an item. */
export interface LinkedRemediation {
  id: string;
  host: string;
  phase: Phase;
  /** When it entered `phase`. */
  since: Date;
  /** Set when it was handed off to an operator: why. */
  handOffReason?: string | null;
  /** Set while it waits for capacity: since when, and the guards holding it. */
  waitingSince?: Date | null;
  waitingFor?: string[];
}

/** Everything the state of an item depends on. Absent facts are null. */
export interface InboxFacts {
  /** When the first of its alerts that fire now first came (else its first alert): grace times count from here. */
  openedAt: Date;
  /** Does any of its alerts still fire? */
  firing: boolean;
  /** When its last alert resolved, if none fires. */
  resolvedAt: Date | null;
  /** When an alert last arrived or changed state: what ends a snooze "until it changes". */
  lastChangeAt: Date;
  /** The policy that matched its alert, or null when none did. */
  policy: string | null;
  remediation: LinkedRemediation | null;
  flapping: { since: Date; percent: number } | null;
  /** The tripped breaker of the host's zone, when it holds this item's remediation back (or kept one from starting). */
  breaker: { zone: string; trippedAt: Date; reason: string } | null;
  acknowledged: { by: string; at: Date } | null;
  snooze: { by: string; at: Date; until: Date | null; untilChange: boolean } | null;
  /** The silence that applies (see `activeSilence` in domain/silences.ts). */
  silence: { id: string; createdBy: string; comment: string; startsAt: Date; endsAt: Date } | null;
  /** A person resolved it. */
  resolvedByPerson: { by: string; at: Date; note: string } | null;
  /** A person reopened it: a resolution before this no longer counts. */
  reopened: { by: string; at: Date } | null;
}

export interface InboxTimings {
  /** How long an alert may fire with no policy, or with a policy and no remediation, before a person is needed. */
  graceMinutes: number;
  /** How long a remediation may wait on guards before a person is needed. */
  guardWaitMinutes: number;
}

export const DEFAULT_INBOX_TIMINGS: InboxTimings = { graceMinutes: 5, guardWaitMinutes: 30 };

/** Check the timings; each problem names the field. */
export function inboxTimingsProblems(t: InboxTimings): string[] {
  const problems: string[] = [];
  if (!(t.graceMinutes > 0)) problems.push('graceMinutes: must be above 0');
  if (!(t.guardWaitMinutes > 0)) problems.push('guardWaitMinutes: must be above 0');
  return problems;
}

/** An item's derived state: who has it, why, since when. */
export interface InboxStateView {
  state: InboxState;
  reason: string;
  since: Date;
  /** How it was resolved, for `resolved`. */
  how?: ResolvedHow;
}

/** Something that needs a person, since when. */
interface Need {
  since: Date;
  reason: string;
}

/** Derive the state of an item; the rules and their precedence are in this file's header. */
export function inboxState(
  facts: InboxFacts,
  now: Date,
  timings: InboxTimings = DEFAULT_INBOX_TIMINGS,
): InboxStateView {
  const resolved = resolution(facts, now);
  if (resolved) return resolved;
  const underlying = ownerState(facts, now, timings);
  if (facts.silence) {
    const s = facts.silence;
    return {
      state: 'silenced',
      reason: `silenced by ${s.id} (${s.createdBy}: ${s.comment}) until ${clock(s.endsAt, now)}; otherwise ${underlying.state}: ${underlying.reason}`,
      since: s.startsAt > facts.openedAt ? s.startsAt : facts.openedAt,
    };
  }
  return underlying;
}

/** Rule 1: resolved, and how. */
function resolution(facts: InboxFacts, now: Date): InboxStateView | null {
  const person = facts.resolvedByPerson;
  if (person && !(facts.reopened && facts.reopened.at > person.at))
    return { state: 'resolved', how: 'person', since: person.at, reason: `resolved by ${person.by}: ${person.note}` };
  const r = facts.remediation;
  if (facts.firing) return null;
  const resolvedAt = facts.resolvedAt ?? facts.lastChangeAt;
  if (r?.phase === 'returned') {
    const since = r.since > resolvedAt ? r.since : resolvedAt;
    const reason = `remediation ${r.id} returned ${r.host} after verification at ${clock(r.since, now)}; the source resolved its alerts`;
    return { state: 'resolved', how: 'verified', since, reason };
  }
  if (r && !isEnded(r.phase)) return null;
  if (facts.flapping) return null;
  return { state: 'resolved', how: 'source', since: resolvedAt, reason: 'the source resolved every alert' };
}

/** Rules 3 and 4: needs-person (or a person's cover for it), else automation. */
function ownerState(facts: InboxFacts, now: Date, timings: InboxTimings): InboxStateView {
  const needs = needsOfPerson(facts, now, timings).sort((a, b) => a.since.getTime() - b.since.getTime());
  const newest = needs[needs.length - 1];
  if (!newest) return automationState(facts, now, timings);
  const snooze = facts.snooze;
  if (snooze && snooze.at >= newest.since && snoozeInEffect(snooze, facts.lastChangeAt, now)) {
    const until = snooze.until ? `until ${clock(snooze.until, now)}` : 'until it changes';
    return { state: 'snoozed', since: snooze.at, reason: `snoozed by ${snooze.by} ${until}: ${joinNeeds(needs)}` };
  }
  const ack = facts.acknowledged;
  if (ack && ack.at >= newest.since)
    return {
      state: 'acknowledged',
      since: ack.at,
      reason: `acknowledged by ${ack.by} at ${clock(ack.at, now)}: ${joinNeeds(needs)}`,
    };
  const open = needs.filter((n) => !ack || n.since > ack.at);
  return { state: 'needs-person', since: open[0]!.since, reason: joinNeeds(open) };
}

function snoozeInEffect(snooze: NonNullable<InboxFacts['snooze']>, lastChangeAt: Date, now: Date): boolean {
  if (snooze.until && now >= snooze.until) return false;
  if (snooze.untilChange && lastChangeAt > snooze.at) return false;
  return snooze.until !== null || snooze.untilChange;
}

function joinNeeds(needs: Need[]): string {
  return needs.map((n) => n.reason).join('; ');
}

/** Every reason the item needs a person now, each with when it began (rule 3). */
function needsOfPerson(facts: InboxFacts, now: Date, timings: InboxTimings): Need[] {
  const r = facts.remediation;
  return [...(r ? remediationNeeds(r, facts.firing, now, timings) : []), ...alertNeeds(facts, now, timings)];
}

/** What about its remediation needs a person: a hand-off, an approval, a long guard wait, an end that left the alert firing. */
function remediationNeeds(r: LinkedRemediation, firing: boolean, now: Date, timings: InboxTimings): Need[] {
  const needs: Need[] = [];
  const of = `remediation ${r.id} of ${r.host}`;
  const at = (d: Date) => clock(d, now);
  const ended = isEnded(r.phase);
  if (r.phase === 'awaiting-operator' || (r.handOffReason && !ended))
    needs.push({
      since: r.since,
      reason: `${of} handed off: ${r.handOffReason ?? 'awaiting an operator'}, since ${at(r.since)}`,
    });
  if (r.phase === 'awaiting-approval')
    needs.push({ since: r.since, reason: `${of} awaits approval since ${at(r.since)}` });
  const waitLimit = r.waitingSince && new Date(r.waitingSince.getTime() + timings.guardWaitMinutes * 60_000);
  if (r.waitingSince && waitLimit && !ended && now >= waitLimit) {
    const guards = r.waitingFor?.length ? ` (${r.waitingFor.join(', ')})` : '';
    const reason = `${of} has waited on guards${guards} since ${at(r.waitingSince)}, more than ${timings.guardWaitMinutes} min`;
    needs.push({ since: waitLimit, reason });
  }
  if (!firing || !ended) return needs;
  if (r.phase !== 'returned')
    needs.push({ since: r.since, reason: `${of} ended ${r.phase} at ${at(r.since)} and the alert still fires` });
  const graceEnd = new Date(r.since.getTime() + timings.graceMinutes * 60_000);
  if (r.phase === 'returned' && now >= graceEnd) {
    const reason = `remediation ${r.id} returned ${r.host} after verification at ${at(r.since)} but the alert still fires ${timings.graceMinutes} min later`;
    needs.push({ since: graceEnd, reason });
  }
  return needs;
}

/** What about the alert needs a person: a tripped breaker, flapping, firing past the grace time with no policy or no remediation. */
function alertNeeds(facts: InboxFacts, now: Date, timings: InboxTimings): Need[] {
  const needs: Need[] = [];
  const at = (d: Date) => clock(d, now);
  const { breaker, flapping, policy } = facts;
  if (breaker)
    needs.push({
      since: breaker.trippedAt,
      reason: `the circuit breaker of zone ${breaker.zone} tripped at ${at(breaker.trippedAt)}: ${breaker.reason}`,
    });
  if (flapping)
    needs.push({
      since: flapping.since,
      reason: `flapping since ${at(flapping.since)} (${flapping.percent}% state change)`,
    });
  const graceEnd = new Date(facts.openedAt.getTime() + timings.graceMinutes * 60_000);
  if (!facts.firing || now < graceEnd) return needs;
  const grace = `${timings.graceMinutes} min`;
  if (!policy) needs.push({ since: graceEnd, reason: `no policy matches and the alert still fires after ${grace}` });
  else if (!facts.remediation)
    needs.push({ since: graceEnd, reason: `policy ${policy} matched but no remediation started within ${grace}` });
  return needs;
}

/** Rule 4: nothing needs a person; who is at work on it. */
function automationState(facts: InboxFacts, now: Date, timings: InboxTimings): InboxStateView {
  const r = facts.remediation;
  if (r?.phase === 'returned')
    return {
      state: 'automation',
      since: r.since,
      reason: `remediation ${r.id} returned ${r.host} after verification at ${clock(r.since, now)}; waiting for the source to resolve its alert`,
    };
  if (r) {
    const resolved = facts.firing ? '' : '; the alert resolved, the item closes once the host is verified';
    return {
      state: 'automation',
      since: r.since,
      reason: `remediation ${r.id} of ${r.host}, ${r.phase}, since ${clock(r.since, now)}${resolved}`,
    };
  }
  const graceEnd = clock(new Date(facts.openedAt.getTime() + timings.graceMinutes * 60_000), now);
  if (facts.policy)
    return {
      state: 'automation',
      since: facts.openedAt,
      reason: `policy ${facts.policy} matched; its remediation is starting (a person is called at ${graceEnd})`,
    };
  return {
    state: 'automation',
    since: facts.openedAt,
    reason: `no policy matches; watching whether the alert still fires at ${graceEnd}`,
  };
}

const ENDED: readonly Phase[] = ['returned', 'false-alarm', 'rejected', 'cancelled', 'stood-down'];
function isEnded(phase: Phase): boolean {
  return ENDED.includes(phase);
}

/** `06:56`, or `27 Nov 06:56` when `at` is not on `now`'s day (UTC). */
export function clock(at: Date, now: Date): string {
  const hhmm = at.toISOString().slice(11, 16);
  if (at.toISOString().slice(0, 10) === now.toISOString().slice(0, 10)) return hhmm;
  const day = at.toLocaleString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short' });
  return `${day} ${hhmm}`;
}

/** What changed between two derivations of an item's state: the line for its history, and whether to notify. */
export interface InboxTransition {
  /** The state changed: record it and notify (one notification per state change, never per alert). */
  stateChanged: boolean;
  /** The state stayed but its reason changed (a remediation moved from repairing to verifying): record it. */
  reasonChanged: boolean;
  /** The history line: `needs-person → acknowledged: acknowledged by alice at 07:12: …`. */
  entry: string | null;
}

/** Compare the previous state (null for a new item) with the new one. */
export function inboxTransition(previous: InboxStateView | null, next: InboxStateView): InboxTransition {
  if (!previous) return { stateChanged: true, reasonChanged: true, entry: `${next.state}: ${next.reason}` };
  if (previous.state !== next.state)
    return { stateChanged: true, reasonChanged: true, entry: `${previous.state} → ${next.state}: ${next.reason}` };
  if (previous.reason !== next.reason)
    return { stateChanged: false, reasonChanged: true, entry: `${next.state}: ${next.reason}` };
  return { stateChanged: false, reasonChanged: false, entry: null };
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** What ordering needs of an item. */
export interface InboxOrderFacts {
  id: string;
  state: InboxState;
  severity: Severity;
  /** When its newest alert came. */
  lastSeen: Date;
}

/**
 * Order for what a person sees: by state (needs-person, acknowledged, snoozed,
 * automation, silenced, resolved), then most severe, then newest, then id so
 * the order is stable. A comparator for `Array.prototype.sort`.
 */
export function compareForPerson(a: InboxOrderFacts, b: InboxOrderFacts): number {
  return (
    INBOX_STATES.indexOf(a.state) - INBOX_STATES.indexOf(b.state) ||
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    b.lastSeen.getTime() - a.lastSeen.getTime() ||
    a.id.localeCompare(b.id)
  );
}
