/**
 * The reclaim rule format: one rule a YAML file in policies/reclaim/.
 * Validated here; the same schema produces policies/reclaim.schema.json for
 * editors (npm run build).
 *
 * Durations carry their unit (`30d`, `12h`, `10m`): a bare number is refused,
 * so no grace period is ever read in the wrong unit — the way destructive
 * actions ran early for others (cloud-custodian #6106).
 */
import { z } from 'zod';
import { ACTIONS_FOR, CHECK_RESOURCE, RECLAIM_ACTIONS, readDuration, STOPPED_SERVER_STATES } from '../domain/reclaim';

export { readDuration };
import { storableText } from '../domain/text';
import { SEVERITIES } from '../domain/types';

const duration = (what: string, minMs = 0) =>
  z
    .union([z.string(), z.number()])
    .transform((text, ctx) => {
      const read =
        typeof text === 'number'
          ? { problem: `${text} has no unit: write ${text}d, ${text}h or ${text}m (days, hours, minutes)` }
          : readDuration(text);
      if (typeof read !== 'number') {
        ctx.addIssue({ code: 'custom', message: read.problem });
        return z.NEVER;
      }
      if (read < minMs) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${minMs / 60_000} minutes` });
        return z.NEVER;
      }
      return read;
    })
    .describe(`${what}: a whole number with a unit, d, h or m (30d, 12h, 10m)`);

const olderThan = duration('How long the resource has been unused before it is flagged');

const check = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('server-stopped'),
    states: z.array(z.enum(STOPPED_SERVER_STATES)).min(1).default(['SHUTOFF']),
    olderThan,
  }),
  z.strictObject({
    type: z.literal('server-idle'),
    query: storableText()
      .min(1)
      .describe(
        'A PromQL query with one series per server, labelled by the server id (label `server_id`), over the window',
      ),
    below: z.number().describe('A server whose value is below this is idle'),
    window: duration('The window the query averages over', 60_000),
  }),
  z.strictObject({ type: z.literal('volume-detached'), olderThan }),
  z.strictObject({ type: z.literal('snapshot-old'), olderThan }),
  z.strictObject({ type: z.literal('image-unused'), olderThan }),
  z.strictObject({ type: z.literal('floating-ip-unassociated'), olderThan }),
  z.strictObject({ type: z.literal('port-unbound'), olderThan }),
]);

const name = z
  .string()
  .max(100)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes');

export const reclaimRuleSchema = z
  .strictObject({
    name,
    version: storableText().min(1).max(40),
    description: storableText().min(1).max(2000),
    severity: z.enum(SEVERITIES).default('warning'),
    check,
    scope: z
      .strictObject({
        projects: z
          .array(storableText().min(1))
          .min(1)
          .optional()
          .describe('Project ids or names; every project when absent'),
        domains: z
          .array(storableText().min(1))
          .min(1)
          .optional()
          .describe('Domain ids or names; every domain when absent'),
        tags: z.array(storableText().min(1)).min(1).optional().describe('Only resources with all of these tags'),
        excludeTags: z
          .array(storableText().min(1))
          .min(1)
          .optional()
          .describe('Never resources with any of these tags'),
      })
      .default({}),
    lifecycle: z.strictObject({
      action: z.enum(RECLAIM_ACTIONS).describe('The reversible step once the grace period is over'),
      snapshotFirst: z.boolean().default(false).describe('Servers: take a snapshot before the reversible step'),
      grace: duration('From the owner’s first notice to the reversible step', 60_000),
      remindBefore: z.array(duration('A reminder this long before the grace period ends')).max(5).default([]),
      restoreWindow: duration('From the reversible step to the deletion; an operator may restore meanwhile', 60_000),
      maxExtension: duration('How much the owner may extend, in all').default(0),
    }),
    dryRun: z
      .boolean()
      .default(true)
      .describe('Flag and report only: nobody is told, nothing is done. The shipped rules start so; set false to act'),
  })
  .superRefine((rule, ctx) => {
    const kind = CHECK_RESOURCE[rule.check.type];
    if (!ACTIONS_FOR[kind].includes(rule.lifecycle.action))
      ctx.addIssue({
        code: 'custom',
        path: ['lifecycle', 'action'],
        message: `a ${rule.check.type} rule acts on ${kind}s, which allow ${ACTIONS_FOR[kind].join(', ')}`,
      });
    for (const [i, before] of rule.lifecycle.remindBefore.entries())
      if (before >= rule.lifecycle.grace)
        ctx.addIssue({
          code: 'custom',
          path: ['lifecycle', 'remindBefore', i],
          message: 'must be shorter than the grace period, or the reminder would come before the notice',
        });
    if (rule.lifecycle.snapshotFirst && kind !== 'server')
      ctx.addIssue({
        code: 'custom',
        path: ['lifecycle', 'snapshotFirst'],
        message: 'only a server is snapshotted first (a volume is by snapshot-and-delete)',
      });
  });

export type ReclaimRuleFile = z.infer<typeof reclaimRuleSchema>;

/** The JSON Schema editors use to complete and check reclaim rule files. */
export function reclaimJsonSchema(): unknown {
  return {
    $id: 'https://shipshape.dev/reclaim.schema.json',
    title: 'Shipshape reclaim rule',
    ...z.toJSONSchema(reclaimRuleSchema, { io: 'input' }),
  };
}
