/**
 * The notifications file (e.g. config/notifications.yaml): receivers by name
 * and the routes that send inbox items to them. Read and checked at start-up;
 * every error names the file and the field. Secrets are never written in the
 * file: a webhook URL (Slack's carries a token) and an SMTP password are
 * given by reference, a file (`urlFile`, `passwordFile`) or an environment
 * variable (`urlEnv`, `passwordEnv`), and read here.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { InboxItemState, NotificationRoute } from '../domain/notification-routes';
import { ROLES, SEVERITIES } from '../domain/types';
import type { EmailReceiverConfig } from '../providers/notify/email';
import type { SlackReceiverConfig } from '../providers/notify/slack';
import type { WebhookReceiverConfig } from '../providers/notify/webhook';

export class NotificationsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotificationsConfigError';
  }
}

const ITEM_STATES = [
  'automation',
  'needs-person',
  'acknowledged',
  'snoozed',
  'silenced',
  'resolved',
] as const satisfies readonly InboxItemState[];

const name = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const notInline = (instead: string) =>
  z.never({ error: `secrets are not written in this file: use ${instead}` }).optional();

const oneOf = (fields: string[]) => (o: Record<string, unknown>) =>
  fields.filter((f) => o[f] !== undefined).length === 1;

const urlByReference = {
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).optional(),
  urlFile: z.string().min(1).optional(),
  urlEnv: envName.optional(),
  timeoutSeconds: z.number().gt(0).max(300).default(5),
};
const needsOneUrl = { error: 'needs exactly one of url, urlFile or urlEnv', path: ['url'] };

const webhookSchema = z
  .strictObject({ name, type: z.literal('webhook'), ...urlByReference })
  .refine(oneOf(['url', 'urlFile', 'urlEnv']), needsOneUrl);
const slackSchema = z
  .strictObject({ name, type: z.literal('slack'), ...urlByReference })
  .refine(oneOf(['url', 'urlFile', 'urlEnv']), needsOneUrl);

const address = z.email({ error: 'must be an e-mail address' });
const smtpSchema = z
  .strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    security: z.enum(['starttls', 'tls']).default('starttls'),
    username: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional(),
    passwordEnv: envName.optional(),
    password: notInline('passwordFile or passwordEnv'),
    caFile: z.string().min(1).optional(),
    insecureSkipVerify: z.boolean().default(false),
    servername: z.string().min(1).optional(),
  })
  .refine((s) => s.username === undefined || oneOf(['passwordFile', 'passwordEnv'])(s), {
    error: 'a username needs exactly one of passwordFile or passwordEnv',
    path: ['username'],
  })
  .refine((s) => s.username !== undefined || (s.passwordFile === undefined && s.passwordEnv === undefined), {
    error: 'a password needs a username',
    path: ['username'],
  })
  .refine((s) => !(s.insecureSkipVerify && s.caFile !== undefined), {
    error: 'give caFile (pin the CA) or insecureSkipVerify, not both',
    path: ['insecureSkipVerify'],
  });
const emailSchema = z.strictObject({
  name,
  type: z.literal('email'),
  from: address,
  to: z.array(address).min(1),
  smtp: smtpSchema,
  timeoutSeconds: z.number().gt(0).max(300).default(10),
});

const receiverSchema = z.discriminatedUnion('type', [webhookSchema, slackSchema, emailSchema], {
  error: 'type must be webhook, slack or email',
});

const list = <T extends z.ZodType>(item: T) => z.array(item).min(1).optional();
const routeSchema = z
  .strictObject({
    match: z
      .strictObject({
        severity: list(z.enum(SEVERITIES)),
        zone: list(z.string().min(1)),
        role: list(z.enum(ROLES)),
        source: list(z.string().min(1)),
        state: list(z.enum(ITEM_STATES)),
      })
      .default({}),
    receiver: name,
    repeatIntervalMinutes: z.number().gt(0).optional(),
    escalateAfterMinutes: z.number().gt(0).optional(),
    escalateTo: name.optional(),
    continue: z.boolean().default(false),
  })
  .refine((r) => (r.escalateAfterMinutes === undefined) === (r.escalateTo === undefined), {
    error: 'escalateAfterMinutes and escalateTo go together',
    path: ['escalateTo'],
  });

export const notificationsFileSchema = z
  .strictObject({
    receivers: z.array(receiverSchema).default([]),
    routes: z.array(routeSchema).default([]),
    delivery: z
      .strictObject({
        attempts: z.number().int().min(1).max(10).default(3),
        backoffSeconds: z.number().min(0).max(600).default(2),
      })
      .default({ attempts: 3, backoffSeconds: 2 }),
  })
  .superRefine((file, ctx) => {
    const names = new Set<string>();
    file.receivers.forEach((r, i) => {
      if (names.has(r.name))
        ctx.addIssue({ code: 'custom', path: ['receivers', i, 'name'], message: `${r.name} is named twice` });
      names.add(r.name);
    });
    file.routes.forEach((r, i) => {
      for (const field of ['receiver', 'escalateTo'] as const) {
        const wanted = r[field];
        if (wanted !== undefined && !names.has(wanted))
          ctx.addIssue({ code: 'custom', path: ['routes', i, field], message: `no receiver is named ${wanted}` });
      }
    });
  });

export type NotificationsFile = z.output<typeof notificationsFileSchema>;

export type ResolvedReceiverConfig =
  | ({ type: 'webhook' } & WebhookReceiverConfig)
  | ({ type: 'slack' } & SlackReceiverConfig)
  | ({ type: 'email' } & EmailReceiverConfig);

/** The file with its references read: what createReceivers and notificationsDue take. */
export interface NotificationSettings {
  receivers: ResolvedReceiverConfig[];
  routes: NotificationRoute[];
  delivery: { attempts: number; backoffMs: number };
}

export interface SecretSources {
  env: Record<string, string | undefined>;
  /** Reads a referenced file (relative paths are from the notifications file's folder). */
  readFile: (path: string) => string;
}

const defaultSources: SecretSources = { env: process.env, readFile: (p) => readFileSync(p, 'utf8') };

/** Check a notifications file's text; errors name the file and each field. */
export function parseNotificationsFile(file: string, text: string): NotificationsFile {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (err) {
    throw new NotificationsConfigError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = notificationsFileSchema.safeParse(raw);
  if (!result.success)
    throw new NotificationsConfigError(
      `${file}: ${result.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`,
    );
  return result.data;
}

/** Check the file and read what it refers to (URLs, passwords, CA certificates). */
export function resolveNotifications(
  file: string,
  parsed: NotificationsFile,
  sources: SecretSources = defaultSources,
): NotificationSettings {
  const base = dirname(resolve(file));
  const secret = (field: string, ref: { file?: string; env?: string }): string => {
    if (ref.env !== undefined) {
      const value = sources.env[ref.env];
      if (value === undefined || value === '')
        throw new NotificationsConfigError(`${file}: ${field}: the environment variable ${ref.env} is not set`);
      return value.trim();
    }
    const path = resolve(base, ref.file!);
    try {
      return sources.readFile(path).trim();
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'unreadable';
      throw new NotificationsConfigError(`${file}: ${field}: cannot read ${path} (${code})`);
    }
  };
  const receivers = parsed.receivers.map((r, i): ResolvedReceiverConfig => {
    const at = `receivers.${i}`;
    if (r.type === 'email') {
      const s = r.smtp;
      const smtp: EmailReceiverConfig['smtp'] = {
        host: s.host,
        port: s.port,
        security: s.security,
        insecureSkipVerify: s.insecureSkipVerify,
      };
      if (s.username !== undefined) {
        smtp.username = s.username;
        smtp.password = secret(`${at}.smtp.${s.passwordEnv ? 'passwordEnv' : 'passwordFile'}`, {
          file: s.passwordFile,
          env: s.passwordEnv,
        });
      }
      if (s.caFile !== undefined) smtp.ca = secret(`${at}.smtp.caFile`, { file: s.caFile });
      if (s.servername !== undefined) smtp.servername = s.servername;
      return { type: 'email', name: r.name, from: r.from, to: r.to, smtp, timeoutMs: r.timeoutSeconds * 1000 };
    }
    const url = r.url ?? secret(`${at}.${r.urlEnv ? 'urlEnv' : 'urlFile'}`, { file: r.urlFile, env: r.urlEnv });
    if (!/^https?:\/\//.test(url))
      throw new NotificationsConfigError(
        `${file}: ${at}.url: what ${r.urlEnv ?? r.urlFile} holds is not an http(s) URL`,
      );
    return { type: r.type, name: r.name, url, timeoutMs: r.timeoutSeconds * 1000 };
  });
  const routes = parsed.routes.map((r): NotificationRoute => {
    const route: NotificationRoute = { match: r.match, receiver: r.receiver, continue: r.continue };
    if (r.repeatIntervalMinutes !== undefined) route.repeatIntervalMs = r.repeatIntervalMinutes * 60_000;
    if (r.escalateAfterMinutes !== undefined) route.escalateAfterMs = r.escalateAfterMinutes * 60_000;
    if (r.escalateTo !== undefined) route.escalateTo = r.escalateTo;
    return route;
  });
  return {
    receivers,
    routes,
    delivery: { attempts: parsed.delivery.attempts, backoffMs: parsed.delivery.backoffSeconds * 1000 },
  };
}

/** Read, check and resolve a notifications file: fail fast at start-up. */
export function loadNotifications(path: string, sources: SecretSources = defaultSources): NotificationSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new NotificationsConfigError(`${path}: cannot read (${(err as { code?: string }).code ?? 'unreadable'})`);
  }
  return resolveNotifications(path, parseNotificationsFile(path, text), sources);
}
