/**
 * A test file's own world on the shared services: a fresh database copied
 * from the migrated template, a seeded simulated fleet, a fresh task queue,
 * the real API in-process, and a worker with the real activities.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { Client as PgClient, type Pool } from 'pg';
import { createActivities, type ActivityDeps, type FleetActivities } from '../../activities';
import { syncInventory } from '../../activities/inventory';
import type { Notifier, OperatorNotification } from '../../providers/notifiers';
import { SimulatedFleet } from '../../providers/simulated/provider';
import { seedSimulatedFleet, type FleetShape } from '../../providers/simulated/admin';
import type { BmcConnector } from '../../providers/bmc';
import { BmcCredentials } from '../../providers/redfish/credentials';
import type { TelemetrySettings } from '../../activities/telemetry';
import { createToken } from '../../api/auth';
import { startRedispatcher } from '../../api/redispatch';
import { createApp, type AppDeps } from '../../api/app';
import type { InboxEngine, InboxSettings } from '../../api/inbox-engine';
import { PolicyStore } from '../../api/policy-store';
import { loadKeys, writeNewKeysFile, type ShipshapeKeys } from '../../config/keys';
import { createLogger } from '../../config/logger';
import { APP_ROLE, OWNER_ROLE } from '../../db/bootstrap';
import { createPool } from '../../db/pool';
import type { GuardConfig } from '../../domain/guards';
import type { FleetProvider } from '../../domain/provider';
import type { PolicyMatch } from '../../domain/policy';
import type { RemediationPolicy } from '../../domain/remediation';
import type { ApiRole } from '../../domain/types';
import type { LoadedPolicy } from '../../policies/loader';
import { createBmcConnector } from '../../workers/composition';
import { shipshapeDataConverter } from '../../workers/data-converter';
import { createRemediationWorker } from '../../workers/worker';

let runtimeInstalled = false;
/** Install the Temporal runtime with a logger that only says warnings, once in this jest worker. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  } catch {
    // already installed by another module in this worker
  }
}

/** Policies with short waits, so a whole remediation takes seconds. */
export function testPolicy(
  name: string,
  signals: string[],
  overrides: Partial<RemediationPolicy> = {},
  match: Partial<PolicyMatch> = {},
): LoadedPolicy {
  return {
    file: `${name}.yaml`,
    name,
    source: '',
    priority: 0,
    match: { signals, labels: [], severities: null, roles: null, zones: null, ...match },
    policy: {
      name,
      version: 'test-1',
      approval: { required: false, timeoutSeconds: 60 },
      drain: { emptyTimeoutSeconds: 60 },
      repair: ['power-cycle'],
      verify: { attempts: 3, intervalSeconds: 1 },
      ...overrides,
    },
  };
}

export const DEFAULT_TEST_POLICIES = [
  testPolicy('host-down', ['HostDown', 'NovaComputeDown']),
  testPolicy('hardware-fault', ['HardwareFault'], { approval: { required: true, timeoutSeconds: 60 } }),
];

export interface TestEnv {
  /** The application role's pool, as the API and the worker use it (tampering fixtures connect as the superuser `shipshape`). */
  db: Pool;
  provider: FleetProvider;
  /** The worker's BMC access: simulated BMCs, and Redfish with the credentials given (none by default). */
  bmc: BmcConnector;
  /** The application role's URL (DATABASE_URL of a worker process). */
  databaseUrl: string;
  /** The same database as the superuser: for fixtures that change what the application may not (DDL, triggers). */
  superuserUrl: string;
  temporalAddress: string;
  client: Client;
  taskQueue: string;
  /** Workflow IDs of this test file start with it: files share one namespace. */
  workflowIdPrefix: string;
  apiUrl: string;
  notifications: OperatorNotification[];
  policies: () => readonly LoadedPolicy[];
  token(subject: string, role: ApiRole): Promise<string>;
  /** The keys file the API and the worker load (every payload is encrypted, every decision signed), and its keys. */
  keysFile: string;
  keys: ShipshapeKeys;
  startWorker(activities?: FleetActivities): Promise<Worker>;
  /** The API's inbox engine (ticking every second; `inbox.tick()` takes new signals in now). */
  inbox: InboxEngine;
  /** Another API app on this env's database and Temporal, with some of its dependencies changed (no redispatcher, no inbox timer). */
  serveApp(changes: Partial<AppDeps>): Promise<{ url: string; close(): Promise<void> }>;
  close(): Promise<void>;
}

/** Guards that never get in the way: for tests that are not about guards. */
export const PERMISSIVE_GUARDS: GuardConfig = {
  maxConcurrentPerZone: { percent: 100 },
  maxConcurrentFleet: { percent: 100 },
  maxOutOfServicePerZone: { percent: 100 },
  minFreeVcpuPercentPerZone: 0,
  rateLimit: { starts: 10_000, windowMinutes: 1 },
  cooldownMinutes: 0,
  maxAttempts: { count: 10_000, windowMinutes: 1 },
  breaker: { percent: 100, windowMinutes: 0.001 },
  windows: [],
  waitTimeoutMinutes: 60,
  pollSeconds: 1,
};

export interface TestEnvOptions {
  fleet?: FleetShape;
  policies?: LoadedPolicy[];
  policyDir?: string;
  migrationSeconds?: number;
  guards?: () => GuardConfig;
  /** The worker's BMC credentials file, parsed (default: none; simulated BMCs need none). */
  bmcCredentials?: BmcCredentials;
  telemetry?: Partial<TelemetrySettings>;
  /** The inbox's settings (its clock, timings); defaults otherwise. */
  inbox?: Partial<InboxSettings>;
  /** Run the API's redispatcher at this interval: it delivers queued signals, telemetry's among them. */
  redispatchEveryMs?: number;
  /** Another provider than the simulated fleet (the test OpenStack cloud); no simulated fleet is seeded then. */
  provider?: (db: Pool) => FleetProvider;
  /** The compliance profiles' folder the API reads (none: the API neither serves nor checks profiles). */
  complianceDir?: string;
}

/**
 * A worker's activities on the env's provider, database and BMC with a notifier that sends nothing and
 * permissive guards (not the env's own notifier and guards, as startWorker's default); `deps` adds or replaces any.
 */
export function fleetActivities(
  env: Pick<TestEnv, 'provider' | 'db' | 'bmc'>,
  deps: Partial<ActivityDeps> = {},
): FleetActivities {
  return createActivities({
    provider: env.provider,
    db: env.db,
    bmc: env.bmc,
    notifier: { notify: async () => undefined },
    guards: () => PERMISSIVE_GUARDS,
    ...deps,
  });
}

/** A database of its own from the migrated template (the owner role's), for one test file; its name and the app role's URL. */
export async function createTestDatabase(): Promise<{ name: string; url: string }> {
  const dbName = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new PgClient({
    connectionString: `postgres://shipshape@127.0.0.1:${process.env.SHIPSHAPE_TEST_PG_PORT}/postgres`,
  });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName} TEMPLATE shipshape_template OWNER ${OWNER_ROLE}`);
  await admin.end();
  return { name: dbName, url: `postgres://${APP_ROLE}@127.0.0.1:${process.env.SHIPSHAPE_TEST_PG_PORT}/${dbName}` };
}

export async function createTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  quietRuntime();
  const { name: dbName, url: databaseUrl } = await createTestDatabase();
  const db = createPool(databaseUrl, 20);
  const provider =
    options.provider?.(db) ??
    new SimulatedFleet(db, { migrationSeconds: options.migrationSeconds ?? 1, powerOnSeconds: 1 });
  if (!options.provider)
    await seedSimulatedFleet(db, options.fleet ?? { zones: ['zone-a', 'zone-b'], hostsPerZone: 3, serversPerHost: 2 });
  await syncInventory(db, provider);
  const bmc = createBmcConnector({
    db,
    credentials: options.bmcCredentials ?? BmcCredentials.empty(),
    simulatedPower: provider,
  });

  const temporalAddress = process.env.SHIPSHAPE_TEST_TEMPORAL!;
  const keysFile = join(process.env.SHIPSHAPE_TEST_DIR!, `keys-${dbName}.json`);
  writeNewKeysFile(keysFile);
  const keys = loadKeys(keysFile);
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection, dataConverter: shipshapeDataConverter(keys) });
  const taskQueue = `test-${randomUUID()}`;
  const logger = createLogger('silent', 'test');
  const workflowIdPrefix = `${dbName}/`;
  let policyStore: PolicyStore | undefined;
  if (options.policyDir) {
    policyStore = new PolicyStore(db, options.policyDir, logger, { provider: provider.name });
    await policyStore.load();
    policyStore.watch(200);
  }
  const fixed = options.policies ?? DEFAULT_TEST_POLICIES;
  const policies = policyStore ? () => policyStore.list() : () => fixed;
  const appDeps: AppDeps = {
    db,
    client,
    connection,
    taskQueue,
    workflowIdPrefix,
    policies,
    policyStore,
    hostLabel: 'host',
    logger,
    guards: options.guards ?? (() => PERMISSIVE_GUARDS),
    keys,
    codecCorsOrigins: ['http://localhost:8233'],
    inbox: options.inbox,
    complianceDir: options.complianceDir,
  };
  const { app, dispatcher, inbox } = createApp(appDeps);
  inbox.start();
  const stopRedispatch = options.redispatchEveryMs
    ? startRedispatcher(db, dispatcher, logger, options.redispatchEveryMs)
    : async () => undefined;
  const server: Server = await new Promise((ok) => {
    const s = app.listen(0, () => ok(s));
  });
  const port = (server.address() as { port: number }).port;

  const notifications: OperatorNotification[] = [];
  const notifier: Notifier = { notify: async (n) => void notifications.push(n) };
  const workers: { worker: Worker; done: Promise<void>; connection: NativeConnection }[] = [];

  return {
    db,
    provider,
    bmc,
    databaseUrl,
    superuserUrl: `postgres://shipshape@127.0.0.1:${process.env.SHIPSHAPE_TEST_PG_PORT}/${dbName}`,
    temporalAddress,
    client,
    taskQueue,
    workflowIdPrefix,
    apiUrl: `http://127.0.0.1:${port}`,
    inbox,
    notifications,
    policies,
    keysFile,
    keys,
    token: (subject, role) => createToken(db, subject, role),
    async startWorker(activities) {
      const workerConnection = await NativeConnection.connect({ address: temporalAddress });
      const worker = await createRemediationWorker({
        connection: workerConnection,
        namespace: 'default',
        taskQueue,
        activities:
          activities ??
          createActivities({
            provider,
            db,
            notifier,
            guards: options.guards ?? (() => PERMISSIVE_GUARDS),
            bmc,
            telemetry: options.telemetry,
          }),
        workflowBundlePath: process.env.SHIPSHAPE_TEST_BUNDLE,
        keys,
      });
      workers.push({ worker, done: worker.run(), connection: workerConnection });
      return worker;
    },
    async serveApp(changes) {
      const { app: other } = createApp({ ...appDeps, ...changes });
      const otherServer: Server = await new Promise((ok) => {
        const srv = other.listen(0, '127.0.0.1', () => ok(srv));
      });
      return {
        url: `http://127.0.0.1:${(otherServer.address() as { port: number }).port}`,
        close: () => new Promise<void>((ok) => otherServer.close(() => ok())),
      };
    },
    async close() {
      for (const w of workers) {
        if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
        await w.done.catch(() => undefined);
        await w.connection.close();
      }
      policyStore?.stop();
      await stopRedispatch();
      await inbox.stop();
      await new Promise((ok) => server.close(ok));
      await connection.close();
      await db.end();
    },
  };
}
