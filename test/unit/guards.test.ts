/** Every guard, table-driven: one line of description per case. */
import { evaluateGuards, limitFor, repeatOffence, type FleetSnapshot, type GuardConfig } from '../../domain/guards';
import { isInside, windowVerdict, type MaintenanceWindow } from '../../domain/windows';

const config: GuardConfig = {
  maxConcurrentPerZone: { count: 2 },
  maxConcurrentFleet: { percent: 10 },
  minInServicePercentPerZone: 75,
  rateLimit: { starts: 5, windowMinutes: 10 },
  cooldownMinutes: 30,
  maxAttempts: { count: 3, windowMinutes: 1440 },
  breaker: { percent: 30, windowMinutes: 60 },
  windows: [],
  waitTimeoutMinutes: 60,
  pollSeconds: 10,
};
const calm: FleetSnapshot = {
  now: new Date('2026-11-24T12:00:00Z'), zone: 'zone-a', zoneHosts: 20, fleetHosts: 40, zoneOutOfService: 0,
  activeLeasesZone: 0, activeLeasesFleet: 0, startsInRateWindow: 0, takenInBreakerWindow: 0, breakerTripped: null, paused: null,
};

describe('evaluateGuards', () => {
  const cases: [string, Partial<FleetSnapshot>, Partial<GuardConfig>, string[]][] = [
    ['a calm fleet allows', {}, {}, []],
    ['a global pause blocks', { paused: { by: 'ada', reason: 'incident 42' } }, {}, ['pause']],
    ['a tripped breaker blocks its zone', { breakerTripped: { at: 't', reason: 'r' } }, {}, ['breaker']],
    ['the zone cap blocks at the cap', { activeLeasesZone: 2 }, {}, ['zone-concurrency']],
    ['the zone cap allows below it', { activeLeasesZone: 1 }, {}, []],
    ['the fleet cap (10 % of 40 = 4) blocks at 4', { activeLeasesFleet: 4 }, {}, ['fleet-concurrency']],
    ['the capacity floor blocks when one more host would go below 75 %', { zoneOutOfService: 5 }, {}, ['capacity-floor']],
    ['the capacity floor allows down to exactly 75 %', { zoneOutOfService: 4 }, {}, []],
    ['vCPU headroom: the others cannot take this host\'s vCPUs', { zoneVcpus: { candidateUsed: 40, othersTotal: 100, othersUsed: 70 } }, { minFreeVcpuPercentPerZone: 0 }, ['vcpu-headroom']],
    ['vCPU headroom: they can, but would keep less than 10 % free', { zoneVcpus: { candidateUsed: 20, othersTotal: 100, othersUsed: 71 } }, { minFreeVcpuPercentPerZone: 10 }, ['vcpu-headroom']],
    ['vCPU headroom: exactly 10 % free is enough', { zoneVcpus: { candidateUsed: 20, othersTotal: 100, othersUsed: 70 } }, { minFreeVcpuPercentPerZone: 10 }, []],
    ['vCPU headroom: not applied before the sweep has read the zone', { zoneVcpus: undefined }, { minFreeVcpuPercentPerZone: 99 }, []],
    ['the rate limit blocks at its count', { startsInRateWindow: 5 }, {}, ['rate-limit']],
    ['a closed allow window blocks', {}, { windows: [{ name: 'nights', effect: 'allow', days: ['tue'], start: '01:00', end: '05:00', timezone: 'UTC' }] }, ['maintenance-window']],
    ['several guards block together, each named', { paused: { by: 'a', reason: 'b' }, activeLeasesZone: 9, startsInRateWindow: 9 }, {}, ['pause', 'zone-concurrency', 'rate-limit']],
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
    const verdict = evaluateGuards({ ...config, maxConcurrentPerZone: { count: 20 }, maxConcurrentFleet: { count: 40 }, minInServicePercentPerZone: 0, rateLimit: { starts: 99, windowMinutes: 1 } }, { ...calm, takenInBreakerWindow: taken });
    expect(verdict.allowed && verdict.tripsBreaker !== null).toBe(trips);
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
  const berlinNights: MaintenanceWindow = { name: 'nights', effect: 'allow', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '06:00', timezone: 'Europe/Berlin' };
  const cases: [string, MaintenanceWindow, string, boolean][] = [
    ['Tuesday 23:30 Berlin (22:30 UTC) is inside a 22:00–06:00 window', berlinNights, '2026-11-24T22:30:00Z', true],
    ['Wednesday 03:00 Berlin belongs to Tuesday night', berlinNights, '2026-11-25T02:00:00Z', true],
    ['Tuesday 12:00 Berlin is outside', berlinNights, '2026-11-24T11:00:00Z', false],
    ['Saturday 03:00 Berlin belongs to Friday night', berlinNights, '2026-11-28T02:00:00Z', true],
    ['Sunday 03:00 Berlin is outside (Saturday is not listed)', berlinNights, '2026-11-29T02:00:00Z', false],
    ['seconds count: 10:00:30 is inside 10:00:15–10:01', { name: 's', effect: 'allow', days: ['tue'], start: '10:00:15', end: '10:01', timezone: 'UTC' }, '2026-11-24T10:00:30Z', true],
    ['the end is exclusive', { name: 'e', effect: 'allow', days: ['tue'], start: '10:00', end: '11:00', timezone: 'UTC' }, '2026-11-24T11:00:00Z', false],
  ];
  test.each(cases)('%s', (_name, window, at, inside) => {
    expect(isInside(window, new Date(at))).toBe(inside);
  });

  test('a forbid window wins over an allow window', () => {
    const freeze: MaintenanceWindow = { name: 'freeze', effect: 'forbid', days: ['tue'], start: '00:00', end: '23:59', timezone: 'UTC' };
    const always: MaintenanceWindow = { name: 'always', effect: 'allow', days: ['tue'], start: '00:00', end: '23:59', timezone: 'UTC' };
    expect(windowVerdict([always, freeze], new Date('2026-11-24T12:00:00Z'))).toEqual({ open: false, reason: 'inside forbidding window "freeze"' });
  });
  test('no windows at all means always open', () => {
    expect(windowVerdict([], new Date())).toEqual({ open: true });
  });
});
