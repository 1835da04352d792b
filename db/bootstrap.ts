/**
 * The cluster itself, before any table exists: creating a database. Used by
 * scripts/services.ts when it starts a local PostgreSQL for the demo and the
 * test run; a production database is created by whoever runs PostgreSQL.
 * Tables come from migrations/, never from here.
 */
import { Client } from 'pg';

/**
 * Create the database `name` on the server at `maintenanceUrl` (a URL of its
 * `postgres` database) unless it exists, optionally as a copy of `template`.
 */
export async function createDatabaseIfMissing(maintenanceUrl: string, name: string, template?: string): Promise<void> {
  const client = new Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0)
      await client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
  } finally {
    await client.end();
  }
}
