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
}

function seconds(hms: string): number {
  const [h = 0, m = 0, s = 0] = hms.split(':').map(Number);
  return h * 3600 + m * 60 + s;
}

/** Weekday and seconds since local midnight of `at` in `timezone`. */
export function localTime(at: Date, timezone: string): { day: Weekday; seconds: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
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
