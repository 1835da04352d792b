/** The inbox month's figures from what the inbox recorded: shown items, caught incidents (through folds), times to an owner. */
import type { BenchAlert, BenchItem, BenchTransition } from '../../db/inbox-benchmark';
import type { Incident } from '../../bench/inbox-month-generator';
import { monthFigures, percentile } from '../../bench/inbox-month-report';

const EPOCH = new Date('2026-11-01T00:00:00Z');
const at = (minutes: number) => new Date(EPOCH.getTime() + minutes * 60_000);

const item = (id: string, over: Partial<BenchItem> = {}): BenchItem => ({
  id,
  kind: 'resource',
  source: 'alertmanager/shipshape',
  name: 'HostDown',
  host: 'cmp-a-01',
  firstSeen: at(0),
  state: 'resolved',
  resolvedHow: 'source',
  remediationId: null,
  mergedInto: null,
  flapped: false,
  ...over,
});
const moved = (itemId: string, minutes: number, fromState: string | null, toState: string): BenchTransition => ({
  itemId,
  at: at(minutes),
  fromState,
  toState,
});
const alert = (itemId: string, host: string, name: string, minutes: number): BenchAlert => ({
  itemId,
  fingerprint: `${host}/${name}`,
  name,
  host,
  firstSeen: at(minutes),
});
const incident = (id: string, host: string, alertname: string, over: Partial<Incident> = {}): Incident => ({
  id,
  kind: 'unmatched',
  expect: 'person',
  firstAlertAt: 0,
  lastAlertAt: 60 * 60_000,
  host,
  alertname,
  hosts: [host],
  fingerprints: [`${host}/${alertname}`],
  ...over,
});

describe('the inbox month figures', () => {
  it('counts as shown only items that were needs-person, and as one state change each real change after that', () => {
    const f = monthFigures({ rawAlerts: 100, incidents: [] }, EPOCH, {
      items: [item('a'), item('b', { name: 'NodeLoadHigh' })],
      transitions: [
        moved('a', 0, null, 'automation'),
        moved('a', 5, 'automation', 'needs-person'),
        moved('a', 10, 'needs-person', 'needs-person'), // its reason changed only
        moved('a', 60, 'needs-person', 'resolved'),
        moved('b', 0, null, 'automation'),
        moved('b', 3, 'automation', 'resolved'),
      ],
      alerts: [],
    });
    expect(f.itemsShown).toBe(1);
    expect(f.shownShare).toBe(0.01);
    expect(f.shownStateChanges).toBe(2);
    expect(f.minutesToOwner).toEqual([0]);
    expect(f.minutesToPerson).toEqual([5]);
    expect(f.shownByName).toEqual({ HostDown: 1 });
  });

  it('catches an incident through the rack item its alert was folded into, by automation when that item had a remediation', () => {
    const f = monthFigures(
      {
        rawAlerts: 40,
        incidents: [incident('rack', 'cmp-a-02', 'HostDown', { kind: 'rack-power', expect: 'automation' })],
      },
      EPOCH,
      {
        items: [item('host', { mergedInto: 'rack' }), item('rack', { kind: 'topology', remediationId: 'r1' })],
        transitions: [moved('host', 0.5, null, 'automation'), moved('rack', 1, null, 'automation')],
        alerts: [alert('host', 'cmp-a-02', 'HostDown', 0.5)],
      },
    );
    expect(f.missed).toEqual([]);
    expect(f.incidents[0]).toMatchObject({ caught: true, by: 'automation', minutesToCatch: 1, minutesToPerson: null });
    expect(f.itemsFolded).toBe(1);
  });

  it('misses an incident whose items were neither shown nor remediated, and one whose alert the inbox never held', () => {
    const f = monthFigures(
      {
        rawAlerts: 10,
        incidents: [incident('quiet', 'cmp-a-03', 'RaidArrayDegraded'), incident('lost', 'cmp-a-04', 'NodeClockSkew')],
      },
      EPOCH,
      {
        items: [item('q', { name: 'RaidArrayDegraded', host: 'cmp-a-03' })],
        transitions: [moved('q', 0, null, 'automation'), moved('q', 4, 'automation', 'resolved')],
        alerts: [alert('q', 'cmp-a-03', 'RaidArrayDegraded', 0), alert('q', 'cmp-a-04', 'NodeClockSkew', 90)],
      },
    );
    expect(f.missed.map((m) => m.id)).toEqual(['quiet', 'lost']);
  });

  it('takes the nearest-rank percentile', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 95)).toBe(5);
    expect(percentile([], 50)).toBe(0);
  });
});
