/**
 * Is an alert flapping? Nagios's percent state change, with hysteresis and a
 * quiet period. Pure: the caller keeps each alert's observations and the
 * previous verdict.
 *
 * - The history is the alert's last `observations` statuses in arrival
 *   order, repeats included: a repeat of `firing` every group interval is
 *   what a check is to Nagios, and a steady alert's repeats bring its
 *   percentage down.
 * - Each of the window's `observations − 1` transitions weighs from 0.75
 *   (oldest) to 1.25 (newest), as in Nagios; the percentage is the weight of
 *   the transitions that changed state over the weight of all of them. A
 *   short history fills the old end with no change, as Nagios's history
 *   starts full of the current state: three changes in a new alert's first
 *   four observations are not yet a flap.
 * - Hysteresis: an alert starts flapping above `startPercent` and stops
 *   below `stopPercent`; in between it stays as it was.
 * - Quiet period: with no state change for `quietMinutes`, an alert is not
 *   flapping, whatever its percentage (observations stop arriving once an
 *   alert is steady, so the percentage alone would never fall).
 */

/** One observed status of an alert. */
export interface FlapObservation {
  at: Date;
  status: 'firing' | 'resolved';
}

export interface FlapSettings {
  /** Observations in the window (Nagios: 21). */
  observations: number;
  /** Start flapping above this percentage. */
  startPercent: number;
  /** Stop flapping below this percentage. */
  stopPercent: number;
  /** No state change for this long ends flapping. */
  quietMinutes: number;
}

export const DEFAULT_FLAP_SETTINGS: FlapSettings = {
  observations: 21,
  startPercent: 50,
  stopPercent: 25,
  quietMinutes: 30,
};

export interface FlapVerdict {
  flapping: boolean;
  /** Weighted percent state change over the window, to one decimal. */
  percent: number;
  reason: string;
}

const OLDEST_WEIGHT = 0.75;
const NEWEST_WEIGHT = 1.25;

/** The weighted percent state change of `history` (oldest first), to one decimal. */
export function percentStateChange(history: FlapObservation[], observations: number): number {
  const recent = history.slice(-observations);
  const transitions = observations - 1;
  if (transitions < 1) return 0;
  const weight = (slot: number) =>
    transitions === 1 ? 1 : OLDEST_WEIGHT + ((NEWEST_WEIGHT - OLDEST_WEIGHT) * slot) / (transitions - 1);
  let total = 0;
  let changed = 0;
  for (let slot = 0; slot < transitions; slot++) total += weight(slot);
  // The newest transition sits in the newest slot; a short history leaves the oldest slots empty (no change).
  const offset = transitions - (recent.length - 1);
  for (let i = 1; i < recent.length; i++)
    if (recent[i]!.status !== recent[i - 1]!.status) changed += weight(offset + i - 1);
  return Math.round((changed / total) * 1000) / 10;
}

/** When the alert's status last changed, or null if it never did. */
export function lastStateChange(history: FlapObservation[]): Date | null {
  for (let i = history.length - 1; i > 0; i--) if (history[i]!.status !== history[i - 1]!.status) return history[i]!.at;
  return null;
}

/** Decide whether the alert flaps now; the rules are in this file's header. `history` is oldest first. */
export function flapState(
  history: FlapObservation[],
  previousFlapping: boolean,
  now: Date,
  settings: FlapSettings = DEFAULT_FLAP_SETTINGS,
): FlapVerdict {
  const percent = percentStateChange(history, settings.observations);
  const changed = lastStateChange(history);
  const quietFor = changed ? (now.getTime() - changed.getTime()) / 60_000 : Infinity;
  const of = `${percent}% state change over the last ${settings.observations} observations`;
  if (quietFor >= settings.quietMinutes) {
    const quiet = `no state change for ${settings.quietMinutes} min`;
    return { flapping: false, percent, reason: previousFlapping ? `${quiet}: flapping stopped` : `${quiet}: steady` };
  }
  if (previousFlapping) {
    if (percent < settings.stopPercent)
      return { flapping: false, percent, reason: `${of}, below ${settings.stopPercent}%: flapping stopped` };
    return { flapping: true, percent, reason: `${of}, not below ${settings.stopPercent}%: still flapping` };
  }
  if (percent > settings.startPercent)
    return { flapping: true, percent, reason: `${of}, above ${settings.startPercent}%: flapping` };
  return { flapping: false, percent, reason: `${of}, not above ${settings.startPercent}%: not flapping` };
}

/** Check flap settings; each problem names the field. */
export function flapSettingsProblems(s: FlapSettings): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(s.observations) || s.observations < 3)
    problems.push('observations: must be a whole number of at least 3');
  if (!(s.startPercent > 0 && s.startPercent <= 100)) problems.push('startPercent: must be above 0 and at most 100');
  if (!(s.stopPercent >= 0 && s.stopPercent <= s.startPercent))
    problems.push('stopPercent: must be from 0 to startPercent (hysteresis: stop at or below where flapping starts)');
  if (!(s.quietMinutes > 0)) problems.push('quietMinutes: must be above 0');
  return problems;
}
