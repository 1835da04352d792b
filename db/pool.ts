/**
 * The connection pool and the two things every module of db/ shares: a
 * transaction helper and the `Queryable` type (a pool, or a client inside a
 * transaction). Callers outside db/ hold these handles but never query them.
 *
 * PostgreSQL may go away (a restart, a fail-over): a pool then drops its broken
 * clients and opens new ones once the server answers again. Nothing here lets
 * such an error stop the process; `isDatabaseUnavailable` tells callers that a
 * failure was the server being away (the API answers 503, an activity is retried).
 */
import { Pool, type PoolClient } from 'pg';

export type Db = Pool;

/** A pool, or one client of it inside a transaction: what a db/ function that may join a caller's transaction takes. */
export type Queryable = Pick<Pool, 'query'>;

/** Where a pool reports a connection lost while idle (never with the URL: it may hold a password). */
export interface PoolLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** How long a request waits for a connection before it is told the database is unavailable. */
const CONNECT_TIMEOUT_MS = 5000;

export function createPool(databaseUrl: string, max = 10, logger?: PoolLogger): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max,
    application_name: 'shipshape',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An idle client whose server went away (restart, admin shutdown) emits 'error' on the pool; without a
  // listener that is an uncaught exception. The pool has already dropped the client: note it and go on.
  pool.on('error', (err: Error & { code?: string }) =>
    logger?.warn({ code: err.code, err: err.message }, 'database connection lost; the pool reconnects on next use'),
  );
  return pool;
}

/** SQLSTATEs and socket errors of a server that is down, restarting or out of connections. */
const UNAVAILABLE_CODES = new Set([
  '57P01', // admin_shutdown (fast shutdown terminated the session)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Messages node-postgres gives a lost connection, without a code. */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
];

/** Is `err` (or its cause) PostgreSQL being unreachable, rather than a fault of the statement? */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((m) => m.test(e.message as string))) return true;
  return e.cause !== undefined && e.cause !== err && isDatabaseUnavailable(e.cause);
}

/** Run `fn` in one transaction; roll back on any error so nothing is half-written. */
export async function inTransaction<T>(db: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  // A checked-out client has no pool listener: a connection lost between statements (while `fn` awaits
  // something else) would otherwise be an uncaught 'error' event. The next statement fails instead.
  let lost: Error | undefined;
  const onLost = (err: Error) => (lost = err);
  client.on('error', onLost);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (isDatabaseUnavailable(err)) lost ??= err as Error;
    throw err;
  } finally {
    client.removeListener('error', onLost);
    client.release(lost); // a broken client is destroyed, not put back among the idle ones
  }
}

/** Readiness: does PostgreSQL answer a trivial statement? */
export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
