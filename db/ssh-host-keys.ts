/**
 * Pinned SSH host keys: the key each host must present before anything is
 * sent to it (providers/ssh/ enforces; this module remembers).
 *
 * Written only by the worker: on a host's first contact (trust on first use,
 * `recordFirstContactKey`) and from the inventory file (`pinHostKeyFromInventory`,
 * an operator's statement, which wins over what a first contact saw). The API
 * reads it, and writes it for one action only: a person replacing a host's key
 * after its reinstall (POST /v1/hosts/{host}/ssh-host-key), or forgetting it so
 * the next contact pins again, each in one transaction with its audit entry.
 */
import type { Pool } from 'pg';
import { appendAudit } from './audit-log';
import { inTransaction, type Queryable } from './pool';

export type HostKeySource = 'first-contact' | 'inventory' | 'person';

export interface PinnedHostKey {
  host: string;
  /** SHA256:<base64 without padding>, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  keyType: string;
  firstSeen: Date;
  source: HostKeySource;
}

const COLUMNS = `host, fingerprint, key_type AS "keyType", first_seen AS "firstSeen", source`;

export async function findPinnedHostKey(db: Queryable, host: string): Promise<PinnedHostKey | null> {
  const { rows } = await db.query<PinnedHostKey>(`SELECT ${COLUMNS} FROM ssh_host_keys WHERE host = $1`, [host]);
  return rows[0] ?? null;
}

/**
 * Record the key a host showed on its first contact, unless one is pinned
 * already (another scan got there first, or the inventory stated one). Returns
 * the pinned key, which the caller compares with what it saw: two first
 * contacts that saw different keys do not both win.
 */
export async function recordFirstContactKey(
  db: Queryable,
  key: { host: string; fingerprint: string; keyType: string },
): Promise<PinnedHostKey> {
  await db.query(
    `INSERT INTO ssh_host_keys (host, fingerprint, key_type, source) VALUES ($1, $2, $3, 'first-contact')
     ON CONFLICT (host) DO NOTHING`,
    [key.host, key.fingerprint, key.keyType],
  );
  return (await findPinnedHostKey(db, key.host)) as PinnedHostKey;
}

/** The inventory file states a host's key: it is pinned as stated, replacing any other. */
export async function pinHostKeyFromInventory(
  db: Queryable,
  key: { host: string; fingerprint: string; keyType: string },
): Promise<void> {
  await db.query(
    `INSERT INTO ssh_host_keys (host, fingerprint, key_type, source) VALUES ($1, $2, $3, 'inventory')
     ON CONFLICT (host) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, key_type = EXCLUDED.key_type,
       source = 'inventory', updated_at = now(),
       first_seen = CASE WHEN ssh_host_keys.fingerprint = EXCLUDED.fingerprint THEN ssh_host_keys.first_seen ELSE now() END
     WHERE ssh_host_keys.fingerprint IS DISTINCT FROM EXCLUDED.fingerprint OR ssh_host_keys.source <> 'inventory'`,
    [key.host, key.fingerprint, key.keyType],
  );
}

/** What a person's change of a pin did: the key before (null: none was pinned) and after (null: forgotten). */
export interface HostKeyChange {
  before: PinnedHostKey | null;
  after: PinnedHostKey | null;
}

const auditView = (k: PinnedHostKey | null) =>
  k ? { fingerprint: k.fingerprint, keyType: k.keyType, source: k.source, firstSeen: k.firstSeen } : null;

/**
 * A person pins the key a host now shows (a rebuilt host has a new one), with
 * why; the audit entry is written in the same transaction. The pin's source is
 * `person` until the inventory file states another key.
 */
export async function replacePinnedHostKeyAudited(
  db: Pool,
  change: { host: string; fingerprint: string; keyType: string; person: string; reason: string },
): Promise<HostKeyChange> {
  return inTransaction(db, async (tx) => {
    const before = await lockedPin(tx, change.host);
    const { rows } = await tx.query<PinnedHostKey>(
      `INSERT INTO ssh_host_keys (host, fingerprint, key_type, source) VALUES ($1, $2, $3, 'person')
       ON CONFLICT (host) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, key_type = EXCLUDED.key_type,
         source = 'person', updated_at = now(),
         first_seen = CASE WHEN ssh_host_keys.fingerprint = EXCLUDED.fingerprint THEN ssh_host_keys.first_seen ELSE now() END
       RETURNING ${COLUMNS}`,
      [change.host, change.fingerprint, change.keyType],
    );
    const after = rows[0]!;
    await appendAudit(tx, {
      actorKind: 'person',
      actor: change.person,
      policyVersion: null,
      host: change.host,
      action: 'ssh host key replaced',
      reason: change.reason,
      before: auditView(before),
      after: auditView(after),
    });
    return { before, after };
  });
}

/**
 * A person forgets a host's pinned key, with why: the next scan that reaches
 * the host pins what it shows (trust on first use again). Audited in the same
 * transaction, also when no key was pinned.
 */
export async function forgetPinnedHostKeyAudited(
  db: Pool,
  change: { host: string; person: string; reason: string },
): Promise<HostKeyChange> {
  return inTransaction(db, async (tx) => {
    const before = await lockedPin(tx, change.host);
    await tx.query(`DELETE FROM ssh_host_keys WHERE host = $1`, [change.host]);
    await appendAudit(tx, {
      actorKind: 'person',
      actor: change.person,
      policyVersion: null,
      host: change.host,
      action: 'ssh host key forgotten',
      reason: change.reason,
      before: auditView(before),
      after: null,
    });
    return { before, after: null };
  });
}

/** The pin, locked for the change (and a host without one serialised by an advisory lock on its name). */
async function lockedPin(tx: Queryable, host: string): Promise<PinnedHostKey | null> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('shipshape.ssh-host-key:' || $1))`, [host]);
  const { rows } = await tx.query<PinnedHostKey>(`SELECT ${COLUMNS} FROM ssh_host_keys WHERE host = $1 FOR UPDATE`, [
    host,
  ]);
  return rows[0] ?? null;
}
