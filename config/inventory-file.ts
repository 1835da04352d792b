/**
 * The inventory file (SHIPSHAPE_INVENTORY_FILE): what the provider does not
 * know about a host, such as where to reach it over SSH, which credentials to
 * use and, optionally, the host key to expect. The same file may carry BMC
 * endpoints. Names of credentials only; the secrets stay in the credentials
 * files that the worker alone reads.
 *
 *   hosts:
 *     compute-01:
 *       ssh:
 *         address: 10.0.0.5
 *         port: 22                 # default 22
 *         credentials: fleet-root  # an entry of SHIPSHAPE_SSH_CREDENTIALS_FILE
 *         hostKey:                 # optional: pinned as stated; else recorded on first contact
 *           fingerprint: SHA256:eE07kupsqRvVydvn8JPCAYO/0QXVfV6rpxjHlJS3BMU
 *           type: ssh-ed25519
 *       bmc:
 *         address: https://10.0.1.5
 *         credentials: bmc-default # an entry of SHIPSHAPE_BMC_CREDENTIALS_FILE
 *         systemId: System.Embedded.1
 *       labels:                    # what compliance scopes match on (`labels: ['rack="r4"']`)
 *         rack: r4
 *         os: debian-12
 *
 * Every error names the file, the line and column, and the field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './index';

const NAME = /^[A-Za-z0-9._-]+$/;
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

const hostKeySchema = z.strictObject({
  fingerprint: z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a SHA256 fingerprint as `ssh-keygen -lf` prints it (SHA256:<43 characters>)'),
  type: z.enum(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa']),
});

const sshSchema = z.strictObject({
  address: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9.:_-]+$/, 'a host name or an IP address'),
  port: z.number().int().min(1).max(65535).default(22),
  credentials: z.string().regex(NAME, 'the name of an SSH credentials entry (letters, digits, ".", "_", "-")'),
  hostKey: hostKeySchema.optional(),
});

const bmcSchema = z.strictObject({
  address: z.string().regex(/^(https?|sim):\/\/\S+$/, 'an http(s):// or sim:// address'),
  credentials: z.string().regex(NAME, 'the name of a BMC credentials entry').optional(),
  systemId: z.string().min(1).optional(),
});

/** A label's name as Prometheus and Alertmanager have them, so a scope's matcher can name it. */
export const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_LABELS = 64;

const labelsSchema = z
  .record(
    z.string(),
    z
      .string({ error: 'must be a string (quote numbers and booleans: "4", "true")' })
      .max(200, 'at most 200 characters'),
  )
  .superRefine((labels, ctx) => {
    for (const name of Object.keys(labels))
      if (!LABEL_NAME.test(name) || name.length > 100)
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'label names are letters, digits and "_", not starting with a digit (at most 100)',
        });
    if (Object.keys(labels).length > MAX_LABELS)
      ctx.addIssue({ code: 'custom', message: `at most ${MAX_LABELS} labels a host` });
  });

const fileSchema = z.strictObject({
  hosts: z
    .record(
      z.string(),
      z
        .strictObject({ ssh: sshSchema.optional(), bmc: bmcSchema.optional(), labels: labelsSchema.optional() })
        .refine((h) => h.ssh !== undefined || h.bmc !== undefined || h.labels !== undefined, {
          message: 'give ssh, bmc, labels or several of them',
        }),
    )
    .superRefine((hosts, ctx) => {
      for (const name of Object.keys(hosts))
        if (!HOST_NAME.test(name))
          ctx.addIssue({ code: 'custom', path: [name], message: 'host names are letters, digits, ".", "_", "-"' });
    }),
});

export type InventoryFile = z.infer<typeof fileSchema>;

export interface InventorySshEndpoint {
  host: string;
  address: string;
  port: number;
  credentialsRef: string;
  hostKey: { fingerprint: string; keyType: string } | null;
}

export interface InventoryBmcEndpoint {
  host: string;
  address: string;
  credentialsRef: string | null;
  systemId: string | null;
}

export interface InventoryHostLabels {
  host: string;
  labels: Record<string, string>;
}

export interface Inventory {
  ssh: InventorySshEndpoint[];
  bmc: InventoryBmcEndpoint[];
  /** Every host the file names with a `labels:` map; hosts it does not list have none. */
  labels: InventoryHostLabels[];
}

export class InventoryFileError extends ConfigError {}

/** Parse and validate the file's text; `source` names it in errors. */
export function parseInventoryFile(text: string, source: string): Inventory {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const at = lineCounter.linePos(e.pos[0]);
    throw new InventoryFileError(`${source}:${at.line}:${at.col}: not YAML: ${e.message.split('\n')[0]}`);
  }
  const parsed = fileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String);
    throw new InventoryFileError(
      `${source}${position(doc, lineCounter, path)}: ${path.join('.') || '(file)'}: ${issue.message}`,
    );
  }
  const inventory: Inventory = { ssh: [], bmc: [], labels: [] };
  for (const [host, entry] of Object.entries(parsed.data.hosts)) {
    if (entry.ssh)
      inventory.ssh.push({
        host,
        address: entry.ssh.address,
        port: entry.ssh.port,
        credentialsRef: entry.ssh.credentials,
        hostKey: entry.ssh.hostKey
          ? { fingerprint: entry.ssh.hostKey.fingerprint, keyType: entry.ssh.hostKey.type }
          : null,
      });
    if (entry.bmc)
      inventory.bmc.push({
        host,
        address: entry.bmc.address,
        credentialsRef: entry.bmc.credentials ?? null,
        systemId: entry.bmc.systemId ?? null,
      });
    if (entry.labels) inventory.labels.push({ host, labels: entry.labels });
  }
  return inventory;
}

export function loadInventoryFile(path: string | undefined): Inventory {
  if (!path) return { ssh: [], bmc: [], labels: [] };
  if (!existsSync(path)) throw new InventoryFileError(`SHIPSHAPE_INVENTORY_FILE: ${path} does not exist`);
  return parseInventoryFile(readFileSync(path, 'utf8'), path);
}

/** `:line:column` of the deepest node the path reaches (a missing field points at its parent). */
function position(doc: ReturnType<typeof parseDocument>, lines: LineCounter, path: string[]): string {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return `:${line}:${col}`;
    }
  }
  return '';
}
