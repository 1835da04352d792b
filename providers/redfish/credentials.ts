/**
 * BMC credentials, by reference. The inventory names a reference
 * (`credentialsRef`); only the worker resolves it, from a YAML file
 * (SHIPSHAPE_BMC_CREDENTIALS_FILE) that may in turn point at secret files.
 * Workflow inputs, histories, the API and the logs only ever see the name.
 *
 *   default:
 *     username: admin
 *     passwordFile: /run/secrets/bmc-default   # or password: ...
 *     auth: session                            # session (default) | basic
 *     tls: { caFile: /etc/shipshape/bmc-ca.pem, insecure: false }
 *     timeoutSeconds: 10
 *     allowPlainHttp: false   # true: these credentials may go to an http:// BMC (a lab, an emulator)
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../config';
import { BmcError } from '../bmc';
import type { TlsOptions } from '../http';
import type { RedfishCredentials } from './client';

const entrySchema = z
  .strictObject({
    username: z.string().min(1),
    password: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional(),
    auth: z.enum(['session', 'basic']).default('session'),
    tls: z
      .strictObject({ caFile: z.string().min(1).optional(), insecure: z.boolean().default(false) })
      .default({ insecure: false }),
    timeoutSeconds: z.number().gt(0).max(120).default(10),
    /** Credentials go in clear text over http://; refused unless the entry says so for itself. */
    allowPlainHttp: z.boolean().default(false),
  })
  .refine((e) => (e.password === undefined) !== (e.passwordFile === undefined), {
    message: 'set exactly one of password and passwordFile',
    path: ['password'],
  });

/** What a credentials entry may be called, and so what a credentials reference may be. */
export const CREDENTIALS_NAME = /^[A-Za-z0-9._-]+$/;

export const credentialsFileSchema = z.record(
  z.string().regex(CREDENTIALS_NAME, 'names are letters, digits, ".", "_", "-"'),
  entrySchema,
);

export interface BmcAccess {
  credentials: RedfishCredentials | null;
  tls: TlsOptions;
  timeoutMs: number;
}

/** Access for a BMC that needs no credentials (an emulator, a lab). */
export const ANONYMOUS: BmcAccess = { credentials: null, tls: {}, timeoutMs: 10_000 };

/** A bad credentials file is a configuration error: the worker does not start. */
export class CredentialsError extends ConfigError {}

export class BmcCredentials {
  private constructor(private readonly entries: Map<string, BmcAccess>) {}

  static empty(): BmcCredentials {
    return new BmcCredentials(new Map());
  }

  /** Parse the file; an error names the file, the entry and the field, and never echoes a value. */
  static fromText(text: string, source: string): BmcCredentials {
    let raw: unknown;
    try {
      raw = parse(text) ?? {};
    } catch (err) {
      throw new CredentialsError(`${source}: not YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
    }
    const parsed = credentialsFileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CredentialsError(`${source}: ${issue?.path.join('.') || '(file)'}: ${issue?.message ?? 'invalid'}`);
    }
    const entries = new Map<string, BmcAccess>();
    for (const [name, e] of Object.entries(parsed.data)) {
      const password = e.password ?? readSecret(e.passwordFile as string, `${source}: ${name}.passwordFile`);
      entries.set(name, {
        credentials: { username: e.username, password, auth: e.auth, allowPlainHttp: e.allowPlainHttp },
        tls: {
          insecure: e.tls.insecure,
          ca: e.tls.caFile ? readSecret(e.tls.caFile, `${source}: ${name}.tls.caFile`) : undefined,
        },
        timeoutMs: e.timeoutSeconds * 1000,
      });
    }
    return new BmcCredentials(entries);
  }

  static fromFile(path: string | undefined): BmcCredentials {
    if (!path) return BmcCredentials.empty();
    if (!existsSync(path)) throw new CredentialsError(`SHIPSHAPE_BMC_CREDENTIALS_FILE: ${path} does not exist`);
    return BmcCredentials.fromText(readFileSync(path, 'utf8'), path);
  }

  /** Access for a reference; no reference means no credentials. An unknown reference is a configuration error for that host. */
  resolve(ref: string | null): BmcAccess {
    if (ref === null) return ANONYMOUS;
    const entry = this.entries.get(ref);
    if (!entry) throw new BmcError('auth', `no BMC credentials named "${ref}" in the credentials file`);
    return entry;
  }
}

function readSecret(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new CredentialsError(`${field}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
