/**
 * Start the services Shipshape needs on this machine, as plain processes the
 * caller owns (no system services): a project-local PostgreSQL cluster and the
 * Temporal CLI dev server. Used by the demo and by the test run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { APP_ROLE, OWNER_ROLE, createDatabaseIfMissing, createRolesIfMissing } from '../db/bootstrap';
import { ALL_SEARCH_ATTRIBUTES } from '../domain/search-attributes';

const parent = resolve(__dirname, '..');
/** The repository root, whether this runs from source (scripts/) or compiled (dist/scripts/). */
export const PROJECT_ROOT = basename(parent) === 'dist' ? resolve(parent, '..') : parent;

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const srv = createServer();
    srv.once('error', () => ok(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => ok(true)));
  });
}

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await probe();
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`${what} did not answer within ${timeoutMs / 1000}s: ${(last as Error)?.message ?? last}`);
}

// ---------- PostgreSQL ----------

export function postgresBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest)
    throw new Error(
      "PostgreSQL server binaries not found; run scripts/setup.sh (installs Debian's postgresql package)",
    );
  return join(base, newest, 'bin');
}

/**
 * A local cluster with three roles: `shipshape`, the superuser (creates databases; tests' fixtures),
 * the owner role (owns the tables, runs the migrations) and the application role (API and worker).
 */
export interface RunningPostgres {
  port: number;
  /** The superuser's URL of `database`. */
  url(database: string): string;
  /** The owner role's URL: for migrations (MIGRATION_DATABASE_URL). */
  ownerUrl(database: string): string;
  /** The application role's URL: for the API and the worker (DATABASE_URL). */
  appUrl(database: string): string;
  /** Create the database (owned by the owner role) unless it exists; returns the superuser's URL of it. */
  createDatabase(name: string, template?: string): Promise<string>;
  stop(): Promise<void>;
  /** Start the stopped cluster again on the same port and data (a restart, as of a server upgrade). */
  start(): Promise<void>;
}

/** PostgreSQL refuses to run as root; as root, the cluster runs as the `postgres` user. */
function asClusterOwner(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

function run(cmd: string, args: string[]): void {
  const [c, a] = asClusterOwner(cmd, args);
  execFileSync(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Where the cluster's data can live. As root the cluster runs as `postgres`,
 * which must be able to reach the folder; a project cloned under a private
 * folder (a home directory, `mktemp -d`) is not reachable, so its data goes to
 * a stable folder of its own under /var/tmp instead.
 */
export function reachableDataDir(preferred: string): string {
  const wanted = resolve(preferred);
  if (process.getuid?.() !== 0) return wanted;
  mkdirSync(dirname(wanted), { recursive: true });
  try {
    execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dirname(wanted)]);
    return wanted;
  } catch {
    const fallback = join('/var/tmp', `shipshape-${createHash('sha256').update(wanted).digest('hex').slice(0, 12)}`);
    mkdirSync(fallback, { recursive: true, mode: 0o755 });
    chmodSync(fallback, 0o755);
    return join(fallback, basename(wanted));
  }
}

export async function startPostgres(options: {
  dataDir: string;
  port?: number;
  fast?: boolean;
}): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  const dataDir = reachableDataDir(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) {
    const pg = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    if (statSync(dataDir).uid !== pg) chownSync(dataDir, pg, pg);
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dataDir]);
    } catch {
      throw new Error(
        `the postgres user cannot reach ${dataDir}: every folder above it must be searchable (chmod o+x)`,
      );
    }
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    run(join(bin, 'initdb'), ['-D', dataDir, '-U', 'shipshape', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
  }
  const port = options.port ?? (await freePort());
  const settings = ['-p', String(port), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'];
  // Tests throw the cluster away afterwards: durability buys them nothing.
  if (options.fast) settings.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const start = () =>
    run(join(bin, 'pg_ctl'), [
      '-D',
      dataDir,
      '-o',
      settings.join(' '),
      '-l',
      join(dataDir, 'server.log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
  start();
  const roleUrl = (role: string) => (db: string) => `postgres://${role}@127.0.0.1:${port}/${db}`;
  const url = roleUrl('shipshape');
  let rolesCreated = false;
  return {
    port,
    url,
    ownerUrl: roleUrl(OWNER_ROLE),
    appUrl: roleUrl(APP_ROLE),
    async createDatabase(name, template) {
      if (!rolesCreated) await createRolesIfMissing(url('postgres'));
      rolesCreated = true;
      await createDatabaseIfMissing(url('postgres'), name, template, OWNER_ROLE);
      return url(name);
    },
    async stop() {
      run(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
    },
    async start() {
      start();
    },
  };
}

/** Apply the migrations in migrations/ with node-pg-migrate's CLI, as `databaseUrl`'s role (the owner role). */
export function migrate(databaseUrl: string): void {
  execFileSync(
    process.execPath,
    [
      join(PROJECT_ROOT, 'node_modules', 'node-pg-migrate', 'bin', 'node-pg-migrate.js'),
      'up',
      '-m',
      join(PROJECT_ROOT, 'migrations'),
      '--no-verbose',
    ],
    {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

// ---------- Temporal dev server ----------

export function temporalBinary(): string {
  if (process.env.TEMPORAL_BIN) return process.env.TEMPORAL_BIN;
  const local = join(PROJECT_ROOT, '.tools', 'bin', 'temporal');
  if (existsSync(local)) return local;
  return 'temporal';
}

export interface RunningTemporal {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface TemporalDevServerOptions {
  dbFile?: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  /** The Web UI's remote codec endpoint (Shipshape's /v1/codec), so the UI can show decrypted payloads. */
  uiCodecEndpoint?: string;
  logFile: string;
}

/**
 * Start the dev server. A port found free can be taken by another process
 * before the server binds it (the server then exits at once): with no port
 * asked for, that is tried again on new ports, up to three times.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<RunningTemporal> {
  for (let attempt = 1; ; attempt++) {
    const logFrom = existsSync(options.logFile) ? statSync(options.logFile).size : 0;
    try {
      return await startTemporalDevServerOnce(options);
    } catch (err) {
      const portTaken = readFileSync(options.logFile).subarray(logFrom).toString().includes('address already in use');
      if (options.port !== undefined || !portTaken || attempt >= 3) throw err;
      appendFileSync(options.logFile, `[shipshape] a port was taken before the server bound it; trying new ports\n`);
    }
  }
}

async function startTemporalDevServerOnce(options: TemporalDevServerOptions): Promise<RunningTemporal> {
  const port = options.port ?? (await freePort());
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.headless) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort ?? port + 1000));
  if (options.uiCodecEndpoint && !options.headless) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  for (const key of ALL_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  const log = openSync(options.logFile, 'a');
  const child = spawn(temporalBinary(), args, { stdio: ['ignore', log, log], detached: false });
  const exited = new Promise<number | null>((ok) => child.once('exit', ok));
  const address = `127.0.0.1:${port}`;
  let failed: Error | null = null;
  child.once('error', (err) => (failed = err));
  void exited.then((code) => (failed ??= new Error(`temporal dev server exited (${code}); see ${options.logFile}`)));
  await waitFor('Temporal dev server', 90_000, async () => {
    if (failed) throw failed;
    const connection = await Connection.connect({ address, connectTimeout: 1000 });
    try {
      await connection.workflowService.describeNamespace({ namespace: 'default' });
    } finally {
      await connection.close();
    }
  }).catch((err) => {
    child.kill('SIGKILL');
    throw failed ?? err;
  });
  return {
    address,
    uiUrl: options.headless ? null : `http://localhost:${options.uiPort ?? port + 1000}`,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Start PostgreSQL and the Temporal dev server side by side; if either fails, stop the one that started. */
export async function startServices(
  pgOptions: Parameters<typeof startPostgres>[0],
  temporalOptions: Parameters<typeof startTemporalDevServer>[0],
): Promise<{ pg: RunningPostgres; temporal: RunningTemporal }> {
  const [pg, temporal] = await Promise.allSettled([startPostgres(pgOptions), startTemporalDevServer(temporalOptions)]);
  if (pg.status === 'fulfilled' && temporal.status === 'fulfilled') return { pg: pg.value, temporal: temporal.value };
  if (pg.status === 'fulfilled') await pg.value.stop().catch(() => undefined);
  if (temporal.status === 'fulfilled') await temporal.value.stop().catch(() => undefined);
  throw pg.status === 'rejected' ? pg.reason : (temporal as PromiseRejectedResult).reason;
}
