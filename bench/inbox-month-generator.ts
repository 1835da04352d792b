/**
 * A month of alerts for the inbox benchmark (bench/inbox-month.ts): what
 * Alertmanager would send Shipshape from a fleet of simulated hosts, the
 * faults the simulated fleet must have for the alerts to be true, and the
 * real incidents among the noise. Pure and deterministic: the same shape and
 * seed give the same month.
 *
 * The fleet: `zones` zones of equal size, hosts named as the simulated fleet
 * names them (`cmp-a-01`), racks of `hostsPerRack` consecutive hosts of a
 * zone (`rack` label `a01`), two PDUs a rack (`pdu` label `a01-1`, `a01-2`,
 * hosts alternating), the host in label `host`.
 *
 * What fires (counts are for 500 hosts and 30 days, scaled to the shape, at
 * least one of each kind; rack events at least two):
 * - transient: an alert no policy matches that resolves by itself within
 *   1–4 min (load, network errors, disk latency, memory pressure);
 * - autofix: `HostDown` on one host whose fault a power cycle fixes: the
 *   host-down policy's remediation brings it back and the alert resolves;
 * - unfixable: `HostDown` on one host whose repair is ineffective: the
 *   remediation hands it to a person, who repairs it by hand and hands it
 *   back hours later, then the alert resolves;
 * - rack-power: every host of a rack `HostDown` within 25 s (one
 *   notification after group_wait); half of them come back with a power
 *   cycle, half need a person (ineffective repair, repaired by hand);
 * - unmatched: an alert no policy matches that keeps firing for 1–48 h
 *   (read-only filesystem, clock skew, degraded RAID);
 * - flapping: a Redfish collector alert on one host flipping firing and
 *   resolved every 2–6 min for 3–8 h.
 * Every kind but transient is a real incident; each is listed with the
 * alert (host and alert name) that Alertmanager sent first, and when.
 *
 * Alertmanager is modelled per group (group_by alertname and rack):
 * group_wait 30 s, then a notification every group_interval (5 min) while
 * the group has alerts, repeat_interval equal to group_interval (so every
 * firing alert is sent again every 5 min: the duplicates), resolved alerts
 * sent once (send_resolved) if they had been sent firing. An alert that
 * fires and resolves between two notifications of its group is never sent.
 */
import { simulatedHostName } from '../providers/simulated/admin';

export interface MonthShape {
  seed: number;
  hosts: number;
  days: number;
  zones: number;
  hostsPerRack: number;
  /** Servers on every simulated host (the drain moves them). */
  serversPerHost: number;
}

export const FULL_MONTH: MonthShape = {
  seed: 2026,
  hosts: 500,
  days: 30,
  zones: 5,
  hostsPerRack: 20,
  serversPerHost: 2,
};
export const QUICK_MONTH: MonthShape = {
  seed: 2026,
  hosts: 50,
  days: 3,
  zones: 2,
  hostsPerRack: 20,
  serversPerHost: 2,
};

export const GROUP_WAIT_MS = 30_000;
export const GROUP_INTERVAL_MS = 5 * 60_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface FleetHost {
  host: string;
  zone: string;
  rack: string;
  pdu: string;
}

export type IncidentKind = 'autofix' | 'unfixable' | 'rack-power' | 'unmatched' | 'flapping';
export type EpisodeKind = IncidentKind | 'transient';

/** One alert as Alertmanager's webhook (version 4) carries it. */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
}

/** One notification of one group, `at` ms after the month's start. */
export interface MonthEvent {
  at: number;
  groupKey: string;
  alerts: WebhookAlert[];
}

/** What the simulated fleet must do at `at` for the alerts to be true. */
export type FleetAction =
  | { at: number; kind: 'fault'; host: string; incident: string; repairIneffective: boolean; reason: string }
  /** A person repairs the host by hand and hands its remediation back. */
  | { at: number; kind: 'repair-by-hand'; host: string; incident: string };

/** A real incident: what a person or the automation must take up. */
export interface Incident {
  id: string;
  kind: IncidentKind;
  /** Who should end up with it: the automation (it fixes it) or a person. */
  expect: 'automation' | 'person';
  /** When Alertmanager first sent one of its alerts, and that alert's host and name. */
  firstAlertAt: number;
  /** When Alertmanager last sent one of its alerts (firing or resolved). */
  lastAlertAt: number;
  host: string;
  alertname: string;
  hosts: string[];
  fingerprints: string[];
}

export interface InboxMonth {
  shape: MonthShape;
  /** The month's start: alerts' startsAt and endsAt count from it. */
  epoch: Date;
  durationMs: number;
  fleet: FleetHost[];
  events: MonthEvent[];
  fleetActions: FleetAction[];
  incidents: Incident[];
  /** Alerts in notifications, repeats included: what Shipshape receives. */
  rawAlerts: number;
  /** Episodes (an alert from firing to resolved) generated, of each kind, and how many reached Shipshape. */
  episodes: Record<EpisodeKind, { generated: number; sent: number }>;
}

/** Per 500 hosts and 30 days. */
const RATES: Record<EpisodeKind, number> = {
  transient: 2600,
  autofix: 40,
  unfixable: 8,
  'rack-power': 6,
  unmatched: 20,
  flapping: 8,
};
const MINIMUM: Record<EpisodeKind, number> = {
  transient: 1,
  autofix: 1,
  unfixable: 1,
  'rack-power': 2,
  unmatched: 1,
  flapping: 1,
};

const TRANSIENT_NAMES = ['NodeLoadHigh', 'NodeNetworkReceiveErrors', 'DiskIOLatencyHigh', 'NodeMemoryPressure'];
const UNMATCHED = [
  { name: 'NodeFilesystemReadOnly', severity: 'critical' },
  { name: 'NodeClockSkew', severity: 'warning' },
  { name: 'RaidArrayDegraded', severity: 'critical' },
];
export const FLAPPING_NAME = 'RedfishCollectorScrapeFailed';

/** mulberry32: small, fast, and good enough for a benchmark's dice. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Alertmanager-like fingerprint: a 64-bit FNV-1a hash of the sorted labels, 16 hex digits. */
export function alertFingerprint(labels: Record<string, string>): string {
  let h = 0xcbf29ce484222325n;
  const text = Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}\u0000`)
    .join('');
  for (const ch of Buffer.from(text, 'utf8')) {
    h ^= BigInt(ch);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/** The fleet's hosts with their zone, rack and PDU. */
export function monthFleet(shape: MonthShape): FleetHost[] {
  const perZone = Math.ceil(shape.hosts / shape.zones);
  const hosts: FleetHost[] = [];
  for (let i = 0; i < shape.hosts; i++) {
    const z = Math.floor(i / perZone);
    const letter = String.fromCharCode(97 + z);
    const index = (i % perZone) + 1;
    const rack = `${letter}${String(Math.floor((index - 1) / shape.hostsPerRack) + 1).padStart(2, '0')}`;
    hosts.push({
      host: simulatedHostName(`zone-${letter}`, index),
      zone: `zone-${letter}`,
      rack,
      pdu: `${rack}-${index % 2 === 1 ? 1 : 2}`,
    });
  }
  return hosts;
}

/** How many hosts of each zone (the simulated fleet is seeded with this many a zone). */
export function hostsPerZone(shape: MonthShape): number {
  return Math.ceil(shape.hosts / shape.zones);
}

/** An alert from firing to resolved (end null: still firing when the month ends). */
interface Episode {
  kind: EpisodeKind;
  incident: string | null;
  labels: Record<string, string>;
  fingerprint: string;
  start: number;
  end: number;
}

interface Draft {
  episodes: Episode[];
  fleetActions: FleetAction[];
  incidents: Omit<Incident, 'firstAlertAt' | 'lastAlertAt' | 'host' | 'alertname'>[];
}

/** Generate the month; `epoch` is when it starts (alerts carry absolute times). */
export function generateInboxMonth(shape: MonthShape, epoch: Date = new Date('2026-11-01T00:00:00Z')): InboxMonth {
  const rand = prng(shape.seed);
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const durationMs = shape.days * 24 * HOUR;
  const fleet = monthFleet(shape);
  const racks = [...new Set(fleet.map((h) => h.rack))];
  const scale = (shape.hosts / 500) * (shape.days / 30);
  const count = (k: EpisodeKind) => Math.max(MINIMUM[k], Math.round(RATES[k] * scale));
  // Incidents start in the month's first 90 %, so that they end inside it.
  const anyTime = () => between(0, Math.floor(durationMs * 0.9));
  const draft: Draft = { episodes: [], fleetActions: [], incidents: [] };
  const episode = (kind: EpisodeKind, incident: string | null, h: FleetHost, name: string, severity: string) => {
    const labels = { alertname: name, host: h.host, severity, rack: h.rack, pdu: h.pdu };
    return { kind, incident, labels, fingerprint: alertFingerprint(labels) };
  };
  // Hosts busy with an incident are not given another one that overlaps (the fleet's faults would collide).
  const busy = new Map<string, { start: number; end: number }[]>();
  const free = (host: string, start: number, end: number) =>
    !(busy.get(host) ?? []).some((b) => start < b.end + HOUR && b.start < end + HOUR);
  const hold = (host: string, start: number, end: number) =>
    busy.set(host, [...(busy.get(host) ?? []), { start, end }]);
  const freeHost = (start: number, end: number): FleetHost => {
    for (;;) {
      const h = pick(fleet);
      if (free(h.host, start, end)) return h;
    }
  };

  for (let i = 0; i < count('rack-power'); i++) {
    const id = `rack-power-${i + 1}`;
    const rack = racks[i % racks.length]!;
    const hosts = fleet.filter((h) => h.rack === rack);
    const needsPerson = i % 2 === 1;
    let start = anyTime();
    const length = needsPerson ? between(1 * HOUR, 3 * HOUR) : between(3 * MINUTE, 4 * MINUTE);
    while (!hosts.every((h) => free(h.host, start, start + length))) start = anyTime();
    for (const h of hosts) {
      const s = start + between(0, 25_000);
      draft.episodes.push({ ...episode('rack-power', id, h, 'HostDown', 'critical'), start: s, end: s + length });
      draft.fleetActions.push({
        at: s,
        kind: 'fault',
        host: h.host,
        incident: id,
        repairIneffective: needsPerson,
        reason: needsPerson ? `rack ${rack}: PDU failed` : `rack ${rack}: power blip`,
      });
      if (needsPerson)
        draft.fleetActions.push({ at: s + length - MINUTE, kind: 'repair-by-hand', host: h.host, incident: id });
      hold(h.host, s, s + length);
    }
    draft.incidents.push({
      id,
      kind: 'rack-power',
      expect: needsPerson ? 'person' : 'automation',
      hosts: hosts.map((h) => h.host),
      fingerprints: [],
    });
  }

  for (const kind of ['autofix', 'unfixable'] as const) {
    for (let i = 0; i < count(kind); i++) {
      const id = `${kind}-${i + 1}`;
      const start = anyTime();
      // A power cycle fixes an autofix host in seconds; Prometheus sees it up within a few minutes.
      const length = kind === 'autofix' ? between(3 * MINUTE, 4 * MINUTE) : between(2 * HOUR, 6 * HOUR);
      const h = freeHost(start, start + length);
      hold(h.host, start, start + length);
      draft.episodes.push({ ...episode(kind, id, h, 'HostDown', 'critical'), start, end: start + length });
      draft.fleetActions.push({
        at: start,
        kind: 'fault',
        host: h.host,
        incident: id,
        repairIneffective: kind === 'unfixable',
        reason: kind === 'autofix' ? 'kernel panic' : 'failed mainboard',
      });
      if (kind === 'unfixable')
        draft.fleetActions.push({ at: start + length - MINUTE, kind: 'repair-by-hand', host: h.host, incident: id });
      draft.incidents.push({
        id,
        kind,
        expect: kind === 'autofix' ? 'automation' : 'person',
        hosts: [h.host],
        fingerprints: [],
      });
    }
  }

  for (let i = 0; i < count('unmatched'); i++) {
    const id = `unmatched-${i + 1}`;
    const start = anyTime();
    const length = between(1 * HOUR, 48 * HOUR);
    const h = freeHost(start, start + length);
    hold(h.host, start, start + length);
    const rule = pick(UNMATCHED);
    draft.episodes.push({ ...episode('unmatched', id, h, rule.name, rule.severity), start, end: start + length });
    draft.incidents.push({ id, kind: 'unmatched', expect: 'person', hosts: [h.host], fingerprints: [] });
  }

  for (let i = 0; i < count('flapping'); i++) {
    const id = `flapping-${i + 1}`;
    const start = anyTime();
    const length = between(3 * HOUR, 8 * HOUR);
    const h = freeHost(start, start + length);
    hold(h.host, start, start + length);
    for (let t = start; t < start + length; ) {
      const up = between(2 * MINUTE, 6 * MINUTE);
      draft.episodes.push({ ...episode('flapping', id, h, FLAPPING_NAME, 'warning'), start: t, end: t + up });
      t += up + between(2 * MINUTE, 6 * MINUTE);
    }
    draft.incidents.push({ id, kind: 'flapping', expect: 'person', hosts: [h.host], fingerprints: [] });
  }

  for (let i = 0; i < count('transient'); i++) {
    const start = between(0, durationMs - 10 * MINUTE);
    const h = pick(fleet);
    const length = between(1 * MINUTE, 4 * MINUTE);
    draft.episodes.push({
      ...episode('transient', null, h, pick(TRANSIENT_NAMES), 'warning'),
      start,
      end: start + length,
    });
  }

  return assemble(shape, epoch, durationMs, fleet, draft);
}

/** Alertmanager's notifications for the episodes, and the incidents with their first alert. */
function assemble(shape: MonthShape, epoch: Date, durationMs: number, fleet: FleetHost[], draft: Draft): InboxMonth {
  const groups = new Map<string, Episode[]>();
  for (const e of draft.episodes) {
    const key = `{}:{alertname="${e.labels.alertname}", rack="${e.labels.rack}"}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const events: MonthEvent[] = [];
  const firstSent = new Map<Episode, number>();
  for (const [groupKey, episodes] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)))
    events.push(...notificationsOf(groupKey, episodes, durationMs, epoch, firstSent));
  events.sort((a, b) => a.at - b.at || a.groupKey.localeCompare(b.groupKey));

  const episodes = Object.fromEntries(
    (['transient', 'autofix', 'unfixable', 'rack-power', 'unmatched', 'flapping'] as const).map((k) => [
      k,
      { generated: 0, sent: 0 },
    ]),
  ) as InboxMonth['episodes'];
  for (const e of draft.episodes) {
    episodes[e.kind].generated++;
    if (firstSent.has(e)) episodes[e.kind].sent++;
  }

  const lastSent = new Map<string, number>();
  for (const e of events) for (const a of e.alerts) lastSent.set(a.fingerprint, e.at);
  const incidents: Incident[] = draft.incidents.map((inc) => {
    const own = draft.episodes.filter((e) => e.incident === inc.id && firstSent.has(e));
    const first = own.reduce((a, b) => (firstSent.get(b)! < firstSent.get(a)! ? b : a));
    const fingerprints = [...new Set(own.map((e) => e.fingerprint))];
    return {
      ...inc,
      firstAlertAt: firstSent.get(first)!,
      // Fingerprints repeat over the month (the same alert on the same host); the incident's end is its own episodes'.
      lastAlertAt: Math.max(...own.map((e) => Math.min(lastSent.get(e.fingerprint)!, e.end + GROUP_INTERVAL_MS))),
      host: first.labels.host!,
      alertname: first.labels.alertname!,
      fingerprints,
    };
  });
  incidents.sort((a, b) => a.firstAlertAt - b.firstAlertAt);
  const fleetActions = [...draft.fleetActions].sort((a, b) => a.at - b.at || a.host.localeCompare(b.host));
  const rawAlerts = events.reduce((n, e) => n + e.alerts.length, 0);
  return { shape, epoch, durationMs, fleet, events, fleetActions, incidents, rawAlerts, episodes };
}

/**
 * One group's notifications, as Alertmanager sends them: group_wait after
 * the first alert of a new group, then every group_interval while anything
 * fires or a resolution is still to be told; then the group is gone.
 */
function notificationsOf(
  groupKey: string,
  episodes: Episode[],
  durationMs: number,
  epoch: Date,
  firstSent: Map<Episode, number>,
): MonthEvent[] {
  const byStart = [...episodes].sort((a, b) => a.start - b.start);
  const events: MonthEvent[] = [];
  const iso = (ms: number) => new Date(epoch.getTime() + ms).toISOString();
  let next = 0; // index of the first episode not yet started at the last flush
  let told = new Map<string, Episode>(); // fingerprint → episode last told firing
  while (next < byStart.length) {
    let flush = byStart[next]!.start + GROUP_WAIT_MS;
    for (;;) {
      if (flush > durationMs) return events;
      while (next < byStart.length && byStart[next]!.start <= flush) next++;
      const firing = new Map<string, Episode>();
      for (const e of byStart.slice(0, next)) if (e.start <= flush && flush < e.end) firing.set(e.fingerprint, e);
      const alerts: WebhookAlert[] = [];
      for (const [fp, e] of firing) {
        if (!firstSent.has(e)) firstSent.set(e, flush);
        alerts.push({
          status: 'firing',
          labels: e.labels,
          annotations: {},
          startsAt: iso(e.start),
          endsAt: '0001-01-01T00:00:00Z',
          fingerprint: fp,
        });
      }
      for (const [fp, e] of told)
        if (!firing.has(fp))
          alerts.push({
            status: 'resolved',
            labels: e.labels,
            annotations: {},
            startsAt: iso(e.start),
            endsAt: iso(e.end),
            fingerprint: fp,
          });
      if (alerts.length > 0) events.push({ at: flush, groupKey, alerts });
      told = firing;
      if (firing.size === 0) break;
      flush += GROUP_INTERVAL_MS;
    }
  }
  return events;
}
