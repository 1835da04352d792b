/**
 * SSH credentials, by reference, like the BMCs'. The inventory names a
 * reference (`credentials` of a host's `ssh` endpoint); only the worker
 * resolves it, from a YAML file (SHIPSHAPE_SSH_CREDENTIALS_FILE) whose entries
 * point at a private key file or an environment variable holding the key.
 * Workflow inputs, histories, the API, the logs and every error only ever see
 * the name.
 *
 *   fleet-root:
 *     username: root
 *     privateKeyFile: /run/secrets/ssh-fleet     # or privateKeyEnv: SHIPSHAPE_SSH_FLEET_KEY
 *     passphraseFile: /run/secrets/ssh-fleet-pw  # optional; or passphraseEnv: ...
 */
import { existsSync, readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { utils } from 'ssh2';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../config';

const entrySchema = z
  .strictObject({
    username: z.string().min(1).max(64),
    privateKeyFile: z.string().min(1).optional(),
    privateKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .optional(),
    passphraseFile: z.string().min(1).optional(),
    passphraseEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .optional(),
  })
  .refine((e) => (e.privateKeyFile === undefined) !== (e.privateKeyEnv === undefined), {
    message: 'set exactly one of privateKeyFile and privateKeyEnv',
    path: ['privateKeyFile'],
  })
  .refine((e) => e.passphraseFile === undefined || e.passphraseEnv === undefined, {
    message: 'set at most one of passphraseFile and passphraseEnv',
    path: ['passphraseFile'],
  });

/** What a credentials entry may be called, and so what a credentials reference may be. */
export const SSH_CREDENTIALS_NAME = /^[A-Za-z0-9._-]+$/;

const fileSchema = z.record(z.string(), entrySchema).superRefine((entries, ctx) => {
  for (const name of Object.keys(entries))
    if (!SSH_CREDENTIALS_NAME.test(name))
      ctx.addIssue({ code: 'custom', path: [name], message: 'names are letters, digits, ".", "_", "-"' });
});

/** A bad credentials file is a configuration error: the worker does not start. */
export class SshCredentialsError extends ConfigError {}

/**
 * One resolved entry. The key is held behind a method and left out of
 * JSON and `inspect`, so that logging the object cannot print it.
 */
export class SshAccess {
  readonly #privateKey: Buffer;
  readonly #passphrase: string | undefined;

  constructor(
    readonly name: string,
    readonly username: string,
    privateKey: Buffer,
    passphrase: string | undefined,
  ) {
    this.#privateKey = privateKey;
    this.#passphrase = passphrase;
  }

  privateKey(): Buffer {
    return this.#privateKey;
  }

  passphrase(): string | undefined {
    return this.#passphrase;
  }

  toJSON(): { name: string; username: string } {
    return { name: this.name, username: this.username };
  }

  [inspect.custom](): string {
    return `SshAccess(${this.name}: ${this.username}, key withheld)`;
  }
}

export class SshCredentials {
  private constructor(private readonly entries: Map<string, SshAccess>) {}

  static empty(): SshCredentials {
    return new SshCredentials(new Map());
  }

  /**
   * Parse the file and load every key (a key that cannot be read or parsed
   * stops the worker now rather than fail a scan later). An error names the
   * file, the entry and the field, and never echoes a value.
   */
  static fromText(text: string, source: string, env: Record<string, string | undefined> = process.env): SshCredentials {
    let raw: unknown;
    try {
      raw = parse(text) ?? {};
    } catch (err) {
      throw new SshCredentialsError(`${source}: not YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SshCredentialsError(`${source}: ${issue?.path.join('.') || '(file)'}: ${issue?.message ?? 'invalid'}`);
    }
    const entries = new Map<string, SshAccess>();
    for (const [name, e] of Object.entries(parsed.data)) {
      const key = e.privateKeyFile
        ? readSecret(e.privateKeyFile, `${source}: ${name}.privateKeyFile`)
        : fromEnv(env, e.privateKeyEnv as string, `${source}: ${name}.privateKeyEnv`);
      const passphrase = e.passphraseFile
        ? readSecret(e.passphraseFile, `${source}: ${name}.passphraseFile`).toString('utf8').trim()
        : e.passphraseEnv
          ? fromEnv(env, e.passphraseEnv, `${source}: ${name}.passphraseEnv`).toString('utf8')
          : undefined;
      const parsedKey = utils.parseKey(key, passphrase);
      if (parsedKey instanceof Error) {
        // ssh2's reasons ("Unsupported key format", "Encrypted private OpenSSH key detected, but no passphrase given")
        // name the problem, not the key.
        throw new SshCredentialsError(`${source}: ${name}: the private key cannot be used: ${parsedKey.message}`);
      }
      entries.set(name, new SshAccess(name, e.username, key, passphrase));
    }
    return new SshCredentials(entries);
  }

  static fromFile(path: string | undefined, env: Record<string, string | undefined> = process.env): SshCredentials {
    if (!path) return SshCredentials.empty();
    if (!existsSync(path)) throw new SshCredentialsError(`SHIPSHAPE_SSH_CREDENTIALS_FILE: ${path} does not exist`);
    return SshCredentials.fromText(readFileSync(path, 'utf8'), path, env);
  }

  /** The entry for a reference; an unknown one is an error for that host only. */
  resolve(ref: string): SshAccess {
    const entry = this.entries.get(ref);
    if (!entry) throw new SshCredentialsError(`no SSH credentials named "${ref}" in the credentials file`);
    return entry;
  }
}

function readSecret(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SshCredentialsError(`${field}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function fromEnv(env: Record<string, string | undefined>, name: string, field: string): Buffer {
  const value = env[name];
  if (!value) throw new SshCredentialsError(`${field}: the environment variable ${name} is not set`);
  return Buffer.from(value, 'utf8');
}
