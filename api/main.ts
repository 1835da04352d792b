/**
 * API process entry point: fail fast on bad configuration, stop cleanly on
 * SIGINT/SIGTERM, and log and stop on an unhandled rejection or uncaught exception.
 */
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../config/logger';
import { stopOnUnexpectedError } from '../config/process-errors';
import { warnIfAuditLogMutable } from '../db/audit-log';
import { startApi } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'shipshape-api');
  const unexpected = stopOnUnexpectedError(logger);
  const api = await startApi(config, { logger });
  unexpected.stopWith(() => api.stop());
  await warnIfAuditLogMutable(api.db, logger);
  const stop = () => {
    logger.info('stopping');
    api.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
