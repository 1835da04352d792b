/**
 * Recurring maintenance windows in the operator's time zone. `allow` windows,
 * if any are defined, are the only times automation may act; `forbid` windows
 * block it (change freezes, business hours). Pure: uses only Intl.
 */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MaintenanceWindow {
  name: string;
  effect: 'allow' | 'forbid';
  days: Weekday[];
  /** "HH:MM" or "HH:MM:SS" local time; a window whose end is before its start crosses midnight. */
  start: string;
  end: string;
  timezone: string;
  /** The zones whose hosts it covers; absent: every zone. */
  zones?: string[];
  /** While it is open, the inbox silences the alerts of the hosts it covers (planned work). */
  silence?: boolean;
}

/** Does the window cover hosts of `zone`? */
export function coversZone(w: MaintenanceWindow, zone: string): boolean {
  return !w.zones || w.zones.includes(zone);
}

function seconds(hms: string): number {
  const [h = 0, m = 0, s = 0] = hms.split(':').map(Number);
  return h * 3600 + m * 60 + s;
}

/** One formatter per time zone: making one costs far more than using it. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** Weekday and seconds since local midnight of `at` in `timezone`. */
export function localTime(at: Date, timezone: string): { day: Weekday; seconds: number } {
  const parts = formatterFor(timezone).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '0';
  const day = get('weekday').toLowerCase().slice(0, 3) as Weekday;
  return { day, seconds: Number(get('hour')) * 3600 + Number(get('minute')) * 60 + Number(get('second')) };
}

export function isInside(w: MaintenanceWindow, at: Date): boolean {
  const { day, seconds: now } = localTime(at, w.timezone);
  const start = seconds(w.start);
  const end = seconds(w.end);
  if (start <= end) return w.days.includes(day) && now >= start && now < end;
  // Crosses midnight: the part after midnight belongs to the previous day's window.
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]!;
  return (w.days.includes(day) && now >= start) || (w.days.includes(yesterday) && now < end);
}

export function windowVerdict(
  windows: MaintenanceWindow[],
  at: Date,
): { open: true } | { open: false; reason: string } {
  const forbidding = windows.find((w) => w.effect === 'forbid' && isInside(w, at));
  if (forbidding) return { open: false, reason: `inside forbidding window "${forbidding.name}"` };
  const allows = windows.filter((w) => w.effect === 'allow');
  if (allows.length > 0 && !allows.some((w) => isInside(w, at))) {
    return { open: false, reason: `outside every allowing window (${allows.map((w) => w.name).join(', ')})` };
  }
  return { open: true };
}

/**
 * The occurrence of `w` that `at` is inside: when it began and when it ends,
 * to the minute; null when `at` is outside the window. Looks at most eight
 * days either way (a window listed on every day with no gap never ends).
 */
export function windowOccurrence(w: MaintenanceWindow, at: Date): { start: Date; end: Date } | null {
  if (!isInside(w, at)) return null;
  const minute = 60_000;
  const edge = (direction: 1 | -1): Date => {
    // Minute by minute to the last moment inside: a gap of one minute (a window ending 23:59) is an edge too.
    let inside = new Date(Math.floor(at.getTime() / minute) * minute);
    for (let i = 0; i < 8 * 1440; i++) {
      const next = new Date(inside.getTime() + direction * minute);
      if (!isInside(w, next)) break;
      inside = next;
    }
    return direction === 1 ? new Date(inside.getTime() + minute) : inside;
  };
  return { start: edge(-1), end: edge(1) };
}
