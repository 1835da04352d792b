/**
 * Shipshape's keys file: the AES-256-GCM keys that encrypt Temporal payloads
 * and the HMAC keys that sign people's decisions. Both the API and the worker
 * load the same file at start-up; a bad file stops the process naming the
 * field and the reason, and never prints a key.
 *
 * ```json
 * {
 *   "codecKeys":    [{ "id": "2026-11", "key": "<32 bytes, base64>" }],
 *   "decisionKeys": [{ "id": "2026-11", "key": "<32 bytes or more, base64>" }]
 * }
 * ```
 * In each list the LAST entry is the newest: it encrypts (signs); every entry
 * decrypts (verifies). Rotate by appending a new entry and restarting the API
 * and the worker; remove an old codec key only when no history still holds
 * payloads encrypted with it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './index';

export interface NamedKey {
  id: string;
  key: Buffer;
}

export interface ShipshapeKeys {
  /** Payload encryption keys, oldest first: the last one encrypts. */
  codecKeys: NamedKey[];
  /** Decision signing keys, oldest first: the last one signs. */
  decisionKeys: NamedKey[];
}

const keyEntry = (bytes: { exactly?: number; atLeast?: number }) =>
  z
    .object({
      id: z
        .string({ error: 'is required' })
        .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'),
      key: z.string({ error: 'is required (base64)' }).refine(
        (k) => {
          if (!/^[A-Za-z0-9+/]+={0,2}$/.test(k)) return false;
          const n = Buffer.from(k, 'base64').length;
          return bytes.exactly !== undefined ? n === bytes.exactly : n >= (bytes.atLeast ?? 0);
        },
        {
          message:
            bytes.exactly !== undefined
              ? `must be ${bytes.exactly} bytes, base64-encoded`
              : `must be at least ${bytes.atLeast} bytes, base64-encoded`,
        },
      ),
    })
    .strict();

const uniqueIds = (list: { id: string }[]) => new Set(list.map((k) => k.id)).size === list.length;

const keysFileSchema = z
  .object({
    codecKeys: z
      .array(keyEntry({ exactly: 32 }), { error: 'is required: a list of { id, key }' })
      .min(1, 'must hold at least one key')
      .refine(uniqueIds, 'key ids must be unique'),
    decisionKeys: z
      .array(keyEntry({ atLeast: 32 }), { error: 'is required: a list of { id, key }' })
      .min(1, 'must hold at least one key')
      .refine(uniqueIds, 'key ids must be unique'),
  })
  .strict();

/** Parse a keys file's text; throws a ConfigError naming the file, every bad field and why (never a key). */
export function parseKeys(file: string, text: string): ShipshapeKeys {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`keys file ${file}: not valid JSON (${(err as Error).message})`);
  }
  const result = keysFileSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((k) => `  ${[...i.path, k].join('.')}: unknown field`)
        : [`  ${i.path.join('.') || '(file)'}: ${i.message}`],
    );
    throw new ConfigError(`keys file ${file} is invalid:\n${lines.join('\n')}`);
  }
  const decode = (list: { id: string; key: string }[]) =>
    list.map((k) => ({ id: k.id, key: Buffer.from(k.key, 'base64') }));
  return { codecKeys: decode(result.data.codecKeys), decisionKeys: decode(result.data.decisionKeys) };
}

/** Load the keys file SHIPSHAPE_KEYS_FILE names; both the API and the worker refuse to start without one. */
export function loadKeys(path: string | undefined): ShipshapeKeys {
  if (!path)
    throw new ConfigError(
      'SHIPSHAPE_KEYS_FILE: is required (the keys file that encrypts Temporal payloads and signs decisions; create one with `npm run keys -- create <file>`)',
    );
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`SHIPSHAPE_KEYS_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  return parseKeys(path, text);
}

/** The text of a new keys file: one fresh codec key and one fresh decision key, named `id`. */
export function newKeysFileText(id = new Date().toISOString().slice(0, 10)): string {
  const entry = () => ({ id, key: randomBytes(32).toString('base64') });
  return `${JSON.stringify({ codecKeys: [entry()], decisionKeys: [entry()] }, null, 2)}\n`;
}

/** Write a new keys file readable by its owner only. */
export function writeNewKeysFile(path: string, id?: string): void {
  writeFileSync(path, newKeysFileText(id), { mode: 0o600, flag: 'wx' });
}

/** Rotation: append a fresh codec key and decision key named `id` (they become the newest); old ones stay to decrypt. */
export function rotateKeysFile(path: string, id: string): void {
  const current = JSON.parse(readFileSync(path, 'utf8')) as Record<string, { id: string; key: string }[]>;
  parseKeys(path, JSON.stringify(current));
  for (const list of ['codecKeys', 'decisionKeys']) {
    if (current[list]!.some((k) => k.id === id))
      throw new ConfigError(`keys file ${path}: ${list} already has "${id}"`);
    current[list]!.push({ id, key: randomBytes(32).toString('base64') });
  }
  writeFileSync(path, `${JSON.stringify(current, null, 2)}\n`, { mode: 0o600 });
}

/** The newest key of a list: the one that encrypts or signs. */
export function newest(keys: NamedKey[]): NamedKey {
  return keys[keys.length - 1]!;
}
