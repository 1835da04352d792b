/**
 * The policy file format (minimal for now: which signals start the standard
 * remediation, whether it needs approval, which repair steps it runs). One
 * policy a file, YAML, validated here; the full policy language grows from this seam.
 */
import { z } from 'zod';
import { REPAIR_ACTIONS } from '../domain/remediation';

export const policyFileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
    description: z.string().optional(),
    match: z.strictObject({
      signals: z.array(z.string().min(1)).min(1, 'must name at least one signal'),
    }),
    approval: z
      .strictObject({
        required: z.boolean(),
        timeoutSeconds: z.number().int().positive().default(1800),
      })
      .default({ required: false, timeoutSeconds: 1800 }),
    drain: z.strictObject({ emptyTimeoutSeconds: z.number().int().positive().default(900) }).default({ emptyTimeoutSeconds: 900 }),
    repair: z.array(z.enum(REPAIR_ACTIONS)).min(1, 'must list at least one repair step'),
    guards: z
      .strictObject({
        maxConcurrentPerZone: z.strictObject({ count: z.number().int().min(1).optional(), percent: z.number().gt(0).max(100).optional() }).optional(),
        cooldownMinutes: z.number().min(0).optional(),
        maxAttempts: z.strictObject({ count: z.number().int().min(1), windowMinutes: z.number().gt(0) }).optional(),
      })
      .optional(),
    verify: z
      .strictObject({
        attempts: z.number().int().min(1).max(100).default(6),
        intervalSeconds: z.number().int().min(0).max(3600).default(10),
      })
      .default({ attempts: 6, intervalSeconds: 10 }),
  })
  .strict();

export type PolicyFile = z.infer<typeof policyFileSchema>;
