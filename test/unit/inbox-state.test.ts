/** An inbox item's state, derived from facts and explained, row by row; its transitions; what a person sees first. */
import {
  clock,
  compareForPerson,
  inboxState,
  inboxTimingsProblems,
  inboxTransition,
  type InboxFacts,
  type InboxOrderFacts,
  type InboxStateView,
  type LinkedRemediation,
} from '../../domain/inbox';

const T0 = new Date('2026-11-28T06:56:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const NOW = at(60); // 07:56

/** A firing alert a policy matched, with nothing else known. */
const firing: InboxFacts = {
  openedAt: T0,
  firing: true,
  resolvedAt: null,
  lastChangeAt: T0,
  policy: 'host-down',
  remediation: null,
  flapping: null,
  breaker: null,
  acknowledged: null,
  snooze: null,
  silence: null,
  resolvedByPerson: null,
  reopened: null,
};
const remediation = (over: Partial<LinkedRemediation> = {}): LinkedRemediation => ({
  id: 'r-12',
  host: 'cmp-a-03',
  phase: 'repairing',
  since: T0,
  ...over,
});
const facts = (over: Partial<InboxFacts>): InboxFacts => ({ ...firing, ...over });
const handedOff = {
  remediation: remediation({ phase: 'awaiting-operator', handOffReason: 'power-cycle failed', since: at(10) }),
};

describe('inboxState: who owns the item, why, since when', () => {
  const cases: [string, InboxFacts, Date, InboxStateView][] = [
    // automation
    [
      'a remediation at work owns the item',
      facts({ remediation: remediation() }),
      NOW,
      { state: 'automation', since: T0, reason: 'remediation r-12 of cmp-a-03, repairing, since 06:56' },
    ],
    [
      'a policy matched and the remediation is starting, within the grace time',
      firing,
      at(2),
      {
        state: 'automation',
        since: T0,
        reason: 'policy host-down matched; its remediation is starting (a person is called at 07:01)',
      },
    ],
    [
      'an alert no policy matches is watched through the grace time',
      facts({ policy: null }),
      at(4),
      { state: 'automation', since: T0, reason: 'no policy matches; watching whether the alert still fires at 07:01' },
    ],
    [
      'the source resolved the alert while the remediation verifies: automation until the host is verified',
      facts({ firing: false, resolvedAt: at(5), remediation: remediation({ phase: 'verifying', since: at(4) }) }),
      NOW,
      {
        state: 'automation',
        since: at(4),
        reason:
          'remediation r-12 of cmp-a-03, verifying, since 07:00; the alert resolved, the item closes once the host is verified',
      },
    ],
    [
      'the host was returned and the alert still fires, within the grace time: waiting for the source',
      facts({ remediation: remediation({ phase: 'returned', since: at(58) }) }),
      NOW,
      {
        state: 'automation',
        since: at(58),
        reason:
          'remediation r-12 returned cmp-a-03 after verification at 07:54; waiting for the source to resolve its alert',
      },
    ],
    [
      'a guard wait shorter than the limit is still automation',
      facts({ remediation: remediation({ phase: 'waiting-for-capacity', waitingSince: at(40), since: at(40) }) }),
      NOW,
      { state: 'automation', since: at(40), reason: 'remediation r-12 of cmp-a-03, waiting-for-capacity, since 07:36' },
    ],
    // needs-person
    [
      'a hand-off needs a person',
      facts(handedOff),
      NOW,
      {
        state: 'needs-person',
        since: at(10),
        reason: 'remediation r-12 of cmp-a-03 handed off: power-cycle failed, since 07:06',
      },
    ],
    [
      'a pending approval needs a person',
      facts({ remediation: remediation({ phase: 'awaiting-approval', since: at(1) }) }),
      NOW,
      { state: 'needs-person', since: at(1), reason: 'remediation r-12 of cmp-a-03 awaits approval since 06:57' },
    ],
    [
      'an alert no policy matches that still fires past the grace time needs a person',
      facts({ policy: null }),
      at(5),
      { state: 'needs-person', since: at(5), reason: 'no policy matches and the alert still fires after 5 min' },
    ],
    [
      'a policy matched but no remediation started within the grace time',
      firing,
      at(6),
      {
        state: 'needs-person',
        since: at(5),
        reason: 'policy host-down matched but no remediation started within 5 min',
      },
    ],
    [
      'a flapping alert needs a person, even with a remediation at work',
      facts({ remediation: remediation(), flapping: { since: at(30), percent: 62.5 } }),
      NOW,
      { state: 'needs-person', since: at(30), reason: 'flapping since 07:26 (62.5% state change)' },
    ],
    [
      'a tripped breaker needs a person',
      facts({
        remediation: remediation({ phase: 'waiting-for-capacity', waitingSince: at(50) }),
        breaker: { zone: 'zone-a', trippedAt: at(45), reason: '3 take-outs in 60 min' },
      }),
      NOW,
      {
        state: 'needs-person',
        since: at(45),
        reason: 'the circuit breaker of zone zone-a tripped at 07:41: 3 take-outs in 60 min',
      },
    ],
    [
      'a guard wait past the limit needs a person, from when the limit passed',
      facts({
        remediation: remediation({
          phase: 'waiting-for-capacity',
          waitingSince: at(10),
          waitingFor: ['max-concurrent'],
        }),
      }),
      NOW,
      {
        state: 'needs-person',
        since: at(40),
        reason: 'remediation r-12 of cmp-a-03 has waited on guards (max-concurrent) since 07:06, more than 30 min',
      },
    ],
    [
      'a remediation that ended without returning the host, with the alert still firing, needs a person',
      facts({ remediation: remediation({ phase: 'rejected', since: at(20) }) }),
      NOW,
      {
        state: 'needs-person',
        since: at(20),
        reason: 'remediation r-12 of cmp-a-03 ended rejected at 07:16 and the alert still fires',
      },
    ],
    [
      'the host was returned but the alert still fires past the grace time',
      facts({ remediation: remediation({ phase: 'returned', since: at(30) }) }),
      NOW,
      {
        state: 'needs-person',
        since: at(35),
        reason: 'remediation r-12 returned cmp-a-03 after verification at 07:26 but the alert still fires 5 min later',
      },
    ],
    [
      'several needs: all are named, since the oldest',
      facts({ ...handedOff, flapping: { since: at(30), percent: 55 } }),
      NOW,
      {
        state: 'needs-person',
        since: at(10),
        reason:
          'remediation r-12 of cmp-a-03 handed off: power-cycle failed, since 07:06; flapping since 07:26 (55% state change)',
      },
    ],
    // acknowledged, and re-opened
    [
      "a person's acknowledgement of a need → acknowledged",
      facts({ ...handedOff, acknowledged: { by: 'alice', at: at(12) } }),
      NOW,
      {
        state: 'acknowledged',
        since: at(12),
        reason:
          'acknowledged by alice at 07:08: remediation r-12 of cmp-a-03 handed off: power-cycle failed, since 07:06',
      },
    ],
    [
      'a new need after the acknowledgement re-opens the item, with only the new reason',
      facts({ ...handedOff, acknowledged: { by: 'alice', at: at(12) }, flapping: { since: at(30), percent: 55 } }),
      NOW,
      { state: 'needs-person', since: at(30), reason: 'flapping since 07:26 (55% state change)' },
    ],
    [
      'an acknowledgement of an item automation owns changes nothing: automation still has it',
      facts({ remediation: remediation(), acknowledged: { by: 'alice', at: at(1) } }),
      NOW,
      { state: 'automation', since: T0, reason: 'remediation r-12 of cmp-a-03, repairing, since 06:56' },
    ],
    // snoozed
    [
      'snoozed until a time, before that time',
      facts({ ...handedOff, snooze: { by: 'bob', at: at(15), until: at(75), untilChange: false } }),
      NOW,
      {
        state: 'snoozed',
        since: at(15),
        reason: 'snoozed by bob until 08:11: remediation r-12 of cmp-a-03 handed off: power-cycle failed, since 07:06',
      },
    ],
    [
      'snoozed until a time, once the time has passed: needs a person again',
      facts({ ...handedOff, snooze: { by: 'bob', at: at(15), until: at(45), untilChange: false } }),
      NOW,
      {
        state: 'needs-person',
        since: at(10),
        reason: 'remediation r-12 of cmp-a-03 handed off: power-cycle failed, since 07:06',
      },
    ],
    [
      'snoozed until it changes, with no change since',
      facts({ ...handedOff, lastChangeAt: at(10), snooze: { by: 'bob', at: at(15), until: null, untilChange: true } }),
      NOW,
      {
        state: 'snoozed',
        since: at(15),
        reason:
          'snoozed by bob until it changes: remediation r-12 of cmp-a-03 handed off: power-cycle failed, since 07:06',
      },
    ],
    [
      'snoozed until it changes, and an alert arrived after the snooze: needs a person again',
      facts({ ...handedOff, lastChangeAt: at(20), snooze: { by: 'bob', at: at(15), until: null, untilChange: true } }),
      NOW,
      {
        state: 'needs-person',
        since: at(10),
        reason: 'remediation r-12 of cmp-a-03 handed off: power-cycle failed, since 07:06',
      },
    ],
    [
      'a snooze ended by a change falls back to an acknowledgement that still covers the need',
      facts({
        ...handedOff,
        lastChangeAt: at(20),
        acknowledged: { by: 'alice', at: at(11) },
        snooze: { by: 'bob', at: at(15), until: null, untilChange: true },
      }),
      NOW,
      {
        state: 'acknowledged',
        since: at(11),
        reason:
          'acknowledged by alice at 07:07: remediation r-12 of cmp-a-03 handed off: power-cycle failed, since 07:06',
      },
    ],
    [
      'a new need after a snooze re-opens the item before the snooze ends',
      facts({
        ...handedOff,
        snooze: { by: 'bob', at: at(15), until: at(120), untilChange: false },
        flapping: { since: at(30), percent: 55 },
      }),
      NOW,
      {
        state: 'needs-person',
        since: at(10),
        reason:
          'remediation r-12 of cmp-a-03 handed off: power-cycle failed, since 07:06; flapping since 07:26 (55% state change)',
      },
    ],
    // silenced
    [
      'a silence hides the item and says what it would be otherwise',
      facts({
        ...handedOff,
        silence: { id: 's-1', createdBy: 'carol', comment: 'rack r7 re-cabling', startsAt: at(-60), endsAt: at(120) },
      }),
      NOW,
      {
        state: 'silenced',
        since: T0,
        reason:
          'silenced by s-1 (carol: rack r7 re-cabling) until 08:56; otherwise needs-person: remediation r-12 of cmp-a-03 handed off: power-cycle failed, since 07:06',
      },
    ],
    [
      'a silence that began after the first alert: silenced since the silence began',
      facts({
        remediation: remediation(),
        silence: { id: 's-2', createdBy: 'carol', comment: 'maintenance window', startsAt: at(30), endsAt: at(90) },
      }),
      NOW,
      {
        state: 'silenced',
        since: at(30),
        reason:
          'silenced by s-2 (carol: maintenance window) until 08:26; otherwise automation: remediation r-12 of cmp-a-03, repairing, since 06:56',
      },
    ],
    // resolved
    [
      'the source resolved every alert and no remediation is at work',
      facts({ firing: false, resolvedAt: at(20), policy: null }),
      NOW,
      { state: 'resolved', how: 'source', since: at(20), reason: 'the source resolved every alert' },
    ],
    [
      'the remediation returned the host after verification and the source resolved: resolved, verified',
      facts({ firing: false, resolvedAt: at(25), remediation: remediation({ phase: 'returned', since: at(30) }) }),
      NOW,
      {
        state: 'resolved',
        how: 'verified',
        since: at(30),
        reason: 'remediation r-12 returned cmp-a-03 after verification at 07:26; the source resolved its alerts',
      },
    ],
    [
      'a person resolved it with a note',
      facts({ ...handedOff, resolvedByPerson: { by: 'alice', at: at(40), note: 'replaced the PSU' } }),
      NOW,
      { state: 'resolved', how: 'person', since: at(40), reason: 'resolved by alice: replaced the PSU' },
    ],
    [
      'a resolution beats a silence',
      facts({
        firing: false,
        resolvedAt: at(20),
        silence: { id: 's-1', createdBy: 'carol', comment: 'maintenance', startsAt: at(30), endsAt: at(120) },
      }),
      NOW,
      { state: 'resolved', how: 'source', since: at(20), reason: 'the source resolved every alert' },
    ],
    [
      'a reopen after a person resolved it undoes the resolution',
      facts({
        ...handedOff,
        resolvedByPerson: { by: 'alice', at: at(40), note: 'replaced the PSU' },
        reopened: { by: 'bob', at: at(50) },
      }),
      NOW,
      {
        state: 'needs-person',
        since: at(10),
        reason: 'remediation r-12 of cmp-a-03 handed off: power-cycle failed, since 07:06',
      },
    ],
    [
      'a flapping alert that resolved for now is not resolved: it stays one item',
      facts({ firing: false, resolvedAt: at(58), flapping: { since: at(30), percent: 70 } }),
      NOW,
      { state: 'needs-person', since: at(30), reason: 'flapping since 07:26 (70% state change)' },
    ],
  ];
  test.each(cases)('%s', (_what, f, now, expected) => {
    expect(inboxState(f, now)).toEqual(expected);
  });

  test('the grace time and guard-wait limit come from the timings', () => {
    const waiting = facts({ remediation: remediation({ phase: 'waiting-for-capacity', waitingSince: at(50) }) });
    expect(inboxState(waiting, NOW, { graceMinutes: 5, guardWaitMinutes: 10 }).state).toBe('needs-person');
    expect(inboxState(facts({ policy: null }), at(6), { graceMinutes: 15, guardWaitMinutes: 30 }).state).toBe(
      'automation',
    );
  });
});

describe('clock: times in reasons', () => {
  test.each([
    ['the same UTC day: HH:MM', at(0), NOW, '06:56'],
    ['another day: with the day', new Date('2026-11-27T23:10:00Z'), NOW, '27 Nov 23:10'],
  ])('%s', (_what, when, now, expected) => {
    expect(clock(when, now)).toBe(expected);
  });
});

describe('inboxTransition: what goes into the history, and what is notified', () => {
  const automation: InboxStateView = { state: 'automation', since: T0, reason: 'remediation r-12, repairing' };
  test.each([
    [
      'a new item: its first state is a change',
      null,
      automation,
      { stateChanged: true, reasonChanged: true, entry: 'automation: remediation r-12, repairing' },
    ],
    [
      'another state: a change, with from and to',
      automation,
      { state: 'needs-person', since: at(10), reason: 'handed off' },
      { stateChanged: true, reasonChanged: true, entry: 'automation → needs-person: handed off' },
    ],
    [
      'the same state with another reason: recorded, not notified',
      automation,
      { ...automation, reason: 'remediation r-12, verifying' },
      { stateChanged: false, reasonChanged: true, entry: 'automation: remediation r-12, verifying' },
    ],
    [
      'nothing changed: nothing recorded',
      automation,
      { ...automation },
      { stateChanged: false, reasonChanged: false, entry: null },
    ],
  ] as [string, InboxStateView | null, InboxStateView, object][])('%s', (_what, previous, next, expected) => {
    expect(inboxTransition(previous, next)).toEqual(expected);
  });
});

describe('compareForPerson: needs-person first, then most severe, then newest', () => {
  const item = (id: string, over: Partial<InboxOrderFacts>): InboxOrderFacts => ({
    id,
    state: 'needs-person',
    severity: 'warning',
    lastSeen: T0,
    ...over,
  });
  test.each([
    ['needs-person before automation', item('a', { state: 'automation' }), item('b', {}), ['b', 'a']],
    ['critical before warning', item('a', {}), item('b', { severity: 'critical' }), ['b', 'a']],
    [
      'state before severity',
      item('a', { state: 'acknowledged', severity: 'critical' }),
      item('b', { severity: 'info' }),
      ['b', 'a'],
    ],
    ['newer before older', item('a', {}), item('b', { lastSeen: at(1) }), ['b', 'a']],
    ['all equal: by id, so the order is stable', item('b', {}), item('a', {}), ['a', 'b']],
  ])('%s', (_what, first, second, expected) => {
    expect([first, second].sort(compareForPerson).map((i) => i.id)).toEqual(expected);
  });

  test('the whole order: needs-person, acknowledged, snoozed, automation, silenced, resolved', () => {
    const states = ['resolved', 'silenced', 'automation', 'snoozed', 'acknowledged', 'needs-person'] as const;
    const sorted = states.map((state) => item(state, { state })).sort(compareForPerson);
    expect(sorted.map((i) => i.state)).toEqual([...states].reverse());
  });
});

describe('inboxTimingsProblems: each names the field', () => {
  test.each([
    ['the defaults are valid', { graceMinutes: 5, guardWaitMinutes: 30 }, []],
    ['no grace time', { graceMinutes: 0, guardWaitMinutes: 30 }, ['graceMinutes: must be above 0']],
    ['a negative guard-wait limit', { graceMinutes: 5, guardWaitMinutes: -1 }, ['guardWaitMinutes: must be above 0']],
  ])('%s', (_what, timings, expected) => {
    expect(inboxTimingsProblems(timings)).toEqual(expected);
  });
});
