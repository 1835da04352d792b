/**
 * A session on a host over SSH, as Shipshape's activities open it: the host's
 * endpoint from the inventory, its credentials resolved here in the worker
 * (never carried in a workflow), and its pinned host key enforced — a key
 * seen for the first time is recorded, a changed key is refused.
 */
import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { findSshEndpoint } from '../db/ssh-endpoints';
import { findPinnedHostKey, recordFirstContactKey } from '../db/ssh-host-keys';
import type { SshCredentials } from '../providers/ssh/credentials';
import { SshError, type SshExecutor, type SshSession } from '../providers/ssh/session';

export interface HostSshDeps {
  db: Pool;
  sshCredentials: SshCredentials;
  executor: SshExecutor;
}

/** Why a host could not be reached over SSH: no endpoint, no credentials, a wrong key, refused, timed out. */
export interface Unreachable {
  unreachable: string;
}

/**
 * Run `use` on one session to `host`; `{ unreachable }` when no session could
 * be had (or it broke), with why. Errors of `use` itself pass through.
 */
export async function withHostSession<T>(
  deps: HostSshDeps,
  host: string,
  use: (session: SshSession) => Promise<T>,
): Promise<T | Unreachable> {
  const endpoint = await findSshEndpoint(deps.db, host);
  if (!endpoint) return { unreachable: `${host} has no SSH endpoint in the inventory` };
  let access;
  try {
    access = deps.sshCredentials.resolve(endpoint.credentialsRef);
  } catch (err) {
    return { unreachable: (err as Error).message };
  }
  const pinned = await findPinnedHostKey(deps.db, host);
  Context.current().heartbeat();
  try {
    return await deps.executor.withSession(
      { host, address: endpoint.address, port: endpoint.port },
      access,
      {
        expected: pinned ? { fingerprint: pinned.fingerprint, keyType: pinned.keyType } : null,
        onFirstContact: (seen) => recordFirstContactKey(deps.db, { host, ...seen }),
      },
      use,
    );
  } catch (err) {
    if (err instanceof SshError) return { unreachable: err.message };
    throw err;
  }
}

export function isUnreachable(r: unknown): r is Unreachable {
  return typeof r === 'object' && r !== null && 'unreachable' in r && Object.keys(r).length === 1;
}
