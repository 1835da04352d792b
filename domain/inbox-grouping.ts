/**
 * Which inbox item a new signal belongs to. Pure: the caller reads the open
 * items (inside the transaction that records the signal) and applies the
 * decision; this only decides, and says why.
 *
 * Rules, first that holds wins:
 * 1. An open item holds an alert with the signal's fingerprint → join it
 *    (the most recently seen, should several).
 * 2. An open item holds an alert of the same resource and the same alert name
 *    → join it.
 * 3. The signal is firing and carries a topology label (the configured labels
 *    in their order, `rack` before `pdu` before `switch`, say; an empty value
 *    is no label). For the first label that groups:
 *    a. an open topology item for the same label and value whose first alert
 *       came within the grouping window before the signal → join it;
 *    b. open resource items of *other* resources whose alerts carry the same
 *       label value, each first seen within the window → merge: the oldest of
 *       them becomes the topology item (it keeps its id, history and links),
 *       the others are folded into it, and the signal joins it.
 * 4. Otherwise a new resource item. A resolved signal that no open item holds
 *    makes no item (`none`): there is nothing left to work on.
 *
 * The window counts from an item's first alert, not its last: repeats of a
 * rack-wide alert every group interval must not keep the rack's item open to
 * every later, unrelated alert in that rack.
 */
import type { Severity, SignalStatus } from './types';

/** A signal as the inbox sees it: after validation and host resolution. */
export interface InboxSignal {
  source: string;
  /** Alert name (`HostDown`). */
  name: string;
  /** The host or other resource the alert is about. */
  resource: string;
  fingerprint: string;
  labels: Record<string, string>;
  severity: Severity;
  status: SignalStatus;
  receivedAt: Date;
}

/** One alert an item holds, as grouping needs it. */
export interface InboxAlertRef {
  fingerprint: string;
  name: string;
  resource: string;
  /** The values of the configured topology labels the alert carried (`{ rack: 'r7' }`); see {@link topologyOf}. */
  topology: Record<string, string>;
}

/** A label value several hosts share: `rack=r7`. */
export interface TopologyValue {
  label: string;
  value: string;
}

/** `resource`: alerts of one resource (and one alert name); `topology`: alerts of several hosts sharing a label value. */
export type InboxItemKind = 'resource' | 'topology';

/** An open item, as grouping needs it. */
export interface OpenInboxItem {
  id: string;
  kind: InboxItemKind;
  key: string;
  /** Set for a topology item. */
  topology: TopologyValue | null;
  alerts: InboxAlertRef[];
  firstSeen: Date;
  lastSeen: Date;
}

export interface GroupingSettings {
  /** Labels that make one item of several hosts' alerts, tried in this order (`['rack', 'pdu', 'switch']`). */
  topologyLabels: string[];
  /** How long after an item's first alert another host's alert still joins it. */
  windowMinutes: number;
}

export const DEFAULT_GROUPING: GroupingSettings = { topologyLabels: ['rack', 'pdu', 'switch'], windowMinutes: 5 };

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Check grouping settings; each problem names the field. */
export function groupingSettingsProblems(s: GroupingSettings): string[] {
  const problems: string[] = [];
  s.topologyLabels.forEach((label, i) => {
    if (!LABEL_NAME.test(label)) problems.push(`topologyLabels.${i}: "${label}" is not a label name`);
    else if (s.topologyLabels.indexOf(label) !== i) problems.push(`topologyLabels.${i}: "${label}" is listed twice`);
  });
  if (!(s.windowMinutes > 0)) problems.push('windowMinutes: must be above 0');
  return problems;
}

/** Where a signal goes. Every decision says why, in words for the item's history. */
export type GroupingDecision =
  | { action: 'join'; itemId: string; reason: string }
  | {
      action: 'merge';
      /** The item that becomes the topology item; the signal joins it. */
      itemId: string;
      /** Items folded into it: their alerts move to it and they close as merged. */
      fold: string[];
      topology: TopologyValue;
      key: string;
      reason: string;
    }
  | { action: 'new'; kind: 'resource'; key: string; reason: string }
  | { action: 'none'; reason: string };

/** The key of a resource item: one per resource and alert name. */
export function resourceKey(resource: string, name: string): string {
  return `resource/${resource}/${name}`;
}

/** The key of a topology item: the label value and when its first alert came, so a later incident in the same rack gets its own. */
export function topologyKey(topology: TopologyValue, firstSeen: Date): string {
  return `topology/${topology.label}=${topology.value}/${firstSeen.toISOString()}`;
}

/** The configured topology labels that `labels` carries with a non-empty value. */
export function topologyOf(labels: Record<string, string>, settings: GroupingSettings): Record<string, string> {
  const found: Record<string, string> = {};
  for (const label of settings.topologyLabels) if (labels[label]) found[label] = labels[label];
  return found;
}

/** Decide which item `signal` belongs to; the rules are in this file's header. */
export function groupSignal(
  signal: InboxSignal,
  open: OpenInboxItem[],
  settings: GroupingSettings = DEFAULT_GROUPING,
): GroupingDecision {
  const newestFirst = [...open].sort((a, b) => b.lastSeen.getTime() - a.lastSeen.getTime());
  const sameFingerprint = newestFirst.find((i) => i.alerts.some((a) => a.fingerprint === signal.fingerprint));
  if (sameFingerprint)
    return { action: 'join', itemId: sameFingerprint.id, reason: `same fingerprint ${signal.fingerprint}` };
  const sameAlert = newestFirst.find((i) =>
    i.alerts.some((a) => a.resource === signal.resource && a.name === signal.name),
  );
  if (sameAlert)
    return {
      action: 'join',
      itemId: sameAlert.id,
      reason: `same resource ${signal.resource} and alert ${signal.name}`,
    };
  if (signal.status === 'resolved')
    return { action: 'none', reason: `resolved ${signal.name} on ${signal.resource}, and no open item holds it` };
  const byTopology = groupByTopology(signal, open, settings);
  if (byTopology) return byTopology;
  return {
    action: 'new',
    kind: 'resource',
    key: resourceKey(signal.resource, signal.name),
    reason: `first ${signal.name} on ${signal.resource}`,
  };
}

/** Rule 3: join or make a topology item, for the first configured label that groups the signal with another host. */
function groupByTopology(
  signal: InboxSignal,
  open: OpenInboxItem[],
  settings: GroupingSettings,
): GroupingDecision | null {
  const since = signal.receivedAt.getTime() - settings.windowMinutes * 60_000;
  const inWindow = open.filter((i) => i.firstSeen.getTime() >= since);
  for (const [label, value] of Object.entries(topologyOf(signal.labels, settings))) {
    const window = `within ${settings.windowMinutes} min`;
    const rackItem = inWindow.find((i) => i.topology?.label === label && i.topology.value === value);
    if (rackItem) return { action: 'join', itemId: rackItem.id, reason: `same ${label} ${value} ${window}` };
    const hostItems = inWindow
      .filter((i) => i.kind === 'resource' && i.alerts.some((a) => a.topology[label] === value))
      .filter((i) => i.alerts.some((a) => a.resource !== signal.resource))
      .sort((a, b) => a.firstSeen.getTime() - b.firstSeen.getTime() || a.id.localeCompare(b.id));
    const [oldest, ...rest] = hostItems;
    if (!oldest) continue;
    const topology = { label, value };
    return {
      action: 'merge',
      itemId: oldest.id,
      fold: rest.map((i) => i.id),
      topology,
      key: topologyKey(topology, oldest.firstSeen),
      reason: `${signal.resource} shares ${label} ${value} with ${hostsOf(hostItems).join(', ')} ${window}`,
    };
  }
  return null;
}

function hostsOf(items: OpenInboxItem[]): string[] {
  return [...new Set(items.flatMap((i) => i.alerts.map((a) => a.resource)))].sort();
}

/** What an item's title is made of. */
export interface TitleFacts {
  kind: InboxItemKind;
  topology: TopologyValue | null;
  alerts: Pick<InboxAlertRef, 'name' | 'resource'>[];
}

/** Alert names shown in a title before "and n more". */
const NAMES_SHOWN = 2;

/**
 * The item's one-line title: `cmp-a-03: HostDown` for a resource item,
 * `12 hosts in rack r7: HostDown, PowerLost and 1 more` for a topology item
 * (hosts counted once, alert names in order of first appearance).
 */
export function inboxTitle(item: TitleFacts): string {
  const names = [...new Set(item.alerts.map((a) => a.name))];
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  const what = names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
  const hosts = [...new Set(item.alerts.map((a) => a.resource))];
  if (item.kind === 'resource' || !item.topology) return `${hosts.join(', ')}: ${what}`;
  const count = hosts.length === 1 ? '1 host' : `${hosts.length} hosts`;
  return `${count} in ${item.topology.label} ${item.topology.value}: ${what}`;
}
