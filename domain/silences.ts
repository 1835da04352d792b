/**
 * Silences: label matchers (the ones policies use: =, !=, =~, !~, RE2,
 * whole-value) with a start, an end, a creator and a comment, optionally
 * ending when the alert they silenced resolves (what Alertmanager refused in
 * #1057). Pure: the caller stores silences and, when an alert resolves,
 * records the end of those {@link silencesEndedBy} names.
 *
 * Imports the RE2 engine (domain/label-matcher.ts): keep it out of files the
 * workflow bundle imports.
 */
import { labelMatches, readMatcher, type LabelMatcher } from './label-matcher';
import { unstorableText } from './text';

/** A silence as read and checked. */
export interface Silence {
  id: string;
  /** Every matcher must hold for the silence to apply. */
  matchers: LabelMatcher[];
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  comment: string;
  /** End the silence once an alert it silenced resolves. */
  endOnResolve: boolean;
  /** When it ended before `endsAt`: an alert it silenced resolved (with `endOnResolve`), or a person expired it. */
  endedAt: Date | null;
}

/** A silence as a person writes it (HTTP body, CLI). */
export interface SilenceInput {
  matchers: string[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  endOnResolve?: boolean;
}

/** A problem with a silence: the field (`matchers.1`, `endsAt`) and why. */
export interface SilenceProblem {
  field: string;
  problem: string;
}

/** The alert a silence is checked against. */
export interface SilenceTarget {
  labels: Record<string, string>;
  /** When the alert resolved, or null while it fires. */
  resolvedAt: Date | null;
}

const MAX_COMMENT = 2000;

/**
 * Read a silence a person wrote, or every problem with it, each naming its
 * field: no matchers; a matcher that is malformed or whose pattern RE2
 * refuses; matchers that would all match an alert with no labels (a silence
 * of everything, which Alertmanager refuses too); a start or end that is not
 * a time; an end not after the start; an end already past; an empty creator
 * or comment; text PostgreSQL cannot store.
 */
export function readSilence(
  id: string,
  input: SilenceInput,
  now: Date,
): { silence: Silence } | { problems: SilenceProblem[] } {
  const problems: SilenceProblem[] = [];
  const matchers = readMatchers(input.matchers, problems);
  const startsAt = readTime('startsAt', input.startsAt, problems);
  const endsAt = readTime('endsAt', input.endsAt, problems);
  if (startsAt && endsAt && endsAt <= startsAt)
    problems.push({ field: 'endsAt', problem: `${input.endsAt} is not after startsAt ${input.startsAt}` });
  else if (endsAt && endsAt <= now)
    problems.push({ field: 'endsAt', problem: `${input.endsAt} has already passed; a silence must end in the future` });
  readText('createdBy', input.createdBy, 200, problems);
  readText('comment', input.comment, MAX_COMMENT, problems);
  if (problems.length > 0 || !startsAt || !endsAt) return { problems };
  const { createdBy, comment } = input;
  return {
    silence: {
      id,
      matchers,
      startsAt,
      endsAt,
      createdBy,
      comment,
      endOnResolve: input.endOnResolve ?? false,
      endedAt: null,
    },
  };
}

function readMatchers(texts: string[], problems: SilenceProblem[]): LabelMatcher[] {
  if (texts.length === 0) {
    problems.push({ field: 'matchers', problem: 'at least one matcher is needed; a silence of everything is refused' });
    return [];
  }
  const matchers: LabelMatcher[] = [];
  texts.forEach((text, i) => {
    const read = readMatcher(text);
    if ('problem' in read) problems.push({ field: `matchers.${i}`, problem: read.problem });
    else matchers.push(read.matcher);
  });
  if (matchers.length === texts.length && matchers.every((m) => labelMatches(m, {})))
    problems.push({
      field: 'matchers',
      problem: 'every matcher also matches an alert without labels, so the silence would silence everything',
    });
  return matchers;
}

function readTime(field: string, text: string, problems: SilenceProblem[]): Date | null {
  const at = /^\d{4}-\d{2}-\d{2}T/.test(text) ? new Date(text) : new Date(NaN);
  if (!Number.isNaN(at.getTime())) return at;
  problems.push({ field, problem: `"${text}" is not an ISO 8601 time such as 2026-11-28T14:00:00Z` });
  return null;
}

function readText(field: string, text: string, max: number, problems: SilenceProblem[]): void {
  const bad = unstorableText(text);
  if (text.trim() === '') problems.push({ field, problem: 'must not be empty' });
  else if (text.length > max) problems.push({ field, problem: `is ${text.length} characters long; at most ${max}` });
  else if (bad) problems.push({ field, problem: bad });
}

/** Do all of the silence's matchers hold for these labels? */
export function silenceMatches(silence: Silence, labels: Record<string, string>): boolean {
  return silence.matchers.every((m) => labelMatches(m, labels));
}

/** When the silence stops applying: its end, or earlier if it ended early. */
export function silenceEnd(silence: Silence): Date {
  return silence.endedAt && silence.endedAt < silence.endsAt ? silence.endedAt : silence.endsAt;
}

/**
 * The silence that applies to an alert now, or null. A silence applies from
 * its start until its end (or its early end), when every matcher holds. With
 * `endOnResolve` it also stops applying to an alert that has resolved since
 * it started, even before the caller recorded the early end. Of several, the
 * one that lasts longest wins (then the earliest started, then by id), so
 * the item shows the silence that will keep it quiet.
 */
export function activeSilence(alert: SilenceTarget, silences: Silence[], now: Date): Silence | null {
  const applying = silences.filter(
    (s) =>
      s.startsAt <= now &&
      now < silenceEnd(s) &&
      !(s.endOnResolve && alert.resolvedAt && alert.resolvedAt >= s.startsAt) &&
      silenceMatches(s, alert.labels),
  );
  applying.sort(
    (a, b) =>
      silenceEnd(b).getTime() - silenceEnd(a).getTime() ||
      a.startsAt.getTime() - b.startsAt.getTime() ||
      a.id.localeCompare(b.id),
  );
  return applying[0] ?? null;
}

/**
 * The silences that end because this alert resolved at `resolvedAt`: those
 * with `endOnResolve` that were silencing it then. The caller records
 * `endedAt = resolvedAt` on each.
 */
export function silencesEndedBy(labels: Record<string, string>, resolvedAt: Date, silences: Silence[]): Silence[] {
  return silences.filter(
    (s) => s.endOnResolve && s.startsAt <= resolvedAt && resolvedAt < silenceEnd(s) && silenceMatches(s, labels),
  );
}

/** A matcher as written: `instance=~"cmp-.*"`. */
export function matcherText(m: LabelMatcher): string {
  return `${m.name}${m.op}"${m.value.replace(/["\\]/g, '\\$&')}"`;
}

/** A silence as stored: matchers as written, checked when it was created. */
export interface StoredSilence extends Omit<Silence, 'matchers'> {
  matchers: string[];
}

/** Rebuild a stored silence; a matcher that no longer reads (the rules tightened) is an error naming it. */
export function fromStored(stored: StoredSilence): Silence {
  const matchers = stored.matchers.map((text, i) => {
    const read = readMatcher(text);
    if ('problem' in read) throw new Error(`silence ${stored.id}: matchers.${i}: ${read.problem}`);
    return read.matcher;
  });
  return { ...stored, matchers };
}
