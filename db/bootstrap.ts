/**
 * The cluster itself, before any table exists: the two roles and a database.
 * Used by scripts/services.ts when it starts a local PostgreSQL for the demo and
 * the test run; in production whoever runs PostgreSQL creates these (see the
 * README's "Database roles"). Tables come from migrations/, never from here.
 */
import { Client } from 'pg';

/** Owns the tables and runs the migrations (MIGRATION_DATABASE_URL). */
export const OWNER_ROLE = 'shipshape_owner';
/** The API and the worker (DATABASE_URL): no DDL, only INSERT and SELECT on the audit log and policy versions. */
export const APP_ROLE = 'shipshape_app';

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Create the owner and application login roles on the server at `maintenanceUrl`
 * (as a superuser) unless they exist. Local clusters trust 127.0.0.1, so they have no password.
 */
export async function createRolesIfMissing(maintenanceUrl: string): Promise<void> {
  await withClient(maintenanceUrl, async (client) => {
    for (const role of [OWNER_ROLE, APP_ROLE]) {
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      // A concurrent creator (two test runs' set-ups) may win the race: that is as good.
      if (exists.rowCount === 0)
        await client.query(`CREATE ROLE "${role}" LOGIN`).catch((err: { code?: string }) => {
          if (err.code !== '42710') throw err; // duplicate_object
        });
    }
  });
}

/**
 * Create the database `name` on the server at `maintenanceUrl` (a URL of its
 * `postgres` database) unless it exists, optionally as a copy of `template`,
 * owned by `owner` (default: the connecting role).
 */
export async function createDatabaseIfMissing(
  maintenanceUrl: string,
  name: string,
  template?: string,
  owner?: string,
): Promise<void> {
  await withClient(maintenanceUrl, async (client) => {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0)
      await client.query(
        `CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}${owner ? ` OWNER "${owner}"` : ''}`,
      );
  });
}
