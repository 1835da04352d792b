/**
 * Text Shipshape can keep. PostgreSQL refuses NUL (U+0000) in text and jsonb,
 * and a lone UTF-16 surrogate (what a JSON "\ud800" escape decodes to) in jsonb;
 * in a text column the driver would silently store U+FFFD instead. Every text
 * that comes in (HTTP bodies, query parameters and paths, policy files, token
 * subjects) is checked with this, so such input is a 400 naming the field,
 * never a 500, a half-recorded request or a quietly changed value.
 */
import { z } from 'zod';

const LONE_SURROGATE = /\p{Cs}/u;

export interface Unstorable {
  /** Index of the offending UTF-16 code unit. */
  index: number;
  /** What it is: "a NUL character (\\u0000)". */
  what: string;
  /** Why it cannot be kept. */
  why: string;
}

const hex = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** The first character PostgreSQL cannot store, or null when it can store all of `text`. */
export function findUnstorable(text: string): Unstorable | null {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) return { index: nul, what: 'a NUL character (\\u0000)', why: 'PostgreSQL cannot store it' };
  const lone = LONE_SURROGATE.exec(text);
  if (lone)
    return {
      index: lone.index,
      what: `an unpaired UTF-16 surrogate (${hex(lone[0])})`,
      why: 'text must be valid Unicode',
    };
  return null;
}

/** Why `text` cannot be stored ("contains … at position n"), or null when it can. */
export function unstorableText(text: string): string | null {
  const found = findUnstorable(text);
  return found ? `contains ${found.what} at position ${found.index}; ${found.why}` : null;
}

/** Show NUL and lone surrogates as escapes, so a message that quotes bad text stays printable. */
export function escapeUnstorable(text: string): string {
  return text.replace(/\p{Cs}|\0/gu, hex);
}

/** A zod string that PostgreSQL can store; chain `.min()`, `.max()` as with `z.string()`. */
export function storableText() {
  return z.string().superRefine((value, ctx) => {
    const problem = unstorableText(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}
