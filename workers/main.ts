/**
 * Worker process entry point. Configuration is validated first; SIGINT and
 * SIGTERM drain the worker gracefully (the SDK's default shutdown signals), and
 * so does an unhandled rejection or uncaught exception, after it is logged.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Pool } from 'pg';
import { complianceDir, ConfigError, loadConfig } from '../config';
import { loadKeys } from '../config/keys';
import { createLogger, type Logger } from '../config/logger';
import { stopOnUnexpectedError } from '../config/process-errors';
import { warnIfAuditLogMutable } from '../db/audit-log';
import { readZoneBudgets } from '../db/guards';
import { createPool } from '../db/pool';
import { describeBudget, type GuardConfig } from '../domain/guards';
import { createActivities } from '../activities';
import { LeaseReaper, temporalHolderRuns } from '../activities/lease-reaper';
import { createActivityDeps, prepareFleet } from './composition';
import { ComplianceSchedules } from './compliance-schedules';
import { ensureSweepSchedule } from './schedule';
import { connectClient, connectWorker, createClient, ensureSearchAttributes } from './temporal';
import { createRemediationWorker } from './worker';

const SDK_LEVEL = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
} as const;

/** How often the worker reads the compliance profiles' folder for a changed schedule. */
const COMPLIANCE_FOLDER_POLL_MS = 60_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const keys = loadKeys(config.SHIPSHAPE_KEYS_FILE);
  const logger = createLogger(config.LOG_LEVEL, 'shipshape-worker');
  const unexpected = stopOnUnexpectedError(logger);
  Runtime.install({ logger: new DefaultLogger(SDK_LEVEL[config.LOG_LEVEL]) });
  const db = createPool(config.DATABASE_URL, 10, logger);
  const deps = createActivityDeps(config, db, logger);
  await warnIfAuditLogMutable(db, logger);
  const clientConnection = await connectClient(config);
  await ensureSearchAttributes(clientConnection, config.TEMPORAL_NAMESPACE, logger);
  const client = createClient(clientConnection, config, keys);
  // A schedule that cannot be created (no permission on Temporal Cloud, say) must not stop remediation: say so and go on.
  await ensureSweepSchedule(client, {
    prefix: config.SHIPSHAPE_WORKFLOW_ID_PREFIX,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    everySeconds: config.SHIPSHAPE_SWEEP_INTERVAL_SECONDS,
    logger,
  }).catch((err: unknown) =>
    logger.error(
      { err: (err as Error).message },
      'telemetry sweep schedule not created: no sweeps run until it is (the worker goes on)',
    ),
  );
  // A schedule per compliance profile that has one, brought in line with the folder now and at each change of it.
  const stopComplianceSchedules = new ComplianceSchedules(client, {
    prefix: config.SHIPSHAPE_WORKFLOW_ID_PREFIX,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    profilesDir: complianceDir(config),
    logger,
  }).start(COMPLIANCE_FOLDER_POLL_MS);
  // The client connection stays open for the lease reaper, which asks Temporal about the runs holding leases.
  const leaseReaper = new LeaseReaper({
    db,
    holderRun: temporalHolderRuns(client),
    logger,
  });
  const stopReaper =
    config.SHIPSHAPE_LEASE_REAP_SECONDS > 0 ? leaseReaper.start(config.SHIPSHAPE_LEASE_REAP_SECONDS) : () => undefined;
  const connection = await connectWorker(config);
  const worker = await createRemediationWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities: createActivities({ ...deps, leaseReaper }),
    keys,
  });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE }, 'worker started');
  // Beside the worker, not before it: a slow provider must not hold up remediation. The inventory is
  // synced (the simulated fleet seeded first, when asked) so the API can resolve alerts and the budgets know their zones.
  prepareFleet(config, db, deps.provider)
    .catch((err: unknown) =>
      logger.warn(
        { err: (err as Error).message },
        'inventory not synced at start-up: guard budgets are for the hosts known so far',
      ),
    )
    .then(() => logGuardBudgets(db, deps.guards, logger))
    .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'guard budgets not logged'));
  const running = worker.run();
  // Drain as on SIGTERM: activities in flight finish (or are retried by Temporal elsewhere).
  unexpected.stopWith(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  await running;
  stopReaper();
  await stopComplianceSchedules();
  await connection.close();
  await clientConnection.close();
  await db.end();
  logger.info('worker stopped');
}

/** One line per zone: how many of its hosts the guards let go out now, and why. */
async function logGuardBudgets(db: Pool, guards: () => GuardConfig, logger: Logger): Promise<void> {
  const budgets = await readZoneBudgets(db, guards());
  if (budgets.length === 0) logger.info('guards: no hosts known yet');
  for (const b of budgets) {
    logger.info(
      {
        zone: b.zone,
        hosts: b.hosts,
        inService: b.inService,
        out: b.out,
        leases: b.leases,
        mayTakeOutNow: b.mayTakeOutNow,
        boundBy: b.boundBy,
      },
      `guards: ${describeBudget(b)}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
