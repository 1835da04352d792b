/**
 * Worker process entry point. Configuration is validated first; SIGINT and
 * SIGTERM drain the worker gracefully (the SDK's default shutdown signals).
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../config/logger';
import { createPool } from '../db/pool';
import { createActivities } from '../activities';
import { createBmc, createGuards, createNotifier, createProvider, createTelemetrySettings } from '../activities/wiring';
import { ensureSweepSchedule } from './schedule';
import { connectClient, connectWorker, createClient, ensureSearchAttributes } from './temporal';
import { createRemediationWorker } from './worker';

const SDK_LEVEL = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR', silent: 'ERROR' } as const;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'shipshape-worker');
  Runtime.install({ logger: new DefaultLogger(SDK_LEVEL[config.LOG_LEVEL]) });
  const db = createPool(config.DATABASE_URL);
  const provider = createProvider(config, db);
  const bmc = createBmc(config, db, provider);
  const clientConnection = await connectClient(config);
  await ensureSearchAttributes(clientConnection, config.TEMPORAL_NAMESPACE, logger);
  // A schedule that cannot be created (no permission on Temporal Cloud, say) must not stop remediation: say so and go on.
  await ensureSweepSchedule(createClient(clientConnection, config), {
    prefix: config.SHIPSHAPE_WORKFLOW_ID_PREFIX,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    everySeconds: config.SHIPSHAPE_SWEEP_INTERVAL_SECONDS,
    logger,
  }).catch((err: unknown) =>
    logger.error({ err: (err as Error).message }, 'telemetry sweep schedule not created: no sweeps run until it is (the worker goes on)'),
  );
  await clientConnection.close();
  const connection = await connectWorker(config);
  const worker = await createRemediationWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities: createActivities({
      provider,
      db,
      notifier: createNotifier(config, logger),
      guards: createGuards(config, logger),
      bmc,
      telemetry: createTelemetrySettings(config),
    }),
  });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE }, 'worker started');
  await worker.run();
  await connection.close();
  await db.end();
  logger.info('worker stopped');
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
