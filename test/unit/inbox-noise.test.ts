/** The noise report: items per monitoring rule, the share automation closed, the flappers. */
import type { InboxStateView } from '../../domain/inbox';
import { closedBy, noiseReport, type NoiseItem } from '../../domain/inbox-noise';

const item = (name: string, over: Partial<NoiseItem> = {}): NoiseItem => ({
  name,
  source: 'alertmanager',
  closedBy: 'automation',
  flapping: false,
  ...over,
});

describe('noiseReport', () => {
  const items = [
    item('HostDown'),
    item('HostDown'),
    item('HostDown', { closedBy: 'person' }),
    item('HostDown', { closedBy: null }),
    item('RedfishPsuWarning', { source: 'telemetry', closedBy: 'source', flapping: true }),
    item('RedfishPsuWarning', { source: 'telemetry', closedBy: 'source', flapping: true }),
    item('DiskFull', { closedBy: 'person', flapping: true }),
    item('RedfishPsuWarning', { closedBy: 'person' }),
  ];
  const report = noiseReport(items);

  test('a rule is a source and an alert name: the same name from two sources is two rules', () => {
    expect(report.rules.map((r) => `${r.source}/${r.name}`)).toEqual([
      'alertmanager/HostDown',
      'telemetry/RedfishPsuWarning',
      'alertmanager/DiskFull',
      'alertmanager/RedfishPsuWarning',
    ]);
  });

  test('each rule counts its items by who closed them; the automation share is of closed items only', () => {
    expect(report.rules[0]).toEqual({
      source: 'alertmanager',
      name: 'HostDown',
      items: 4,
      open: 1,
      closedByAutomation: 2,
      closedByPerson: 1,
      closedBySource: 0,
      automationShare: 2 / 3,
      flapping: 0,
    });
  });

  test('most items first; at equal items, most flapping first, then by source and name', () => {
    expect(report.rules.slice(2).map((r) => [r.name, r.items, r.flapping])).toEqual([
      ['DiskFull', 1, 1],
      ['RedfishPsuWarning', 1, 0],
    ]);
  });

  test('the flappers: rules with flapping items, most first', () => {
    expect(report.flappers.map((r) => [r.source, r.name, r.flapping])).toEqual([
      ['telemetry', 'RedfishPsuWarning', 2],
      ['alertmanager', 'DiskFull', 1],
    ]);
  });

  test('totals over every item', () => {
    expect(report.totals).toEqual({
      items: 8,
      open: 1,
      closedByAutomation: 2,
      closedByPerson: 3,
      closedBySource: 2,
      automationShare: 2 / 7,
      flapping: 3,
    });
  });

  test.each([
    ['no items: an empty report, no share', [], { rules: [], flappers: [], share: null }],
    ['only open items: no share yet', [item('X', { closedBy: null })], { rules: ['X'], flappers: [], share: null }],
  ] as [string, NoiseItem[], { rules: string[]; flappers: string[]; share: number | null }][])(
    '%s',
    (_what, input, expected) => {
      const r = noiseReport(input);
      expect({
        rules: r.rules.map((x) => x.name),
        flappers: r.flappers.map((x) => x.name),
        share: r.totals.automationShare,
      }).toEqual(expected);
    },
  );
});

describe('closedBy: who closed an item, from its state', () => {
  const view = (over: Partial<InboxStateView>): InboxStateView => ({
    state: 'resolved',
    reason: 'r',
    since: new Date('2026-11-28T08:00:00Z'),
    ...over,
  });
  test.each([
    ['a verified return is automation', view({ how: 'verified' }), 'automation'],
    ["a person's resolution is the person", view({ how: 'person' }), 'person'],
    ['the source resolving is the source', view({ how: 'source' }), 'source'],
    ['an item not resolved is open', view({ state: 'needs-person' }), null],
  ])('%s', (_what, v, expected) => {
    expect(closedBy(v)).toBe(expected);
  });
});
