/**
 * Pinned SSH host keys: the key each host must present before anything is
 * sent to it (providers/ssh/ enforces; this module remembers).
 *
 * Written only by the worker: on a host's first contact (trust on first use,
 * `recordFirstContactKey`) and from the inventory file (`pinHostKeyFromInventory`,
 * an operator's statement, which wins over what a first contact saw). The API
 * reads it. Replacing a key after a host's reinstall is a person's action and
 * goes through the API with an audit entry (not built yet).
 */
import type { Queryable } from './pool';

export type HostKeySource = 'first-contact' | 'inventory';

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
