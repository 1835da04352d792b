/** The inbox benchmark's month: deterministic for a seed, big enough, and made of every kind it promises. */
import {
  alertFingerprint,
  FLAPPING_NAME,
  FULL_MONTH,
  generateInboxMonth,
  GROUP_INTERVAL_MS,
  monthFleet,
  QUICK_MONTH,
  type InboxMonth,
} from '../../bench/inbox-month-generator';
import { simulatedHostName } from '../../providers/simulated/admin';

const EPOCH = new Date('2026-11-01T00:00:00Z');
let month: InboxMonth;
beforeAll(() => {
  month = generateInboxMonth(FULL_MONTH, EPOCH);
});

describe('the inbox month generator', () => {
  it('gives the same month for the same seed, and another for another seed', () => {
    const again = generateInboxMonth(FULL_MONTH, EPOCH);
    expect(JSON.stringify(again.events)).toBe(JSON.stringify(month.events));
    expect(again.incidents).toEqual(month.incidents);
    const other = generateInboxMonth({ ...FULL_MONTH, seed: FULL_MONTH.seed + 1 }, EPOCH);
    expect(JSON.stringify(other.events)).not.toBe(JSON.stringify(month.events));
  });

  it('sends at least 10,000 alerts for 500 hosts over 30 days, in time order, each with the labels the inbox groups by', () => {
    expect(month.rawAlerts).toBeGreaterThanOrEqual(10_000);
    const ats = month.events.map((e) => e.at);
    expect(ats).toEqual([...ats].sort((a, b) => a - b));
    for (const a of month.events.flatMap((e) => e.alerts)) {
      expect(Object.keys(a.labels).sort()).toEqual(['alertname', 'host', 'pdu', 'rack', 'severity']);
      expect(a.fingerprint).toBe(alertFingerprint(a.labels));
    }
  });

  it('names hosts as the simulated fleet does, in racks of 20 with two PDUs', () => {
    const fleet = monthFleet(FULL_MONTH);
    expect(fleet).toHaveLength(500);
    expect(fleet[0]).toEqual({ host: simulatedHostName('zone-a', 1), zone: 'zone-a', rack: 'a01', pdu: 'a01-1' });
    expect(fleet.filter((h) => h.rack === 'c03')).toHaveLength(20);
    expect(new Set(fleet.filter((h) => h.rack === 'c03').map((h) => h.pdu))).toEqual(new Set(['c03-1', 'c03-2']));
  });

  it('resends a firing alert every group interval: the duplicates', () => {
    const unfixable = month.incidents.find((i) => i.kind === 'unfixable')!;
    const sent = month.events.filter((e) =>
      e.alerts.some((a) => a.fingerprint === unfixable.fingerprints[0] && a.status === 'firing'),
    );
    expect(sent.length).toBeGreaterThan(20); // two hours at least
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBe(GROUP_INTERVAL_MS);
  });

  it('contains every kind: transients, host failures automation fixes and cannot, rack power events, unmatched alerts, flappers', () => {
    for (const kind of ['transient', 'autofix', 'unfixable', 'rack-power', 'unmatched', 'flapping'] as const)
      expect(month.episodes[kind].sent).toBeGreaterThan(0);
    const kinds = new Set(month.incidents.map((i) => i.kind));
    expect([...kinds].sort()).toEqual(['autofix', 'flapping', 'rack-power', 'unfixable', 'unmatched']);
    // A transient resolves by itself: it is sent firing, then resolved, and is no incident.
    expect(month.incidents.some((i) => i.alertname === 'NodeLoadHigh')).toBe(false);
  });

  it('puts a whole rack down within one group interval, and gives its hosts faults the simulated fleet can have', () => {
    const rack = month.incidents.find((i) => i.kind === 'rack-power' && i.expect === 'person')!;
    const down = month.events
      .filter((e) => e.at >= rack.firstAlertAt && e.at <= rack.firstAlertAt + GROUP_INTERVAL_MS)
      .flatMap((e) => e.alerts)
      .filter((a) => a.status === 'firing' && a.labels.alertname === 'HostDown');
    expect(new Set(down.map((a) => a.labels.host))).toEqual(new Set(rack.hosts));
    const faults = month.fleetActions.filter((a) => a.incident === rack.id);
    expect(faults.filter((a) => a.kind === 'fault' && a.repairIneffective)).toHaveLength(rack.hosts.length);
    expect(faults.filter((a) => a.kind === 'repair-by-hand')).toHaveLength(rack.hosts.length);
  });

  it('flips a flapping alert between firing and resolved for hours', () => {
    const flap = month.incidents.find((i) => i.kind === 'flapping')!;
    expect(flap.alertname).toBe(FLAPPING_NAME);
    const statuses = month.events
      .flatMap((e) => e.alerts)
      .filter((a) => a.fingerprint === flap.fingerprints[0])
      .map((a) => a.status);
    const changes = statuses.filter((s, i) => i > 0 && s !== statuses[i - 1]).length;
    expect(changes).toBeGreaterThanOrEqual(10);
  });

  it('keeps the quick month small: 50 hosts over 3 days, still with every kind of incident', () => {
    const quick = generateInboxMonth(QUICK_MONTH, EPOCH);
    expect(quick.fleet).toHaveLength(50);
    expect(quick.rawAlerts).toBeLessThan(2000);
    expect(new Set(quick.incidents.map((i) => `${i.kind}/${i.expect}`)).size).toBe(6);
  });
});
