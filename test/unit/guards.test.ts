/** Every guard, table-driven: one line of description per case. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  breakerAt,
  evaluateGuards,
  floorFor,
  limitFor,
  repeatOffence,
  zoneBudget,
  type FleetSnapshot,
  type GuardConfig,
} from '../../domain/guards';
import { simulatePolicies } from '../../domain/simulate';
import { isInside, windowOccurrence, windowVerdict, type MaintenanceWindow } from '../../domain/windows';
import { DEFAULT_GUARDS, parseGuards } from '../../policies/guards-schema';

const config: GuardConfig = {
  maxConcurrentPerZone: { count: 2 },
  maxConcurrentFleet: { percent: 10 },
  // Out of the way here, so the capacity floor's cases test the floor; its own cases set it.
  maxOutOfServicePerZone: { percent: 100 },
  minInServicePerZone: { percent: 75 },
  rateLimit: { starts: 5, windowMinutes: 10 },
  cooldownMinutes: 30,
  maxAttempts: { count: 3, windowMinutes: 1440 },
  breaker: { percent: 30, windowMinutes: 60 },
  windows: [],
  waitTimeoutMinutes: 60,
  pollSeconds: 10,
};
const calm: FleetSnapshot = {
  now: new Date('2026-11-24T12:00:00Z'),
  zone: 'zone-a',
  zoneHosts: 20,
  fleetHosts: 40,
  zoneOutOfService: 0,
  activeLeasesZone: 0,
  activeLeasesFleet: 0,
  startsInRateWindow: 0,
  takenInBreakerWindow: 0,
  breakerTripped: null,
  paused: null,
};

describe('evaluateGuards', () => {
  const cases: [string, Partial<FleetSnapshot>, Partial<GuardConfig>, string[]][] = [
    ['a calm fleet allows', {}, {}, []],
    ['a global pause blocks', { paused: { by: 'ada', reason: 'incident 42' } }, {}, ['pause']],
    ['a tripped breaker blocks its zone', { breakerTripped: { at: 't', reason: 'r' } }, {}, ['breaker']],
    ['the zone cap blocks at the cap', { activeLeasesZone: 2 }, {}, ['zone-concurrency']],
    ['the zone cap allows below it', { activeLeasesZone: 1 }, {}, []],
    ['the fleet cap (10 % of 40 = 4) blocks at 4', { activeLeasesFleet: 4 }, {}, ['fleet-concurrency']],
    [
      'the capacity floor blocks when one more host would go below 75 %',
      { zoneOutOfService: 5 },
      {},
      ['capacity-floor'],
    ],
    ['the capacity floor allows down to exactly 75 %', { zoneOutOfService: 4 }, {}, []],
    [
      'a floor in hosts holds whatever the percentage',
      { zoneOutOfService: 2 },
      { minInServicePerZone: { count: 18 } },
      ['capacity-floor'],
    ],
    [
      'without a floor, only the out-of-service limit counts',
      { zoneOutOfService: 15 },
      { minInServicePerZone: undefined },
      [],
    ],
    [
      'hosts out for any reason count against the zone: 3 of at most 3',
      { zoneOutOfService: 3 },
      { maxOutOfServicePerZone: { count: 3, percent: 25 } },
      ['zone-out-of-service'],
    ],
    [
      '2 of at most 3 out leaves room for one more',
      { zoneOutOfService: 2 },
      { maxOutOfServicePerZone: { count: 3, percent: 25 } },
      [],
    ],
    [
      "vCPU headroom: the others cannot take this host's vCPUs",
      { zoneVcpus: { candidateUsed: 40, othersTotal: 100, othersUsed: 70 } },
      { minFreeVcpuPercentPerZone: 0 },
      ['vcpu-headroom'],
    ],
    [
      'vCPU headroom: they can, but would keep less than 10 % free',
      { zoneVcpus: { candidateUsed: 20, othersTotal: 100, othersUsed: 71 } },
      { minFreeVcpuPercentPerZone: 10 },
      ['vcpu-headroom'],
    ],
    [
      'vCPU headroom: exactly 10 % free is enough',
      { zoneVcpus: { candidateUsed: 20, othersTotal: 100, othersUsed: 70 } },
      { minFreeVcpuPercentPerZone: 10 },
      [],
    ],
    [
      'vCPU headroom: not applied before the sweep has read the zone',
      { zoneVcpus: undefined },
      { minFreeVcpuPercentPerZone: 99 },
      [],
    ],
    ['the rate limit blocks at its count', { startsInRateWindow: 5 }, {}, ['rate-limit']],
    [
      'a closed allow window blocks',
      {},
      { windows: [{ name: 'nights', effect: 'allow', days: ['tue'], start: '01:00', end: '05:00', timezone: 'UTC' }] },
      ['maintenance-window'],
    ],
    [
      'a closed allow window of another zone does not block this one',
      {},
      {
        windows: [
          {
            name: 'b-nights',
            effect: 'allow',
            days: ['tue'],
            start: '01:00',
            end: '05:00',
            timezone: 'UTC',
            zones: ['zone-b'],
          },
        ],
      },
      [],
    ],
    [
      'a closed allow window of this zone blocks',
      {},
      {
        windows: [
          {
            name: 'a-nights',
            effect: 'allow',
            days: ['tue'],
            start: '01:00',
            end: '05:00',
            timezone: 'UTC',
            zones: [calm.zone],
          },
        ],
      },
      ['maintenance-window'],
    ],
    [
      'several guards block together, each named',
      { paused: { by: 'a', reason: 'b' }, activeLeasesZone: 9, startsInRateWindow: 9 },
      {},
      ['pause', 'zone-concurrency', 'rate-limit'],
    ],
  ];
  test.each(cases)('%s', (_name, snapshot, overrides, expected) => {
    const verdict = evaluateGuards({ ...config, ...overrides }, { ...calm, ...snapshot });
    expect(verdict.allowed ? [] : verdict.blockers.map((b) => b.guard)).toEqual(expected);
  });

  const breakerCases: [string, number, boolean][] = [
    ['the 6th take-out of a 20-host zone within the window trips a 30 % breaker', 5, true],
    ['the 5th does not', 4, false],
  ];
  test.each(breakerCases)('%s', (_name, taken, trips) => {
    const verdict = evaluateGuards(
      {
        ...config,
        maxConcurrentPerZone: { count: 20 },
        maxConcurrentFleet: { count: 40 },
        minInServicePerZone: undefined,
        rateLimit: { starts: 99, windowMinutes: 1 },
      },
      { ...calm, takenInBreakerWindow: taken },
    );
    expect(verdict.allowed && verdict.tripsBreaker !== null).toBe(trips);
  });
});

describe('breakerAt', () => {
  const cases: [string, GuardConfig['breaker'], number, number][] = [
    ['30 % of 20 hosts trips at the 6th take-out', { percent: 30, windowMinutes: 60 }, 20, 6],
    ['a share rounds up: 30 % of 12 is 3.6, so the 4th', { percent: 30, windowMinutes: 60 }, 12, 4],
    ['count and percent: whichever comes first', { count: 5, percent: 30, windowMinutes: 60 }, 100, 5],
    ['never below two: 30 % of 3 would trip on the first take-out', { percent: 30, windowMinutes: 60 }, 3, 2],
    ['never below two, even with the count', { count: 5, percent: 30, windowMinutes: 60 }, 1, 2],
    ['a count alone is the same at every size', { count: 4, windowMinutes: 60 }, 1000, 4],
  ];
  test.each(cases)('%s', (_name, breaker, hosts, expected) => {
    expect(breakerAt(breaker, hosts)).toBe(expected);
  });
});

describe('floorFor', () => {
  const cases: [string, Parameters<typeof floorFor>[0], number, number][] = [
    ['a percentage rounds up: 75 % of 3 keeps all 3', { percent: 75 }, 3, 3],
    ['a count is a count', { count: 2 }, 100, 2],
    ['count and percentage: both must hold, so the higher', { count: 2, percent: 50 }, 20, 10],
    ['a floor of 0 % keeps nothing back', { percent: 0 }, 20, 0],
  ];
  test.each(cases)('%s', (_name, floor, total, expected) => {
    expect(floorFor(floor, total)).toBe(expected);
  });
});

describe('zoneBudget: how many more hosts a zone may lose now, and why', () => {
  const budgetConfig: GuardConfig = {
    ...config,
    maxConcurrentPerZone: { count: 1 },
    maxConcurrentFleet: { percent: 100 },
    maxOutOfServicePerZone: { count: 3, percent: 25 },
    minInServicePerZone: undefined,
    rateLimit: { starts: 10, windowMinutes: 60 },
    breaker: { count: 5, percent: 30, windowMinutes: 60 },
  };
  const cases: [string, Partial<FleetSnapshot>, Partial<GuardConfig>, number, string[], RegExp][] = [
    [
      'a calm zone of 20 may lose one now: one remediation at a time',
      {},
      {},
      1,
      ['zone-concurrency'],
      /^0 hosts of zone-a out for remediation; at most 1 at once$/,
    ],
    [
      'with more at once allowed, the zone limit binds: 3 of 20',
      {},
      { maxConcurrentPerZone: { count: 9 } },
      3,
      ['zone-out-of-service'],
      /^0 of 20 hosts of zone-a out of service; at most 3 may be \(the stricter of 3 hosts and 25 % of 20 = 5\)$/,
    ],
    [
      'two hosts a person took out leave room for one',
      { zoneOutOfService: 2 },
      { maxConcurrentPerZone: { count: 9 } },
      1,
      ['zone-out-of-service'],
      /^2 of 20 hosts/,
    ],
    [
      'a zone of 3: a percentage never allows fewer than one host',
      { zoneHosts: 3 },
      { maxConcurrentPerZone: { count: 9 } },
      1,
      ['zone-out-of-service'],
      /at most 1 may be \(the stricter of 3 hosts and 25 % of 3, never below one host\)/,
    ],
    [
      'a zone of 3 with one out has nothing left',
      { zoneHosts: 3, zoneOutOfService: 1, activeLeasesZone: 1 },
      {},
      0,
      ['zone-concurrency', 'zone-out-of-service'],
      /1 of 3 hosts of zone-a out of service; at most 1 may be/,
    ],
    [
      'a floor set by the operator binds when it is the tightest',
      { zoneHosts: 3 },
      { minInServicePerZone: { percent: 75 } },
      0,
      ['capacity-floor'],
      /^3 of 3 hosts of zone-a in service; at least 3 must stay \(75 % of 3, rounded up\)$/,
    ],
    [
      'a tripped breaker stops the zone and says who must act',
      { breakerTripped: { at: '12:00', reason: '5 of 20' } },
      {},
      0,
      ['breaker'],
      /a person must reset it/,
    ],
    [
      'a pause stops every zone',
      { paused: { by: 'ada', reason: 'incident 42' } },
      {},
      0,
      ['pause'],
      /^automation paused by ada: incident 42$/,
    ],
    [
      'the fleet-wide rate limit binds when spent',
      { startsInRateWindow: 10 },
      {},
      0,
      ['rate-limit'],
      /^10 hosts taken out in the last 60 min; the limit is 10$/,
    ],
    [
      'a breaker in percent only says so',
      { zoneHosts: 3 },
      {
        maxConcurrentPerZone: { count: 9 },
        maxOutOfServicePerZone: { count: 9 },
        breaker: { percent: 30, windowMinutes: 60 },
      },
      2,
      ['breaker'],
      /the breaker trips at take-out 2 \(30 % of 3, never below 2\)$/,
    ],
    [
      'the take-out that reaches the breaker is still allowed',
      { takenInBreakerWindow: 4 },
      { maxConcurrentPerZone: { count: 9 } },
      1,
      ['breaker'],
      /^4 hosts of zone-a taken out within 60 min; the breaker trips at take-out 5 \(5 or 30 % of 20, whichever comes first, never below 2\)$/,
    ],
  ];
  test.each(cases)('%s', (_name, snapshot, overrides, may, boundBy, why) => {
    const budget = zoneBudget({ ...budgetConfig, ...overrides }, { ...calm, ...snapshot });
    expect({ may: budget.mayTakeOutNow, boundBy: budget.boundBy }).toEqual({ may, boundBy });
    expect(budget.why).toMatch(why);
  });

  test('a budget agrees with the take-out decision: allowed exactly when it is one or more', () => {
    for (let out = 0; out <= 4; out++) {
      for (const leases of [0, 1]) {
        const s = { ...calm, zoneHosts: 5, zoneOutOfService: out, activeLeasesZone: leases };
        expect([out, leases, evaluateGuards(budgetConfig, s).allowed]).toEqual([
          out,
          leases,
          zoneBudget(budgetConfig, s).mayTakeOutNow >= 1,
        ]);
      }
    }
  });
});

/**
 * What a new operator gets: policies/guards.yaml as shipped, read the way the
 * worker reads it. One zone is the whole fleet, so the fleet-wide limits are
 * as tight as they can be for it.
 */
describe('the shipped guards at every zone size', () => {
  const shipped = parseGuards(
    'policies/guards.yaml',
    readFileSync(join(__dirname, '..', '..', 'policies', 'guards.yaml'), 'utf8'),
  );
  const zone = (hosts: number, s: Partial<FleetSnapshot> = {}): FleetSnapshot => ({
    ...calm,
    zoneHosts: hosts,
    fleetHosts: hosts,
    ...s,
  });
  const sizes = [
    { hosts: 1, outAtOnce: 1, breakerTripsAt: 2 },
    { hosts: 2, outAtOnce: 1, breakerTripsAt: 2 },
    { hosts: 3, outAtOnce: 1, breakerTripsAt: 2 },
    { hosts: 5, outAtOnce: 1, breakerTripsAt: 2 },
    { hosts: 20, outAtOnce: 3, breakerTripsAt: 5 },
    { hosts: 100, outAtOnce: 3, breakerTripsAt: 5 },
  ];

  test('are the built-in defaults, so a missing guards file is no looser', () => {
    expect(shipped).toEqual(DEFAULT_GUARDS);
  });
  test.each(sizes)('a zone of $hosts: the first take-out is allowed and does not trip the breaker', ({ hosts }) => {
    expect(evaluateGuards(shipped, zone(hosts))).toEqual({ allowed: true, tripsBreaker: null });
    expect(zoneBudget(shipped, zone(hosts)).mayTakeOutNow).toBe(1);
  });
  test.each(sizes)('a zone of $hosts: a second take-out while the first is out waits', ({ hosts }) => {
    const s = zone(hosts, {
      zoneOutOfService: 1,
      activeLeasesZone: 1,
      activeLeasesFleet: 1,
      startsInRateWindow: 1,
      takenInBreakerWindow: 1,
    });
    const verdict = evaluateGuards(shipped, s);
    expect(verdict.allowed ? [] : verdict.blockers.map((b) => b.guard)).toContain('zone-concurrency');
    expect(zoneBudget(shipped, s).mayTakeOutNow).toBe(0);
  });
  test.each(sizes)(
    'a zone of $hosts: once the first is back, the next take-out within the hour is allowed',
    ({ hosts }) => {
      const verdict = evaluateGuards(shipped, zone(hosts, { startsInRateWindow: 1, takenInBreakerWindow: 1 }));
      expect(verdict.allowed).toBe(true);
    },
  );
  test.each(sizes)(
    'a zone of $hosts: at most $outAtOnce hosts out of service for any reason',
    ({ hosts, outAtOnce }) => {
      // Hosts a person took out hold no lease: only the zone's out-of-service limit stands between them and one more.
      expect(evaluateGuards(shipped, zone(hosts, { zoneOutOfService: outAtOnce - 1 })).allowed).toBe(true);
      const full = evaluateGuards(shipped, zone(hosts, { zoneOutOfService: outAtOnce }));
      expect(full.allowed ? [] : full.blockers.map((b) => b.guard)).toEqual(['zone-out-of-service']);
    },
  );
  test.each(sizes)(
    'a zone of $hosts: take-out $breakerTripsAt within the hour trips the breaker, the one before does not',
    ({ hosts, breakerTripsAt }) => {
      const before = evaluateGuards(
        shipped,
        zone(hosts, { takenInBreakerWindow: breakerTripsAt - 2, startsInRateWindow: breakerTripsAt - 2 }),
      );
      expect(before).toEqual({ allowed: true, tripsBreaker: null });
      const at = evaluateGuards(
        shipped,
        zone(hosts, { takenInBreakerWindow: breakerTripsAt - 1, startsInRateWindow: breakerTripsAt - 1 }),
      );
      expect(at.allowed && at.tripsBreaker).toMatch(
        new RegExp(`^${breakerTripsAt} of ${hosts} hosts of zone-a taken out within 60 min`),
      );
    },
  );
});

describe('the guards file', () => {
  const load = (text: string) => parseGuards('guards.yaml', text);
  test('a file from before maxOutOfServicePerZone still loads, and its floor still applies', () => {
    const old = load('minInServicePercentPerZone: 75\nbreaker: { percent: 30, windowMinutes: 60 }\n');
    expect(old.minInServicePerZone).toEqual({ percent: 75 });
    expect(old.breaker).toEqual({ percent: 30, windowMinutes: 60 });
    expect(old.maxOutOfServicePerZone).toEqual({ count: 3, percent: 25 });
    expect(zoneBudget(old, { ...calm, zoneHosts: 3, fleetHosts: 3 }).boundBy).toEqual(['capacity-floor']);
  });
  test('the old floor and a floor in hosts combine', () => {
    expect(load('minInServicePercentPerZone: 50\nminInServicePerZone: { count: 2 }\n').minInServicePerZone).toEqual({
      count: 2,
      percent: 50,
    });
  });
  test('no floor unless the file sets one', () => {
    expect(load('').minInServicePerZone).toBeUndefined();
  });
  const bad: [string, string, RegExp][] = [
    [
      'both percent floors: the old name says it is replaced',
      'minInServicePercentPerZone: 75\nminInServicePerZone: { percent: 50 }\n',
      /minInServicePercentPerZone: replaced by minInServicePerZone.percent/,
    ],
    [
      'a breaker of one take-out names the field and the alternative',
      'breaker: { count: 1, windowMinutes: 60 }\n',
      /breaker.count: must be at least 2: .*approval/,
    ],
    [
      'a breaker with neither count nor percent',
      'breaker: { windowMinutes: 60 }\n',
      /breaker: needs count, percent or both/,
    ],
    [
      'an out-of-service limit with neither',
      'maxOutOfServicePerZone: {}\n',
      /maxOutOfServicePerZone: needs count, percent or both/,
    ],
    ['a floor with a typo', 'minInServicePerZone: { hosts: 2 }\n', /minInServicePerZone: .*hosts/],
  ];
  test.each(bad)('%s', (_name, text, message) => {
    expect(() => load(text)).toThrow(message);
  });
});

describe('limitFor', () => {
  const cases: [string, Parameters<typeof limitFor>[0], number, number][] = [
    ['a count is a count', { count: 3 }, 100, 3],
    ['a percentage of the set', { percent: 10 }, 40, 4],
    ['a percentage never rounds below one host', { percent: 10 }, 5, 1],
    ['count and percentage: the stricter wins', { count: 3, percent: 50 }, 20, 3],
    ['no limit at all is unlimited', {}, 20, Infinity],
  ];
  test.each(cases)('%s', (_name, limit, total, expected) => {
    expect(limitFor(limit, total)).toBe(expected);
  });
});

describe('repeatOffence', () => {
  const now = new Date('2026-11-24T12:00:00Z');
  const cases: [string, string | null, number, RegExp | null][] = [
    ['a host never remediated is fine', null, 1, null],
    ['a host fixed 10 min ago is inside a 30 min cooldown', '2026-11-24T11:50:00Z', 2, /cooldown 30 min/],
    ['a host fixed 2 h ago is fine', '2026-11-24T10:00:00Z', 2, null],
    ['a 4th attempt within the window exceeds 3', '2026-11-24T10:00:00Z', 4, /4 remediations of this host/],
  ];
  test.each(cases)('%s', (_name, lastEnded, attempts, expected) => {
    const r = repeatOffence(config, { lastActedEndedAt: lastEnded, attemptsInWindow: attempts }, now);
    if (expected) expect(r).toMatch(expected);
    else expect(r).toBeNull();
  });
});

describe('maintenance windows', () => {
  const berlinNights: MaintenanceWindow = {
    name: 'nights',
    effect: 'allow',
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    start: '22:00',
    end: '06:00',
    timezone: 'Europe/Berlin',
  };
  const cases: [string, MaintenanceWindow, string, boolean][] = [
    ['Tuesday 23:30 Berlin (22:30 UTC) is inside a 22:00–06:00 window', berlinNights, '2026-11-24T22:30:00Z', true],
    ['Wednesday 03:00 Berlin belongs to Tuesday night', berlinNights, '2026-11-25T02:00:00Z', true],
    ['Tuesday 12:00 Berlin is outside', berlinNights, '2026-11-24T11:00:00Z', false],
    ['Saturday 03:00 Berlin belongs to Friday night', berlinNights, '2026-11-28T02:00:00Z', true],
    ['Sunday 03:00 Berlin is outside (Saturday is not listed)', berlinNights, '2026-11-29T02:00:00Z', false],
    [
      'seconds count: 10:00:30 is inside 10:00:15–10:01',
      { name: 's', effect: 'allow', days: ['tue'], start: '10:00:15', end: '10:01', timezone: 'UTC' },
      '2026-11-24T10:00:30Z',
      true,
    ],
    [
      'the end is exclusive',
      { name: 'e', effect: 'allow', days: ['tue'], start: '10:00', end: '11:00', timezone: 'UTC' },
      '2026-11-24T11:00:00Z',
      false,
    ],
  ];
  test.each(cases)('%s', (_name, window, at, inside) => {
    expect(isInside(window, new Date(at))).toBe(inside);
  });

  test('a forbid window wins over an allow window', () => {
    const freeze: MaintenanceWindow = {
      name: 'freeze',
      effect: 'forbid',
      days: ['tue'],
      start: '00:00',
      end: '23:59',
      timezone: 'UTC',
    };
    const always: MaintenanceWindow = {
      name: 'always',
      effect: 'allow',
      days: ['tue'],
      start: '00:00',
      end: '23:59',
      timezone: 'UTC',
    };
    expect(windowVerdict([always, freeze], new Date('2026-11-24T12:00:00Z'))).toEqual({
      open: false,
      reason: 'inside forbidding window "freeze"',
    });
  });
  test('no windows at all means always open', () => {
    expect(windowVerdict([], new Date())).toEqual({ open: true });
  });

  test('the occurrence a time is inside: a night window found from both sides of midnight, to the minute', () => {
    const tuesdayNight = { start: new Date('2026-11-24T21:00:00Z'), end: new Date('2026-11-25T05:00:00Z') };
    expect(windowOccurrence(berlinNights, new Date('2026-11-24T22:30:00Z'))).toEqual(tuesdayNight);
    expect(windowOccurrence(berlinNights, new Date('2026-11-25T04:59:30Z'))).toEqual(tuesdayNight);
    expect(windowOccurrence(berlinNights, new Date('2026-11-24T11:00:00Z'))).toBeNull();
  });

  test('an occurrence over several listed days in a row is one stretch', () => {
    const weekend: MaintenanceWindow = {
      name: 'weekend',
      effect: 'forbid',
      days: ['sat', 'sun'],
      start: '00:00',
      end: '23:59',
      timezone: 'UTC',
    };
    expect(windowOccurrence(weekend, new Date('2026-11-28T12:07:00Z'))).toEqual({
      start: new Date('2026-11-28T00:00:00Z'),
      end: new Date('2026-11-28T23:59:00Z'),
    });
  });
});

describe('simulate judges a zone as the lease would', () => {
  const policy = {
    name: 'host-down',
    version: '1',
    approval: { required: false, timeoutSeconds: 60 },
    drain: { emptyTimeoutSeconds: 60 },
    repair: ['power-cycle' as const],
    verify: { attempts: 3, intervalSeconds: 1 },
  };
  const policies = [
    {
      name: 'host-down',
      match: { signals: ['HostDown'], labels: [], severities: null, roles: null, zones: null },
      policy,
    },
  ];
  const hosts = (n: number, out: number[]) =>
    Object.fromEntries(
      Array.from({ length: n }, (_, i) => [
        `h${i + 1}`,
        {
          zone: 'zone-a',
          roles: ['compute'],
          outOfService: out.includes(i + 1),
          hasOpenRemediation: out.includes(i + 1),
        },
      ]),
    );
  const signal = (host: string) => ({
    signalId: null,
    name: 'HostDown',
    host,
    labels: {},
    severity: 'critical' as const,
    status: 'firing' as const,
  });
  const guards: GuardConfig = {
    ...DEFAULT_GUARDS,
    maxConcurrentPerZone: { count: 5 },
    maxConcurrentFleet: { percent: 100 },
  };
  const fleet = (out: number[]) => ({
    hosts: hosts(20, out),
    activeLeasesByZone: { 'zone-a': out.length },
    takenInBreakerWindowByZone: {},
    startsInRateWindow: 0,
    trippedZones: {},
    paused: null,
    now: calm.now,
  });

  const cases: [string, number[], string[], string[]][] = [
    [
      'two hosts under remediation (out and leased) count once each: one more may start',
      [1, 2],
      ['h3'],
      ['would-start'],
    ],
    ['a third out leaves no room: 3 of 20 at most', [1, 2, 3], ['h4'], ['would-wait']],
    [
      'a start within the replay counts as out for the signals after it',
      [1],
      ['h2', 'h3', 'h4'],
      ['would-start', 'would-start', 'would-wait'],
    ],
    [
      'a host that would wait is not out: the one after it is judged the same',
      [1, 2, 3],
      ['h4', 'h5'],
      ['would-wait', 'would-wait'],
    ],
    ['a second signal for a host that would wait joins it', [1, 2, 3], ['h4', 'h4'], ['would-wait', 'would-join']],
  ];
  test.each(cases)('%s', (_name, out, alerting, expected) => {
    const results = simulatePolicies(policies, alerting.map(signal), fleet(out), guards);
    expect(results.map((r) => r.outcome)).toEqual(expected);
  });
});
