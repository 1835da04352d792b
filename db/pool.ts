/**
 * The connection pool and the two things every module of db/ shares: a
 * transaction helper and the `Queryable` type (a pool, or a client inside a
 * transaction). Callers outside db/ hold these handles but never query them.
 */
import { Pool, type PoolClient } from 'pg';

export type Db = Pool;

/** A pool, or one client of it inside a transaction: what a db/ function that may join a caller's transaction takes. */
export type Queryable = Pick<Pool, 'query'>;

export function createPool(databaseUrl: string, max = 10): Pool {
  return new Pool({ connectionString: databaseUrl, max, application_name: 'shipshape' });
}

/** Run `fn` in one transaction; roll back on any error so nothing is half-written. */
export async function inTransaction<T>(db: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Readiness: does PostgreSQL answer a trivial statement? */
export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
