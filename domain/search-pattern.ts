/**
 * Patterns that search command output and file content (compliance rules).
 * RE2, as the label matchers: matching takes time linear in the text, so a
 * rule's pattern cannot stall a scan on a large file. `^` and `$` match at
 * line starts and ends; a pattern matches when it is found anywhere.
 */
import { RE2JS, RE2JSException } from 're2js';

export const MAX_SEARCH_PATTERN_LENGTH = 1000;
export const MAX_SEARCH_PATTERN_PROGRAM = 2000;

const compiled = new Map<string, RE2JS>();

/** Compile a pattern, or say why it is refused. */
export function readSearchPattern(pattern: string): { test: (text: string) => boolean } | { problem: string } {
  if (pattern.length > MAX_SEARCH_PATTERN_LENGTH)
    return { problem: `the pattern is ${pattern.length} characters long; at most ${MAX_SEARCH_PATTERN_LENGTH}` };
  let re = compiled.get(pattern);
  if (!re) {
    try {
      re = RE2JS.compile(pattern, RE2JS.MULTILINE);
    } catch (err) {
      if (err instanceof RE2JSException)
        return {
          problem: `"${pattern}" is not an RE2 regular expression (no backreferences or lookaround): ${err.message}`,
        };
      throw err;
    }
    const size = re.programSize();
    if (size > MAX_SEARCH_PATTERN_PROGRAM)
      return { problem: `the pattern compiles to ${size} RE2 instructions; at most ${MAX_SEARCH_PATTERN_PROGRAM}` };
    if (compiled.size < 1000) compiled.set(pattern, re);
  }
  const r = re;
  return { test: (text) => r.test(text) };
}
