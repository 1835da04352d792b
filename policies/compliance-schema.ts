/**
 * The compliance profile format: one profile a YAML file in
 * policies/compliance/. Validated here; the same schema produces
 * policies/compliance.schema.json for editors (npm run build).
 */
import { z } from 'zod';
import { DISRUPTIONS } from '../domain/compliance';
import { readVersionConstraint } from '../domain/debian-version';
import { readMatcher } from '../domain/label-matcher';
import { REPAIR_ACTIONS } from '../domain/remediation';
import { readSearchPattern } from '../domain/search-pattern';
import { storableText } from '../domain/text';
import { ROLES, SEVERITIES } from '../domain/types';

const kebab = /^[a-z0-9][a-z0-9-]*$/;

/** A Temporal Schedule's cron: five fields (minute hour day-of-month month day-of-week), numbers, ranges, steps, lists. */
const CRON_FIELDS: [string, number, number][] = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
];
export function cronProblem(cron: string): string | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5)
    return `must have 5 fields (minute hour day-of-month month day-of-week), has ${fields.length}`;
  for (const [i, field] of fields.entries()) {
    const [name, min, max] = CRON_FIELDS[i]!;
    for (const part of field.split(',')) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
      if (!m) return `the ${name} field "${field}" must be *, a number, a range a-b, a step /n, or a list of those`;
      const numbers = [m[2], m[3]].filter((n): n is string => n !== undefined).map(Number);
      if (numbers.some((n) => n < min || n > max)) return `the ${name} field "${field}" must stay within ${min}-${max}`;
      if (m[4] !== undefined && Number(m[4]) === 0) return `the ${name} field "${field}" has a step of 0`;
    }
  }
  return null;
}

const text = (max: number) => storableText().min(1).max(max);
/** An absolute path, one line: it goes to the host shell-quoted, as one word. */
const hostPath = storableText()
  .max(4096)
  .regex(/^\/[^\n\r]*$/, 'must be an absolute path on one line');
/** A shell command written by the profile's author: one line. */
const shellCommand = storableText()
  .min(1)
  .max(4000)
  .regex(/^[^\n\r]*$/, 'must be one line');
const searchPattern = storableText().superRefine((p, ctx) => {
  const read = readSearchPattern(p);
  if ('problem' in read) ctx.addIssue({ code: 'custom', message: read.problem });
});
const presence = z.enum(['present', 'absent']);

const packageCheck = z.strictObject({
  type: z.literal('package'),
  package: z
    .string()
    .max(200)
    .regex(/^[a-z0-9][a-z0-9+.-]+$/, 'must be a Debian package name (lower-case letters, digits, + . -)'),
  installed: z.boolean().default(true).describe('false: the package must not be installed'),
  version: z
    .string()
    .superRefine((v, ctx) => {
      const read = readVersionConstraint(v);
      if ('problem' in read) ctx.addIssue({ code: 'custom', message: read.problem });
    })
    .optional()
    .describe('A Debian version constraint: <<, <=, =, >= or >> and a version, e.g. ">= 1:9.2p1-2+deb12u3"'),
});
const settingCheck = z
  .strictObject({
    type: z.literal('setting'),
    path: hostPath.optional().describe('The file of key value (or key = value) lines'),
    command: shellCommand.optional().describe('Or a command that prints such lines (e.g. sshd -T)'),
    key: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\s=#]+$/, 'must be one word without = or #'),
    allowed: z.array(text(500)).min(1).describe('The values that pass'),
    default: text(500).optional().describe('The value when the key is not set'),
    precedence: z.enum(['first', 'last']).default('last').describe('Which occurrence counts: sshd keeps the first'),
    ignoreCase: z.boolean().default(false).describe('Compare keys and values case-insensitively'),
  })
  .refine((c) => (c.path === undefined) !== (c.command === undefined), {
    message: 'needs exactly one of path and command',
    path: ['path'],
  });
const fileContentCheck = z.strictObject({
  type: z.literal('file-content'),
  path: hostPath,
  pattern: searchPattern.describe('RE2; ^ and $ match at each line; found anywhere'),
  expect: presence.default('present'),
});
const fileModeCheck = z
  .strictObject({
    type: z.literal('file-mode'),
    path: hostPath,
    mode: z
      .string()
      .regex(/^0?[0-7]{3,4}$/, 'must be an octal mode such as 0640')
      .optional()
      .describe('The most the mode may grant: stricter passes'),
    owner: text(64).optional(),
    group: z.array(text(64)).min(1).optional().describe('The groups allowed'),
  })
  .refine((c) => c.mode !== undefined || c.owner !== undefined || c.group !== undefined, {
    message: 'needs mode, owner or group',
    path: ['mode'],
  });
const serviceCheck = z
  .strictObject({
    type: z.literal('service'),
    unit: z
      .string()
      .max(256)
      .regex(/^[A-Za-z0-9_:.@\\-]+$/, 'must be a systemd unit name')
      .regex(/^[^-]/, 'must not start with -'),
    active: z.boolean().optional(),
    enabled: z.boolean().optional(),
  })
  .refine((c) => c.active !== undefined || c.enabled !== undefined, {
    message: 'needs active, enabled or both',
    path: ['active'],
  });
const commandCheck = z.strictObject({
  type: z.literal('command'),
  command: shellCommand,
  exitCode: z.number().int().min(0).max(255).optional().describe('Default 0 unless output or empty is given'),
  output: z.strictObject({ pattern: searchPattern, expect: presence.default('present') }).optional(),
  empty: z.boolean().optional().describe('true: the command must print nothing'),
});
export const sshCheckSchema = z.discriminatedUnion('type', [
  packageCheck,
  settingCheck,
  fileContentCheck,
  fileModeCheck,
  serviceCheck,
  commandCheck,
]);

export const redfishCheckSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('firmware'),
    component: z.enum(['bios', 'bmc']),
    allowed: z
      .record(text(200), z.array(text(200)).min(1))
      .refine((r) => Object.keys(r).length > 0, 'must list at least one model')
      .describe('Allowed versions by system model (Redfish ComputerSystem.Model)'),
    unlistedModels: z.enum(['fail', 'not-applicable']).default('fail'),
  }),
  z.strictObject({
    type: z.literal('bios-attribute'),
    attribute: text(200),
    expected: z.union([text(500), z.number(), z.boolean()]),
  }),
  z.strictObject({ type: z.literal('secure-boot'), enabled: z.boolean().default(true) }),
  z.strictObject({ type: z.literal('psu-redundancy') }),
]);

export const openstackCheckSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('compute-service'),
    enabled: z.boolean().default(true),
    up: z.boolean().default(true),
  }),
  z.strictObject({ type: z.literal('aggregates'), exactly: z.number().int().min(0).max(100) }),
  z.strictObject({ type: z.literal('zones'), exactly: z.number().int().min(0).max(100) }),
  z.strictObject({ type: z.literal('hypervisor-version'), equal: z.literal('fleet-most-common') }),
]);

export const scopeSchema = z
  .strictObject({
    roles: z.array(z.enum(ROLES)).min(1).optional(),
    zones: z.array(text(200)).min(1).optional(),
    labels: z
      .array(
        storableText().superRefine((m, ctx) => {
          const read = readMatcher(m);
          if ('problem' in read) ctx.addIssue({ code: 'custom', message: read.problem });
        }),
      )
      .max(32)
      .optional()
      .describe('Alertmanager-style matchers on the host labels; all must hold'),
  })
  .describe('Which hosts: every field given must hold');

export const fixSchema = z
  .strictObject({
    ssh: shellCommand.optional().describe('A command run on the host over SSH'),
    action: z.enum(REPAIR_ACTIONS).optional().describe('Or a catalog action of the guarded host workflow'),
    disruption: z.enum(DISRUPTIONS).describe('What the fix disturbs: none, a service restart, or a reboot'),
    drain: z.boolean().describe("Move the host's servers away before the fix"),
  })
  .refine((f) => (f.ssh === undefined) !== (f.action === undefined), {
    message: 'needs exactly one of ssh and action',
    path: ['ssh'],
  })
  .refine((f) => f.disruption !== 'reboot' || f.drain, {
    message: "a reboot takes the host's servers down with it: a fix that reboots must drain first (drain: true)",
    path: ['drain'],
  });

const ruleFields = {
  id: z
    .string()
    .max(120)
    .regex(
      /^[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$/,
      'must be <profile prefix>.<kebab-case name>, e.g. os.ssh-root-login-off',
    ),
  title: text(200),
  severity: z.enum(SEVERITIES),
  rationale: text(4000).describe('Why the rule exists: the risk it guards against'),
  scope: scopeSchema.optional().describe("Narrows the profile's scope for this rule"),
  fix: fixSchema.optional(),
};
export const ruleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...ruleFields, kind: z.literal('ssh'), check: sshCheckSchema }),
  z.strictObject({ ...ruleFields, kind: z.literal('redfish'), check: redfishCheckSchema }),
  z.strictObject({ ...ruleFields, kind: z.literal('openstack'), check: openstackCheckSchema }),
]);

export const MAX_RULES = 500;

export const profileFileSchema = z
  .strictObject({
    name: z.string().max(100).regex(kebab, 'must be lower-case letters, digits and dashes'),
    version: z
      .string()
      .max(40)
      .regex(/^[0-9]+(\.[0-9]+)*$/, 'must be a version such as 1 or 1.2.0'),
    prefix: z
      .string()
      .max(40)
      .regex(kebab, 'must be lower-case letters, digits and dashes')
      .describe('Every rule id starts with it and a dot'),
    description: text(4000),
    scope: scopeSchema.default({}),
    schedule: z
      .union([
        z.strictObject({
          cron: z.string().superRefine((c, ctx) => {
            const problem = cronProblem(c);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
        }),
        z.strictObject({ everyMinutes: z.number().int().min(1).max(10_080) }),
      ])
      .optional()
      .describe('When the profile is scanned: a cron (UTC) or every N minutes'),
    rules: z.array(ruleSchema).min(1, 'must list at least one rule').max(MAX_RULES),
  })
  .superRefine((p, ctx) => {
    const seen = new Map<string, number>();
    p.rules.forEach((rule, i) => {
      if (!rule.id.startsWith(`${p.prefix}.`))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'id'],
          message: `must start with the profile's prefix "${p.prefix}."`,
        });
      const first = seen.get(rule.id);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `"${rule.id}" is already rule ${first}` });
      else seen.set(rule.id, i);
    });
  });

export type ProfileFile = z.infer<typeof profileFileSchema>;

/** The JSON Schema editors use to complete and check compliance profiles. */
export function complianceJsonSchema(): unknown {
  return {
    $id: 'https://shipshape.dev/compliance.schema.json',
    title: 'Shipshape compliance profile',
    ...z.toJSONSchema(profileFileSchema, { io: 'input' }),
  };
}
