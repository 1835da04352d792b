/**
 * Alertmanager-style label matchers (`env="prod"`, `instance=~"cmp-.*"`), read
 * and tested as Alertmanager does: a missing label is the empty string, and a
 * regular expression must match the whole value (`^(?:pattern)$`) with RE2
 * semantics. RE2 matches in time linear in the value, so a pattern such as
 * `(a+)+` cannot stall the API the way a backtracking engine (JavaScript's
 * RegExp) does; what RE2 cannot do in linear time (backreferences, lookaround)
 * is refused when the policy is read.
 *
 * Kept apart from domain/policy.ts so the workflow bundle, which imports that
 * file, does not carry the regular-expression engine.
 */
import { RE2JS, RE2JSException, RE2JSSyntaxException } from 're2js';

/** Longest pattern a matcher may have, in characters. */
export const MAX_PATTERN_LENGTH = 1000;
/**
 * Largest compiled pattern, in RE2 instructions. A short pattern can expand
 * (`(a{1,999}){1,999}`); matching costs at most instructions × value length,
 * so this cap and the caller's cap on label values bound one test.
 */
export const MAX_PATTERN_PROGRAM = 1000;

export type LabelMatcher =
  | { name: string; op: '=' | '!='; value: string }
  | {
      name: string;
      op: '=~' | '!~';
      value: string;
      /** Does the whole value match the pattern? Compiled once, when the matcher is read. */
      fullMatch: (value: string) => boolean;
    };

export type MatcherReading = { matcher: LabelMatcher } | { problem: string };

export const MATCHER_FORM = 'must be a matcher like env="prod", env!="dev", instance=~"cmp-.*" or job!~"test.*"';

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$/;

/** Read a matcher, or say why it is not one: malformed, or a pattern RE2 refuses or that is too large. */
export function readMatcher(text: string): MatcherReading {
  const m = MATCHER.exec(text);
  if (!m) return { problem: MATCHER_FORM };
  const name = m[1]!;
  const op = m[2] as LabelMatcher['op'];
  const value = m[3]!.replace(/\\(.)/g, '$1');
  if (op === '=' || op === '!=') return { matcher: { name, op, value } };
  const compiled = compileFullMatch(value);
  if ('problem' in compiled) return { problem: `label "${name}": ${compiled.problem}` };
  return { matcher: { name, op, value, fullMatch: compiled.fullMatch } };
}

/** Parse a matcher; null if it is malformed or its pattern is refused (readMatcher says why). */
export function parseMatcher(text: string): LabelMatcher | null {
  const read = readMatcher(text);
  return 'matcher' in read ? read.matcher : null;
}

export function labelMatches(m: LabelMatcher, labels: Record<string, string>): boolean {
  const value = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return m.fullMatch(value);
    case '!~':
      return !m.fullMatch(value);
  }
}

function compileFullMatch(pattern: string): { fullMatch: (value: string) => boolean } | { problem: string } {
  if (pattern.length > MAX_PATTERN_LENGTH)
    return { problem: `the pattern is ${pattern.length} characters long; at most ${MAX_PATTERN_LENGTH}` };
  try {
    // A whole-value match is Alertmanager's `^(?:pattern)$`; compiling the pattern as written also keeps an
    // unbalanced `a)|(b` from escaping the anchors, and the error quotes the pattern as written.
    const compiled = RE2JS.compile(pattern);
    const size = compiled.programSize();
    if (size > MAX_PATTERN_PROGRAM)
      return {
        problem: `the pattern compiles to ${size} RE2 instructions; at most ${MAX_PATTERN_PROGRAM} (repetition counts multiply it)`,
      };
    return { fullMatch: (value) => compiled.testExact(value) };
  } catch (err) {
    if (err instanceof RE2JSSyntaxException)
      return {
        problem: `"${pattern}" is not an RE2 regular expression (Alertmanager's syntax; no backreferences or lookaround): ${err.getDescription()}${err.getPattern() ? `: \`${err.getPattern()}\`` : ''}`,
      };
    if (err instanceof RE2JSException) return { problem: `"${pattern}" cannot be compiled: ${err.message}` };
    throw err;
  }
}
