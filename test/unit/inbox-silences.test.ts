/** Silences, row by row: reading one a person wrote, which applies to an alert, and ending on resolve. */
import {
  activeSilence,
  fromStored,
  matcherText,
  readSilence,
  silencesEndedBy,
  type Silence,
  type SilenceInput,
} from '../../domain/silences';

const NOW = new Date('2026-11-28T08:00:00Z');
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);

const input = (over: Partial<SilenceInput> = {}): SilenceInput => ({
  matchers: ['rack="r7"'],
  startsAt: '2026-11-28T07:00:00Z',
  endsAt: '2026-11-28T12:00:00Z',
  createdBy: 'carol',
  comment: 'rack r7 re-cabling',
  ...over,
});
/** A silence read from `matchers`, active from an hour ago for `hours`. */
function silence(id: string, matchers: string[], over: Partial<Silence> = {}): Silence {
  const read = readSilence(id, input({ matchers }), NOW);
  if (!('silence' in read)) throw new Error(JSON.stringify(read.problems));
  return { ...read.silence, ...over };
}

describe('readSilence: a silence a person wrote, or every problem naming its field', () => {
  test('a valid silence is read with its matchers compiled', () => {
    const read = readSilence('s-1', input({ matchers: ['rack="r7"', 'instance=~"cmp-.*"'], endOnResolve: true }), NOW);
    expect(read).toMatchObject({
      silence: {
        id: 's-1',
        startsAt: new Date('2026-11-28T07:00:00Z'),
        endsAt: new Date('2026-11-28T12:00:00Z'),
        createdBy: 'carol',
        comment: 'rack r7 re-cabling',
        endOnResolve: true,
        endedAt: null,
      },
    });
    expect('silence' in read && read.silence.matchers.map(matcherText)).toEqual(['rack="r7"', 'instance=~"cmp-.*"']);
  });

  test.each([
    [
      'no matchers',
      { matchers: [] },
      [{ field: 'matchers', problem: expect.stringContaining('at least one matcher') }],
    ],
    [
      'a malformed matcher, by its index',
      { matchers: ['rack="r7"', 'rack r8'] },
      [{ field: 'matchers.1', problem: expect.stringContaining('must be a matcher like') }],
    ],
    [
      'a pattern RE2 refuses',
      { matchers: ['instance=~"(a)\\\\1"'] },
      [
        {
          field: 'matchers.0',
          problem: expect.stringMatching(/label "instance": .* is not an RE2 regular expression/),
        },
      ],
    ],
    [
      'matchers that would silence everything',
      { matchers: ['job=~".*"', 'env!="prod"'] },
      [{ field: 'matchers', problem: expect.stringContaining('would silence everything') }],
    ],
    [
      'a start that is not a time',
      { startsAt: 'tomorrow' },
      [{ field: 'startsAt', problem: expect.stringContaining('"tomorrow" is not an ISO 8601 time') }],
    ],
    [
      'an impossible date',
      { endsAt: '2026-13-40T00:00:00Z' },
      [{ field: 'endsAt', problem: expect.stringContaining('is not an ISO 8601 time') }],
    ],
    [
      'a start after the end',
      { startsAt: '2026-11-28T13:00:00Z' },
      [{ field: 'endsAt', problem: '2026-11-28T12:00:00Z is not after startsAt 2026-11-28T13:00:00Z' }],
    ],
    [
      'an end already past',
      { startsAt: '2026-11-28T06:00:00Z', endsAt: '2026-11-28T07:30:00Z' },
      [{ field: 'endsAt', problem: '2026-11-28T07:30:00Z has already passed; a silence must end in the future' }],
    ],
    ['no creator', { createdBy: ' ' }, [{ field: 'createdBy', problem: 'must not be empty' }]],
    ['no comment', { comment: '' }, [{ field: 'comment', problem: 'must not be empty' }]],
    [
      'a comment PostgreSQL cannot store',
      { comment: 'a\u0000b' },
      [{ field: 'comment', problem: expect.stringContaining('NUL') }],
    ],
    [
      'a comment too long',
      { comment: 'x'.repeat(2001) },
      [{ field: 'comment', problem: 'is 2001 characters long; at most 2000' }],
    ],
    [
      'several problems at once, each named',
      { matchers: [], comment: '', endsAt: 'soon' },
      [
        { field: 'matchers', problem: expect.any(String) },
        { field: 'endsAt', problem: expect.any(String) },
        { field: 'comment', problem: expect.any(String) },
      ],
    ],
  ] as [string, Partial<SilenceInput>, unknown[]][])('%s', (_what, over, problems) => {
    expect(readSilence('s-1', input(over), NOW)).toEqual({ problems });
  });
});

describe('activeSilence: the silence that applies to an alert now', () => {
  const r7 = { rack: 'r7', instance: 'cmp-a-03' };
  const firing = { labels: r7, resolvedAt: null };
  const cases: [string, { labels: Record<string, string>; resolvedAt: Date | null }, Silence[], string | null][] = [
    ['a silence whose matchers all hold applies', firing, [silence('s-1', ['rack="r7"'])], 's-1'],
    ['one matcher that fails: it does not apply', firing, [silence('s-1', ['rack="r7"', 'instance="cmp-b-01"'])], null],
    ['!= applies to another value', firing, [silence('s-1', ['rack="r7"', 'instance!="cmp-b-01"'])], 's-1'],
    ['!= does not apply to the same value', firing, [silence('s-1', ['rack="r7"', 'instance!="cmp-a-03"'])], null],
    ['=~ must match the whole value', firing, [silence('s-1', ['instance=~"cmp-a"'])], null],
    [
      '!~ applies when the pattern does not match',
      firing,
      [silence('s-1', ['rack="r7"', 'instance!~"cmp-b-.*"'])],
      's-1',
    ],
    ['not started yet: does not apply', firing, [silence('s-1', ['rack="r7"'], { startsAt: at(10) })], null],
    ['from its start on: applies', firing, [silence('s-1', ['rack="r7"'], { startsAt: NOW })], 's-1'],
    ['at its end: no longer applies', firing, [silence('s-1', ['rack="r7"'], { endsAt: NOW })], null],
    [
      'ended early (expired by a person): no longer applies',
      firing,
      [silence('s-1', ['rack="r7"'], { endedAt: at(-5) })],
      null,
    ],
    [
      'end on resolve: the alert resolved after the silence began, so it no longer applies to it',
      { labels: r7, resolvedAt: at(-10) },
      [silence('s-1', ['rack="r7"'], { endOnResolve: true })],
      null,
    ],
    [
      'end on resolve: an alert that resolved before the silence began is still silenced',
      { labels: r7, resolvedAt: at(-120) },
      [silence('s-1', ['rack="r7"'], { endOnResolve: true })],
      's-1',
    ],
    [
      'without end on resolve, a resolved alert stays silenced until the end',
      { labels: r7, resolvedAt: at(-10) },
      [silence('s-1', ['rack="r7"'])],
      's-1',
    ],
    [
      'end on resolve: once the resolution was recorded, the silence is over for a new firing too',
      firing,
      [silence('s-1', ['rack="r7"'], { endOnResolve: true, endedAt: at(-10) })],
      null,
    ],
    [
      'of two, the one that lasts longest',
      firing,
      [silence('short', ['rack="r7"'], { endsAt: at(60) }), silence('long', ['rack="r7"'], { endsAt: at(600) })],
      'long',
    ],
    [
      'an early end counts in which lasts longest',
      firing,
      [
        silence('cut', ['rack="r7"'], { endsAt: at(600), endedAt: at(30) }),
        silence('whole', ['rack="r7"'], { endsAt: at(60) }),
      ],
      'whole',
    ],
    ['no silences: null', firing, [], null],
  ];
  test.each(cases)('%s', (_what, alert, silences, expected) => {
    expect(activeSilence(alert, silences, NOW)?.id ?? null).toBe(expected);
  });
});

describe('silencesEndedBy: which end-on-resolve silences an alert resolving ends', () => {
  const labels = { rack: 'r7' };
  test.each([
    [
      'an active end-on-resolve silence that matched it',
      [silence('s-1', ['rack="r7"'], { endOnResolve: true })],
      ['s-1'],
    ],
    ['a silence without end on resolve keeps going', [silence('s-1', ['rack="r7"'])], []],
    ['a silence that did not match it keeps going', [silence('s-1', ['rack="r8"'], { endOnResolve: true })], []],
    [
      'a silence not yet started keeps going',
      [silence('s-1', ['rack="r7"'], { endOnResolve: true, startsAt: at(5) })],
      [],
    ],
    [
      'a silence already ended is not ended again',
      [silence('s-1', ['rack="r7"'], { endOnResolve: true, endedAt: at(-1) })],
      [],
    ],
  ])('%s', (_what, silences, expected) => {
    expect(silencesEndedBy(labels, NOW, silences).map((s) => s.id)).toEqual(expected);
  });
});

describe('fromStored: a stored silence comes back with its matchers compiled', () => {
  const stored = {
    id: 's-9',
    matchers: ['instance=~"cmp-(a|b)-.*"', 'msg="say \\"hi\\""'],
    startsAt: at(-60),
    endsAt: at(60),
    createdBy: 'carol',
    comment: 'c',
    endOnResolve: false,
    endedAt: null,
  };
  test('the matchers work and read back as written', () => {
    const s = fromStored(stored);
    expect(activeSilence({ labels: { instance: 'cmp-b-7', msg: 'say "hi"' }, resolvedAt: null }, [s], NOW)?.id).toBe(
      's-9',
    );
    expect(s.matchers.map(matcherText)).toEqual(stored.matchers);
  });
  test('a matcher that no longer reads is an error naming the silence and the matcher', () => {
    expect(() => fromStored({ ...stored, matchers: ['rack="r7"', 'bad'] })).toThrow(
      /^silence s-9: matchers\.1: must be a matcher/,
    );
  });
});
