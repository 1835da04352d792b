/**
 * Who hears about an inbox item, and when. Pure: the caller passes the item,
 * the routes, what was delivered so far and the time; `notificationsDue`
 * answers which messages to send now. Routes are matched in order like
 * Alertmanager's: the first match wins unless it says `continue: true`.
 */

export type InboxItemState = 'automation' | 'needs-person' | 'acknowledged' | 'snoozed' | 'silenced' | 'resolved';

export type NotificationKind = 'opened' | 'changed' | 'reminder' | 'escalated' | 'resolved';

/** One message to one receiver; what every receiver kind knows how to send. */
export interface InboxNotification {
  itemId: string;
  title: string;
  state: InboxItemState;
  severity: string;
  /** Why the item is in its state, in the operator's words. */
  reason: string;
  host?: string;
  zone?: string;
  /** Where a person opens the item. */
  url?: string;
  kind: NotificationKind;
}

/** What routing needs to know of an item. */
export interface RoutableItem {
  id: string;
  title: string;
  state: InboxItemState;
  /** When the item entered its current state: each state change is told once, and restarts reminders and escalation. */
  stateSince: Date;
  severity: string;
  reason: string;
  host?: string;
  zone?: string;
  role?: string;
  source?: string;
  url?: string;
}

/** Each list allows any of its values; a field left out matches everything. */
export interface RouteMatch {
  severity?: string[];
  zone?: string[];
  role?: string[];
  source?: string[];
  state?: InboxItemState[];
}

export interface NotificationRoute {
  match: RouteMatch;
  receiver: string;
  /** Remind the receiver this often while the item stays unacknowledged (needs-person). */
  repeatIntervalMs?: number;
  /** After this long unacknowledged, tell `escalateTo` once. */
  escalateAfterMs?: number;
  escalateTo?: string;
  /** Keep matching the routes after this one. */
  continue?: boolean;
}

/** A delivery already made (or given up on after its bounded retries): it counts either way. */
export interface NotificationDelivery {
  receiver: string;
  kind: NotificationKind;
  /** The item's `stateSince` when it was sent: which state change it told. */
  stateSince: Date;
  at: Date;
}

export interface DueNotification {
  receiver: string;
  message: InboxNotification;
}

/** States in which nobody is told anything new: a person or a silence asked for quiet. */
const QUIET_STATES: ReadonlySet<InboxItemState> = new Set(['snoozed', 'silenced']);
/** The one state that is reminded and escalated. */
const UNACKNOWLEDGED: InboxItemState = 'needs-person';

function allows<T extends string>(allowed: T[] | undefined, value: T | undefined): boolean {
  return allowed === undefined || (value !== undefined && allowed.includes(value));
}

export function routeMatches(route: NotificationRoute, item: RoutableItem): boolean {
  const m = route.match;
  return (
    allows(m.severity, item.severity) &&
    allows(m.zone, item.zone) &&
    allows(m.role, item.role) &&
    allows(m.source, item.source) &&
    allows(m.state, item.state)
  );
}

/** The routes an item takes: the first that matches, and those after it while each matched one says `continue`. */
export function matchingRoutes(item: RoutableItem, routes: NotificationRoute[]): NotificationRoute[] {
  const taken: NotificationRoute[] = [];
  for (const route of routes) {
    if (!routeMatches(route, item)) continue;
    taken.push(route);
    if (!route.continue) break;
  }
  return taken;
}

/**
 * The messages to send now for one item. Triggers, per receiver, at most one
 * message per call:
 * - `opened`: a matching route's receiver that was never told of this item (not for a resolved item).
 * - `changed` / `resolved`: a receiver told of this item before (by any route, or as an escalation)
 *   that has not been told of its current state; once per state change, never once per alert.
 * - `escalated`: the item has needed a person for `escalateAfterMs` since it entered that state;
 *   once per such stretch, to the route's `escalateTo`.
 * - `reminder`: the item still needs a person and the receiver's last message is `repeatIntervalMs` old.
 * Snoozed and silenced items produce nothing. Deliveries that failed after their bounded retries
 * count as made, so a broken receiver is not retried on every evaluation (the reminder tries again).
 */
export function notificationsDue(
  item: RoutableItem,
  routes: NotificationRoute[],
  /** This item's deliveries so far. */
  deliveries: NotificationDelivery[],
  now: Date,
): DueNotification[] {
  if (QUIET_STATES.has(item.state)) return [];
  const told = new Set(deliveries.map((d) => d.receiver));
  const toldOfThisState = new Set(deliveries.filter((d) => sameStateChange(d, item)).map((d) => d.receiver));
  const due = new Map<string, NotificationKind>();
  const add = (receiver: string, kind: NotificationKind) => {
    if (!due.has(receiver)) due.set(receiver, kind);
  };
  const matched = matchingRoutes(item, routes);
  const unacknowledgedFor = now.getTime() - item.stateSince.getTime();

  for (const route of matched) {
    if (item.state !== UNACKNOWLEDGED || route.escalateTo === undefined || route.escalateAfterMs === undefined)
      continue;
    const escalated = deliveries.some(
      (d) => d.receiver === route.escalateTo && d.kind === 'escalated' && sameStateChange(d, item),
    );
    if (unacknowledgedFor >= route.escalateAfterMs && !escalated) add(route.escalateTo, 'escalated');
  }
  for (const receiver of told) {
    if (!toldOfThisState.has(receiver)) add(receiver, item.state === 'resolved' ? 'resolved' : 'changed');
  }
  if (item.state !== 'resolved') {
    for (const route of matched) if (!told.has(route.receiver)) add(route.receiver, 'opened');
  }
  if (item.state === UNACKNOWLEDGED) {
    for (const route of matched) {
      if (route.repeatIntervalMs === undefined) continue;
      const last = lastDeliveryTo(route.receiver, deliveries);
      if (last && now.getTime() - last.getTime() >= route.repeatIntervalMs) add(route.receiver, 'reminder');
    }
  }
  return [...due].map(([receiver, kind]) => ({ receiver, message: messageFor(item, kind) }));
}

function sameStateChange(delivery: NotificationDelivery, item: RoutableItem): boolean {
  return delivery.stateSince.getTime() === item.stateSince.getTime();
}

function lastDeliveryTo(receiver: string, deliveries: NotificationDelivery[]): Date | undefined {
  let last: Date | undefined;
  for (const d of deliveries) if (d.receiver === receiver && (!last || d.at > last)) last = d.at;
  return last;
}

function messageFor(item: RoutableItem, kind: NotificationKind): InboxNotification {
  const message: InboxNotification = {
    itemId: item.id,
    title: item.title,
    state: item.state,
    severity: item.severity,
    reason: item.reason,
    kind,
  };
  if (item.host !== undefined) message.host = item.host;
  if (item.zone !== undefined) message.zone = item.zone;
  if (item.url !== undefined) message.url = item.url;
  return message;
}
