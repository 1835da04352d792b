/** Flap detection, row by row: Nagios's weighted percent state change, hysteresis, the quiet period. */
import {
  flapSettingsProblems,
  flapState,
  lastStateChange,
  percentStateChange,
  DEFAULT_FLAP_SETTINGS,
  type FlapObservation,
  type FlapSettings,
  type FlapVerdict,
} from '../../domain/flapping';

const NOW = new Date('2026-11-28T08:00:00Z');
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

/** Observations one minute apart, oldest first, the last `endMinutesAgo` before now: F fires, R resolved. */
function history(pattern: string, endMinutesAgo = 0): FlapObservation[] {
  return [...pattern].map((c, i) => ({
    at: ago(endMinutesAgo + pattern.length - 1 - i),
    status: c === 'F' ? 'firing' : 'resolved',
  }));
}
const steady = (n: number) => 'F'.repeat(n);
/** n state changes at the newest end of a 21-observation window. */
const newestFlips = (n: number) => steady(20 - n) + 'FR'.repeat(11).slice(0, n + 1);
/** n state changes at the oldest end of a 21-observation window, then steady. */
const oldestFlips = (n: number) => {
  const flips = 'FR'.repeat(11).slice(0, n + 1);
  return flips + flips.slice(-1).repeat(21 - flips.length);
};

describe('percentStateChange: weighted 0.75 (oldest) to 1.25 (newest), as Nagios', () => {
  test.each([
    ['a steady alert: 0%', steady(21), 0],
    ['a change at every observation: 100%', 'FR'.repeat(11).slice(0, 21), 100],
    ['nine changes at the newest end: 51.5%', newestFlips(9), 51.5],
    ['eight changes at the newest end: 46.3%', newestFlips(8), 46.3],
    ['seven changes at the oldest end weigh less: 29%', oldestFlips(7), 29],
    ['six changes at the oldest end: 24.5%', oldestFlips(6), 24.5],
    ['a short history fills its old end with no change: F R F is 12.4%, not 100%', 'FRF', 12.4],
    ['only the last 21 observations count', 'FR'.repeat(20) + steady(21), 0],
    ['no observations: 0%', '', 0],
  ])('%s', (_what, pattern, expected) => {
    expect(percentStateChange(history(pattern), 21)).toBe(expected);
  });

  test('with three observations, the two transitions weigh 0.75 and 1.25', () => {
    expect(percentStateChange(history('FFR'), 3)).toBe(62.5);
    expect(percentStateChange(history('FRR'), 3)).toBe(37.5);
  });
});

describe('flapState: starts above 50 %, stops below 25 %, and ends after a quiet period', () => {
  const of = '% state change over the last 21 observations';
  const cases: [string, FlapObservation[], boolean, FlapVerdict][] = [
    [
      'a steady alert does not flap',
      history(steady(21)),
      false,
      { flapping: false, percent: 0, reason: 'no state change for 30 min: steady' },
    ],
    [
      'above the start threshold, a calm alert starts flapping',
      history(newestFlips(9)),
      false,
      { flapping: true, percent: 51.5, reason: `51.5${of}, above 50%: flapping` },
    ],
    [
      'between the thresholds, a calm alert stays calm',
      history(newestFlips(8)),
      false,
      { flapping: false, percent: 46.3, reason: `46.3${of}, not above 50%: not flapping` },
    ],
    [
      'between the thresholds, a flapping alert keeps flapping (hysteresis)',
      history(newestFlips(8)),
      true,
      { flapping: true, percent: 46.3, reason: `46.3${of}, not below 25%: still flapping` },
    ],
    [
      'just above the stop threshold, a flapping alert keeps flapping',
      history(oldestFlips(7), 0),
      true,
      { flapping: true, percent: 29, reason: `29${of}, not below 25%: still flapping` },
    ],
    [
      'below the stop threshold, a flapping alert stops',
      history(oldestFlips(6)),
      true,
      { flapping: false, percent: 24.5, reason: `24.5${of}, below 25%: flapping stopped` },
    ],
    [
      'a quiet period ends flapping whatever the percentage',
      history('FR'.repeat(10) + 'F', 30),
      true,
      { flapping: false, percent: 100, reason: 'no state change for 30 min: flapping stopped' },
    ],
    [
      'just inside the quiet period, a flapping alert keeps flapping',
      history('FR'.repeat(10) + 'F', 29),
      true,
      { flapping: true, percent: 100, reason: `100${of}, not below 25%: still flapping` },
    ],
    [
      'an old burst of changes does not start flapping once quiet',
      history('FR'.repeat(10) + 'F', 45),
      false,
      { flapping: false, percent: 100, reason: 'no state change for 30 min: steady' },
    ],
    [
      'a quiet period counts from the last change, not the last repeat',
      [...history('FR'.repeat(10) + 'F', 40), ...history(steady(5))],
      true,
      { flapping: false, percent: 70.1, reason: 'no state change for 30 min: flapping stopped' },
    ],
  ];
  test.each(cases)('%s', (_what, h, previous, expected) => {
    expect(flapState(h, previous, NOW)).toEqual(expected);
  });

  describe('the hysteresis edges: start strictly above, stop strictly below', () => {
    const three = (start: number, stop: number): FlapSettings => ({
      observations: 3,
      startPercent: start,
      stopPercent: stop,
      quietMinutes: 30,
    });
    test.each([
      ['exactly at the start threshold does not start', history('FFR'), false, three(62.5, 25), false],
      ['just above the start threshold starts', history('FFR'), false, three(62.4, 25), true],
      ['exactly at the stop threshold keeps flapping', history('FRR'), true, three(50, 37.5), true],
      ['just below the stop threshold stops', history('FRR'), true, three(50, 37.6), false],
    ])('%s', (_what, h, previous, settings, expected) => {
      expect(flapState(h, previous, NOW, settings).flapping).toBe(expected);
    });
  });
});

describe('lastStateChange', () => {
  test.each([
    ['the time of the newest observation that changed state', history('FFRRR'), ago(2)],
    ['never changed: null', history('FFF'), null],
    ['no observations: null', [], null],
  ])('%s', (_what, h, expected) => {
    expect(lastStateChange(h)).toEqual(expected);
  });
});

describe('flapSettingsProblems: each names the field', () => {
  test.each([
    ['the defaults are valid', DEFAULT_FLAP_SETTINGS, []],
    [
      'too few observations',
      { ...DEFAULT_FLAP_SETTINGS, observations: 2 },
      ['observations: must be a whole number of at least 3'],
    ],
    [
      'stop above start has no hysteresis',
      { ...DEFAULT_FLAP_SETTINGS, stopPercent: 60 },
      ['stopPercent: must be from 0 to startPercent (hysteresis: stop at or below where flapping starts)'],
    ],
    [
      'a start above 100%',
      { ...DEFAULT_FLAP_SETTINGS, startPercent: 120 },
      ['startPercent: must be above 0 and at most 100'],
    ],
    ['no quiet period', { ...DEFAULT_FLAP_SETTINGS, quietMinutes: 0 }, ['quietMinutes: must be above 0']],
  ])('%s', (_what, settings, expected) => {
    expect(flapSettingsProblems(settings)).toEqual(expected);
  });
});
