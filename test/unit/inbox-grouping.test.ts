/** Which inbox item a signal joins, row by row: fingerprint, resource and alert, topology within the window. */
import {
  groupSignal,
  groupingSettingsProblems,
  inboxTitle,
  topologyKey,
  topologyOf,
  DEFAULT_GROUPING,
  type GroupingDecision,
  type InboxAlertRef,
  type InboxSignal,
  type OpenInboxItem,
} from '../../domain/inbox-grouping';

const T0 = new Date('2026-11-28T06:56:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

const signal = (over: Partial<InboxSignal> = {}): InboxSignal => ({
  source: 'alertmanager',
  name: 'HostDown',
  resource: 'cmp-a-03',
  fingerprint: 'fp-new',
  labels: {},
  severity: 'critical',
  status: 'firing',
  receivedAt: minutes(2),
  ...over,
});
const alert = (resource: string, over: Partial<InboxAlertRef> = {}): InboxAlertRef => ({
  fingerprint: `fp-${resource}`,
  name: 'HostDown',
  resource,
  topology: {},
  ...over,
});
const hostItem = (id: string, alerts: InboxAlertRef[], firstSeen = T0): OpenInboxItem => ({
  id,
  kind: 'resource',
  key: `resource/${alerts[0]!.resource}/${alerts[0]!.name}`,
  topology: null,
  alerts,
  firstSeen,
  lastSeen: firstSeen,
});
const rackItem = (id: string, value: string, resources: string[], firstSeen = T0): OpenInboxItem => ({
  id,
  kind: 'topology',
  key: topologyKey({ label: 'rack', value }, firstSeen),
  topology: { label: 'rack', value },
  alerts: resources.map((r) => alert(r, { topology: { rack: value } })),
  firstSeen,
  lastSeen: firstSeen,
});
const r7 = { rack: 'r7' };

describe('groupSignal: which item a signal belongs to, and why', () => {
  const cases: [string, InboxSignal, OpenInboxItem[], Partial<GroupingDecision>][] = [
    [
      'a signal with an open item of the same fingerprint joins it',
      signal({ fingerprint: 'fp-cmp-a-03' }),
      [hostItem('i1', [alert('cmp-a-03')])],
      { action: 'join', itemId: 'i1', reason: 'same fingerprint fp-cmp-a-03' },
    ],
    [
      'of two items holding the fingerprint, the most recently seen wins',
      signal({ fingerprint: 'fp-x' }),
      [
        { ...hostItem('old', [alert('a', { fingerprint: 'fp-x' })]), lastSeen: minutes(0) },
        { ...hostItem('new', [alert('b', { fingerprint: 'fp-x' })]), lastSeen: minutes(1) },
      ],
      { action: 'join', itemId: 'new' },
    ],
    [
      'a new fingerprint of the same resource and alert name joins that item',
      signal({ fingerprint: 'fp-other' }),
      [hostItem('i1', [alert('cmp-a-03')])],
      { action: 'join', itemId: 'i1', reason: 'same resource cmp-a-03 and alert HostDown' },
    ],
    [
      'the fingerprint rule comes before the resource rule',
      signal({ fingerprint: 'fp-cmp-a-03' }),
      [hostItem('by-resource', [alert('cmp-a-03', { fingerprint: 'fp-z' })]), hostItem('by-fp', [alert('cmp-a-03')])],
      { action: 'join', itemId: 'by-fp' },
    ],
    [
      'another alert name on the same resource makes its own item',
      signal({ name: 'DiskFull' }),
      [hostItem('i1', [alert('cmp-a-03')])],
      { action: 'new', kind: 'resource', key: 'resource/cmp-a-03/DiskFull', reason: 'first DiskFull on cmp-a-03' },
    ],
    [
      'with no open item, a new resource item is made',
      signal(),
      [],
      { action: 'new', kind: 'resource', key: 'resource/cmp-a-03/HostDown' },
    ],
    [
      'a second host of the same rack within the window merges with the first into a rack item',
      signal({ resource: 'cmp-a-04', labels: r7 }),
      [hostItem('i1', [alert('cmp-a-03', { topology: r7 })])],
      {
        action: 'merge',
        itemId: 'i1',
        fold: [],
        topology: { label: 'rack', value: 'r7' },
        key: topologyKey({ label: 'rack', value: 'r7' }, T0),
        reason: 'cmp-a-04 shares rack r7 with cmp-a-03 within 5 min',
      },
    ],
    [
      'several host items of the rack: the oldest becomes the rack item, the others fold into it',
      signal({ resource: 'cmp-a-05', labels: r7 }),
      [
        hostItem('later', [alert('cmp-a-04', { topology: r7 })], minutes(1)),
        hostItem('first', [alert('cmp-a-03', { topology: r7 })], minutes(0)),
      ],
      { action: 'merge', itemId: 'first', fold: ['later'] },
    ],
    [
      'a rack item within the window takes the next host of the rack',
      signal({ resource: 'cmp-a-09', labels: r7 }),
      [rackItem('rack', 'r7', ['cmp-a-03', 'cmp-a-04'])],
      { action: 'join', itemId: 'rack', reason: 'same rack r7 within 5 min' },
    ],
    [
      'a host of the rack after the window makes its own item',
      signal({ resource: 'cmp-a-04', labels: r7, receivedAt: minutes(6) }),
      [hostItem('i1', [alert('cmp-a-03', { topology: r7 })])],
      { action: 'new', key: 'resource/cmp-a-04/HostDown' },
    ],
    [
      'the window counts from the first alert: repeats that moved lastSeen do not extend it',
      signal({ resource: 'cmp-a-09', labels: r7, receivedAt: minutes(6) }),
      [{ ...rackItem('rack', 'r7', ['cmp-a-03', 'cmp-a-04']), lastSeen: minutes(5) }],
      { action: 'new' },
    ],
    [
      'exactly at the end of the window still groups',
      signal({ resource: 'cmp-a-04', labels: r7, receivedAt: minutes(5) }),
      [hostItem('i1', [alert('cmp-a-03', { topology: r7 })])],
      { action: 'merge', itemId: 'i1' },
    ],
    [
      'another rack is another item',
      signal({ resource: 'cmp-a-04', labels: { rack: 'r8' } }),
      [hostItem('i1', [alert('cmp-a-03', { topology: r7 })])],
      { action: 'new' },
    ],
    [
      'an empty topology label groups nothing',
      signal({ resource: 'cmp-a-04', labels: { rack: '' } }),
      [hostItem('i1', [alert('cmp-a-03', { topology: { rack: '' } })])],
      { action: 'new' },
    ],
    [
      'a label that is not configured groups nothing',
      signal({ resource: 'cmp-a-04', labels: { row: 'b' } }),
      [hostItem('i1', [alert('cmp-a-03', { topology: { row: 'b' } })])],
      { action: 'new' },
    ],
    [
      'the same host with another alert in its rack is not a second host: its own item',
      signal({ name: 'DiskFull', labels: r7 }),
      [hostItem('i1', [alert('cmp-a-03', { topology: r7 })])],
      { action: 'new', key: 'resource/cmp-a-03/DiskFull' },
    ],
    [
      'another alert name on another host of the rack still groups (a rack-wide event shows as several alerts)',
      signal({ resource: 'cmp-a-04', name: 'BmcUnreachable', labels: r7 }),
      [hostItem('i1', [alert('cmp-a-03', { topology: r7 })])],
      { action: 'merge', itemId: 'i1' },
    ],
    [
      'labels are tried in the configured order: rack before pdu',
      signal({ resource: 'cmp-a-04', labels: { rack: 'r7', pdu: 'p1' } }),
      [
        hostItem('by-pdu', [alert('cmp-b-01', { topology: { pdu: 'p1' } })]),
        hostItem('by-rack', [alert('cmp-a-03', { topology: r7 })], minutes(1)),
      ],
      { action: 'merge', itemId: 'by-rack', topology: { label: 'rack', value: 'r7' } },
    ],
    [
      'a later label groups when the first finds no other host',
      signal({ resource: 'cmp-a-04', labels: { rack: 'r7', pdu: 'p1' } }),
      [hostItem('by-pdu', [alert('cmp-b-01', { topology: { pdu: 'p1' } })])],
      { action: 'merge', itemId: 'by-pdu', topology: { label: 'pdu', value: 'p1' } },
    ],
    [
      'a resolved signal joins the item that holds its alert',
      signal({ status: 'resolved', fingerprint: 'fp-cmp-a-03' }),
      [hostItem('i1', [alert('cmp-a-03')])],
      { action: 'join', itemId: 'i1' },
    ],
    [
      'a resolved signal no open item holds makes no item',
      signal({ status: 'resolved' }),
      [],
      { action: 'none', reason: 'resolved HostDown on cmp-a-03, and no open item holds it' },
    ],
    [
      'a resolved signal does not merge hosts of a rack',
      signal({ status: 'resolved', resource: 'cmp-a-04', labels: r7 }),
      [hostItem('i1', [alert('cmp-a-03', { topology: r7 })])],
      { action: 'none' },
    ],
  ];
  test.each(cases)('%s', (_what, s, open, expected) => {
    expect(groupSignal(s, open)).toMatchObject(expected);
  });

  test('the window and labels come from the settings', () => {
    const settings = { topologyLabels: ['switch'], windowMinutes: 10 };
    const open = [hostItem('i1', [alert('cmp-a-03', { topology: { switch: 'sw1' } })])];
    const s = signal({ resource: 'cmp-a-04', labels: { switch: 'sw1', rack: 'r7' }, receivedAt: minutes(9) });
    expect(groupSignal(s, open, settings)).toMatchObject({ action: 'merge', topology: { label: 'switch' } });
    expect(groupSignal(s, open, DEFAULT_GROUPING)).toMatchObject({ action: 'new' });
  });
});

describe('topologyOf: the configured topology labels an alert carries', () => {
  test.each([
    ['only configured labels, in their order', { pdu: 'p1', rack: 'r7', job: 'node' }, { rack: 'r7', pdu: 'p1' }],
    ['an empty value is no label', { rack: '' }, {}],
    ['no labels, no topology', {}, {}],
  ])('%s', (_what, labels, expected) => {
    expect(topologyOf(labels, DEFAULT_GROUPING)).toEqual(expected);
  });
});

describe('inboxTitle: one line a person reads', () => {
  const names = (resource: string, ...alertNames: string[]) => alertNames.map((name) => ({ name, resource }));
  test.each([
    [
      'a resource item: host and alert',
      { kind: 'resource', topology: null, alerts: names('cmp-a-03', 'HostDown') },
      'cmp-a-03: HostDown',
    ],
    [
      'a rack item: host count, label and value, alert name',
      {
        kind: 'topology',
        topology: { label: 'rack', value: 'r7' },
        alerts: [...names('cmp-a-03', 'HostDown'), ...names('cmp-a-04', 'HostDown'), ...names('cmp-a-05', 'HostDown')],
      },
      '3 hosts in rack r7: HostDown',
    ],
    [
      'a host with two alerts counts once; names in order of first appearance',
      {
        kind: 'topology',
        topology: { label: 'pdu', value: 'p1' },
        alerts: [...names('cmp-a-03', 'PowerLost', 'HostDown'), ...names('cmp-a-04', 'HostDown')],
      },
      '2 hosts in pdu p1: PowerLost, HostDown',
    ],
    [
      'more than two names: the first two and how many more',
      {
        kind: 'topology',
        topology: { label: 'rack', value: 'r7' },
        alerts: [...names('a', 'PowerLost', 'HostDown'), ...names('b', 'BmcUnreachable', 'NodeExporterDown')],
      },
      '2 hosts in rack r7: PowerLost, HostDown and 2 more',
    ],
    [
      'a rack item of one host (the others resolved and left) says 1 host',
      { kind: 'topology', topology: { label: 'rack', value: 'r7' }, alerts: names('a', 'HostDown') },
      '1 host in rack r7: HostDown',
    ],
  ] as const)('%s', (_what, item, expected) => {
    expect(inboxTitle({ ...item, alerts: [...item.alerts] })).toBe(expected);
  });

  test('twelve hosts of a rack read as one line', () => {
    const alerts = Array.from({ length: 12 }, (_, i) => ({ name: 'PowerLost', resource: `cmp-r7-${i}` }));
    expect(inboxTitle({ kind: 'topology', topology: { label: 'rack', value: 'r7' }, alerts })).toBe(
      '12 hosts in rack r7: PowerLost',
    );
  });
});

describe('groupingSettingsProblems: each names the field', () => {
  test.each([
    ['the defaults are valid', DEFAULT_GROUPING, []],
    [
      'no topology labels is valid: grouping by fingerprint and resource only',
      { topologyLabels: [], windowMinutes: 5 },
      [],
    ],
    [
      'a label that is not a label name',
      { topologyLabels: ['rack', 'pdu-id'], windowMinutes: 5 },
      ['topologyLabels.1: "pdu-id" is not a label name'],
    ],
    [
      'a label listed twice',
      { topologyLabels: ['rack', 'rack'], windowMinutes: 5 },
      ['topologyLabels.1: "rack" is listed twice'],
    ],
    ['no window', { topologyLabels: ['rack'], windowMinutes: 0 }, ['windowMinutes: must be above 0']],
  ])('%s', (_what, settings, expected) => {
    expect(groupingSettingsProblems(settings)).toEqual(expected);
  });
});
