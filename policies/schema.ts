/**
 * The policy file format: one policy a YAML file. Validated here; the same
 * schema produces policies/policy.schema.json for editors (npm run build).
 */
import { z } from 'zod';
import { readMatcher } from '../domain/label-matcher';
import { CONFIRM_CHECKS, DEFAULT_CONFIRM_CHECKS } from '../domain/policy';
import { COMPLIANCE_DRIFT_SIGNAL } from '../domain/compliance-drift';
import { LADDER_ACTIONS } from '../domain/remediation';
import { storableText } from '../domain/text';
import { API_ROLES, ROLES, SEVERITIES } from '../domain/types';

/** A cap as a host count and/or a percentage (the stricter applies). */
export const limitSchema = z
  .strictObject({ count: z.number().int().min(1).optional(), percent: z.number().gt(0).max(100).optional() })
  .refine((l) => l.count !== undefined || l.percent !== undefined, 'needs count, percent or both');
export const attemptsSchema = z.strictObject({ count: z.number().int().min(1), windowMinutes: z.number().gt(0) });

const seconds = (max: number) => z.number().int().min(1).max(max);

export const ladderStepSchema = z
  .strictObject({
    action: z.enum(LADDER_ACTIONS).describe('What to do: a repair action, a notification, or a pause'),
    timeoutSeconds: seconds(86_400).optional().describe('How long the action itself may take'),
    retries: z.number().int().min(0).max(10).optional().describe('Retries of the action when it fails'),
    fixWithinSeconds: seconds(86_400)
      .optional()
      .describe('If the host is not healthy this long after the action, try the next step'),
    message: storableText().min(1).optional().describe('For notify: what to tell the operator'),
    seconds: seconds(86_400).optional().describe('For wait: how long'),
  })
  .refine((s) => s.action !== 'wait' || s.seconds !== undefined, {
    message: 'a wait step needs seconds',
    path: ['seconds'],
  })
  .refine((s) => s.action !== 'notify' || s.message !== undefined, {
    message: 'a notify step needs a message',
    path: ['message'],
  });

/** Names that are not policies: guards.yaml is the fleet-wide guards file in the same folder. */
export const RESERVED_POLICY_NAMES = ['guards'] as const;
/** Label matchers one policy may list. */
export const MAX_MATCHERS = 32;

/** A policy's name is also the stem of its file: a safe file name, and not one the folder uses for something else. */
export const policyName = z
  .string()
  .max(100)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes')
  .refine(
    (n) => !(RESERVED_POLICY_NAMES as readonly string[]).includes(n),
    'is reserved: guards.yaml in the policy folder is the fleet-wide guards file, not a policy',
  );

export const policyFileSchema = z
  .strictObject({
    name: policyName,
    description: storableText().optional(),
    priority: z
      .number()
      .int()
      .min(-1000)
      .max(1000)
      .default(0)
      .describe('Higher goes first when several policies match; ties go by file name'),
    match: z.strictObject({
      signals: z.array(storableText().min(1)).min(1, 'must name at least one signal'),
      labels: z
        .array(
          storableText().superRefine((m, ctx) => {
            const read = readMatcher(m);
            if ('problem' in read) ctx.addIssue({ code: 'custom', message: read.problem });
          }),
        )
        .max(MAX_MATCHERS, `at most ${MAX_MATCHERS} matchers`)
        .default([])
        .describe(
          'Alertmanager-style label matchers; all must hold. Regular expressions (=~, !~) are RE2, as in Alertmanager, and match the whole value',
        ),
      severity: z.array(z.enum(SEVERITIES)).min(1).optional(),
      roles: z.array(z.enum(ROLES)).min(1).optional(),
      zones: z.array(storableText().min(1)).min(1).optional(),
    }),
    confirm: z
      .array(z.enum(CONFIRM_CHECKS))
      .min(1)
      .default([...DEFAULT_CONFIRM_CHECKS])
      .describe(
        'Checks that must show the problem before anything is done, and that verification must find clear; default host-health, power, compute-service',
      ),
    approval: z
      .strictObject({
        mode: z.enum(['never', 'always', 'when']),
        when: z
          .strictObject({
            serversMoreThan: z.number().int().min(0).optional(),
            zones: z.array(storableText().min(1)).optional(),
            severities: z.array(z.enum(SEVERITIES)).optional(),
          })
          .optional(),
        approverRoles: z.array(z.enum(API_ROLES)).min(1).default(['approver', 'admin']),
        timeoutSeconds: seconds(7 * 86_400).default(1800),
        onTimeout: z.enum(['escalate', 'reject', 'proceed']).default('escalate'),
      })
      .refine((a) => a.mode !== 'when' || a.when !== undefined, {
        message: 'mode "when" needs a when: condition',
        path: ['when'],
      })
      .default({ mode: 'never', approverRoles: ['approver', 'admin'], timeoutSeconds: 1800, onTimeout: 'escalate' }),
    drain: z
      .strictObject({
        emptyTimeoutSeconds: seconds(86_400).default(900),
        coldMigrationFallback: z
          .boolean()
          .default(false)
          .describe(
            'A server that cannot be live-migrated (stopped, or its live migration failed) is cold-migrated instead: it is stopped, moved and confirmed',
          ),
        evacuate: z
          .enum(['never', 'when-host-down'])
          .default('never')
          .describe(
            'when-host-down: a host whose compute service is down or that is powered off is fenced (forced down) and its servers are evacuated: rebuilt on other hosts',
          ),
        evacuationApproval: z
          .boolean()
          .default(true)
          .describe('A person approves an evacuation before it starts (default true)'),
      })
      .default({ emptyTimeoutSeconds: 900, coldMigrationFallback: false, evacuate: 'never', evacuationApproval: true }),
    steps: z
      .array(ladderStepSchema)
      .min(1, 'must list at least one step')
      .describe(
        'The escalation ladder: tried in order until the host is healthy; when it runs out, the host goes to an operator. A ladder without a repair action (notify, wait) drains the host and hands it to a person',
      ),
    verify: z
      .strictObject({
        attempts: z.number().int().min(1).max(100).default(6),
        intervalSeconds: z.number().int().min(0).max(3600).default(10),
      })
      .default({ attempts: 6, intervalSeconds: 10 }),
    guards: z
      .strictObject({
        maxConcurrentPerZone: limitSchema.optional(),
        cooldownMinutes: z.number().min(0).optional(),
        maxAttempts: attemptsSchema.optional(),
      })
      .optional()
      .describe('Guards this policy tightens beyond the fleet-wide ones'),
  })
  .superRefine((p, ctx) => {
    // A compliance drift is fixed by its rule's own fix, and only a drift has one.
    const drift = p.match.signals.length === 1 && p.match.signals[0] === COMPLIANCE_DRIFT_SIGNAL;
    const fixAt = p.steps.findIndex((s) => s.action === 'compliance-fix');
    if (fixAt >= 0 && !drift)
      ctx.addIssue({
        code: 'custom',
        path: ['steps', fixAt, 'action'],
        message: `compliance-fix applies a failing rule's fix: only a policy whose match.signals is [${COMPLIANCE_DRIFT_SIGNAL}] may list it`,
      });
    if (drift && (p.steps.length !== 1 || fixAt !== 0))
      ctx.addIssue({
        code: 'custom',
        path: ['steps'],
        message: `a policy for ${COMPLIANCE_DRIFT_SIGNAL} has exactly one step, { action: compliance-fix }: the rule's own fix, rescanned before it counts`,
      });
  });

export type PolicyFile = z.infer<typeof policyFileSchema>;

/** The JSON Schema editors use to complete and check policy files. */
export function policyJsonSchema(): unknown {
  return {
    $id: 'https://shipshape.dev/policy.schema.json',
    title: 'Shipshape remediation policy',
    ...z.toJSONSchema(policyFileSchema, { io: 'input' }),
  };
}
