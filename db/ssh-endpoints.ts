/**
 * Where each host is reached over SSH: address, port and the name of its
 * credentials (never a secret). Filled from the inventory file
 * (config/inventory-file.ts) for what the provider does not know.
 *
 * Written only by the worker (the inventory sync); the API and the scans read it.
 */
import type { Queryable } from './pool';

export interface SshEndpoint {
  address: string;
  port: number;
  /** The name of an entry of the SSH credentials file; resolved only in the worker. */
  credentialsRef: string;
}

export interface HostSshEndpoint extends SshEndpoint {
  host: string;
}

/** Insert or update these hosts' endpoints in one statement; hosts not named are left as they are. */
export async function upsertSshEndpoints(db: Queryable, endpoints: readonly HostSshEndpoint[]): Promise<void> {
  if (endpoints.length === 0) return;
  await db.query(
    `INSERT INTO host_ssh_endpoints (host, address, port, credentials_ref)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[])
     ON CONFLICT (host) DO UPDATE SET address = EXCLUDED.address, port = EXCLUDED.port,
       credentials_ref = EXCLUDED.credentials_ref, updated_at = now()
     WHERE (host_ssh_endpoints.address, host_ssh_endpoints.port, host_ssh_endpoints.credentials_ref)
       IS DISTINCT FROM (EXCLUDED.address, EXCLUDED.port, EXCLUDED.credentials_ref)`,
    [
      endpoints.map((e) => e.host),
      endpoints.map((e) => e.address),
      endpoints.map((e) => e.port),
      endpoints.map((e) => e.credentialsRef),
    ],
  );
}

/** Endpoints the inventory file no longer names go (the file is the whole truth for its hosts). */
export async function removeSshEndpointsExcept(db: Queryable, hosts: readonly string[]): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM host_ssh_endpoints WHERE NOT (host = ANY($1::text[]))`, [hosts]);
  return rowCount ?? 0;
}

export async function findSshEndpoint(db: Queryable, host: string): Promise<SshEndpoint | null> {
  const { rows } = await db.query<SshEndpoint>(
    `SELECT address, port, credentials_ref AS "credentialsRef" FROM host_ssh_endpoints WHERE host = $1`,
    [host],
  );
  return rows[0] ?? null;
}

export async function listSshEndpoints(db: Queryable): Promise<HostSshEndpoint[]> {
  const { rows } = await db.query<HostSshEndpoint>(
    `SELECT host, address, port, credentials_ref AS "credentialsRef" FROM host_ssh_endpoints ORDER BY host`,
  );
  return rows;
}
