/**
 * The fleet-wide guards file (policies/guards.yaml). Defaults are
 * conservative and usable at every zone size: one remediation per zone and
 * 10 % of the fleet at once, at most 3 hosts and 25 % of a zone out of
 * service (never below one host), and a breaker at 5 take-outs or 30 % of a
 * zone within an hour (never below two).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Config } from '../config';
import type { Logger } from '../config/logger';
import type { GuardConfig } from '../domain/guards';
import { WEEKDAYS } from '../domain/windows';
import { PolicyError } from './loader';
import { attemptsSchema, limitSchema } from './schema';

const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'must be HH:MM or HH:MM:SS');
const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Europe/Berlin');

const floorSchema = z
  .strictObject({ count: z.number().int().min(0).optional(), percent: z.number().min(0).max(100).optional() })
  .refine((f) => f.count !== undefined || f.percent !== undefined, 'needs count, percent or both');

const breakerSchema = z
  .strictObject({
    // One host going bad is what remediation is for: a breaker that trips on it would stop every zone on its first fix.
    count: z
      .number()
      .int()
      .min(2, 'must be at least 2: to have a person approve every take-out, give the policy an approval rule')
      .optional(),
    percent: z.number().gt(0).max(100).optional(),
    windowMinutes: z.number().gt(0),
  })
  .refine((b) => b.count !== undefined || b.percent !== undefined, 'needs count, percent or both');

export const guardFileSchema = z
  .strictObject({
    maxConcurrentPerZone: limitSchema.default({ count: 1 }),
    maxConcurrentFleet: limitSchema.default({ percent: 10 }),
    maxOutOfServicePerZone: limitSchema.default({ count: 3, percent: 25 }),
    minInServicePerZone: floorSchema.optional(),
    /** Before minInServicePerZone: still read, as minInServicePerZone.percent. */
    minInServicePercentPerZone: z.number().min(0).max(100).optional(),
    minFreeVcpuPercentPerZone: z.number().min(0).max(100).default(10),
    rateLimit: z
      .strictObject({ starts: z.number().int().min(1), windowMinutes: z.number().gt(0) })
      .default({ starts: 10, windowMinutes: 60 }),
    cooldownMinutes: z.number().min(0).default(60),
    maxAttempts: attemptsSchema.default({ count: 3, windowMinutes: 1440 }),
    breaker: breakerSchema.default({ count: 5, percent: 30, windowMinutes: 60 }),
    windows: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          effect: z.enum(['allow', 'forbid']),
          days: z.array(z.enum(WEEKDAYS)).min(1),
          start: time,
          end: time,
          timezone,
          /** Only hosts of these zones (default: every zone). */
          zones: z.array(z.string().min(1)).min(1).optional(),
          /** While the window is open, the inbox silences the alerts of the hosts it covers. */
          silence: z.boolean().default(false),
        }),
      )
      .default([]),
    waitTimeoutMinutes: z.number().gt(0).default(60),
    pollSeconds: z.number().gt(0).max(600).default(10),
  })
  .refine((g) => g.minInServicePercentPerZone === undefined || g.minInServicePerZone?.percent === undefined, {
    path: ['minInServicePercentPerZone'],
    message: 'replaced by minInServicePerZone.percent; give only one of them',
  })
  .transform(({ minInServicePercentPerZone, minInServicePerZone, ...rest }): GuardConfig => {
    const floor =
      minInServicePercentPerZone === undefined
        ? minInServicePerZone
        : { ...minInServicePerZone, percent: minInServicePercentPerZone };
    return floor ? { ...rest, minInServicePerZone: floor } : rest;
  });

export const DEFAULT_GUARDS: GuardConfig = guardFileSchema.parse({});

/** Parse a guards file's text; errors name the file and the field. */
export function parseGuards(file: string, text: string): GuardConfig {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (err) {
    throw new PolicyError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  const result = guardFileSchema.safeParse(raw);
  if (!result.success)
    throw new PolicyError(
      `${file}: ${result.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`,
    );
  return result.data;
}

/**
 * Guards as the file says now: re-read when it changes (checked at most every
 * few seconds); a bad edit keeps the last good guards and says why.
 */
export function watchGuards(path: string, onError: (message: string) => void = () => undefined): () => GuardConfig {
  let current = existsSync(path) ? parseGuards(path, readFileSync(path, 'utf8')) : DEFAULT_GUARDS;
  let lastText: string | null = null;
  let checkedAt = 0;
  return () => {
    if (Date.now() - checkedAt < 2000) return current;
    checkedAt = Date.now();
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (text === lastText) return current;
    lastText = text;
    try {
      current = text ? parseGuards(path, text) : DEFAULT_GUARDS;
    } catch (err) {
      onError((err as Error).message);
    }
    return current;
  };
}

/**
 * The fleet-wide guards of the configured file (SHIPSHAPE_GUARDS_FILE, else
 * guards.yaml in the policy folder), re-read when it changes. A bad file at
 * start-up stops the process; a bad edit later is logged and the last good guards kept.
 */
export function watchGuardsFile(
  config: Pick<Config, 'SHIPSHAPE_GUARDS_FILE' | 'SHIPSHAPE_POLICY_DIR'>,
  logger: Logger,
): () => GuardConfig {
  const file = config.SHIPSHAPE_GUARDS_FILE ?? join(config.SHIPSHAPE_POLICY_DIR, 'guards.yaml');
  return watchGuards(file, (message) =>
    logger.error({ file }, `guards file rejected, keeping the last good guards: ${message}`),
  );
}
