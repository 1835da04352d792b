/** Build the provider and notifier that configuration asks for. */
import { join } from 'node:path';
import type { Pool } from 'pg';
import type { GuardConfig } from '../domain/guards';
import { watchGuards } from '../policies/guards-schema';
import type { Config } from '../config';
import type { Logger } from '../config/logger';
import type { FleetProvider } from '../domain/provider';
import { createLogNotifier, createWebhookNotifier, type Notifier } from './notifier';
import { SimulatedFleet } from './providers/simulated';

export function createProvider(config: Config, db: Pool): FleetProvider {
  switch (config.SHIPSHAPE_PROVIDER) {
    case 'simulated':
      return new SimulatedFleet(db, {
        migrationSeconds: config.SHIPSHAPE_SIM_MIGRATION_SECONDS,
        powerOnSeconds: config.SHIPSHAPE_SIM_POWER_ON_SECONDS,
      });
  }
}

/** The fleet-wide guards, re-read when the file changes; a bad file at start-up stops the process. */
export function createGuards(config: Config, logger: Logger): () => GuardConfig {
  const file = config.SHIPSHAPE_GUARDS_FILE ?? join(config.SHIPSHAPE_POLICY_DIR, 'guards.yaml');
  return watchGuards(file, (message) => logger.error({ file }, `guards file rejected, keeping the last good guards: ${message}`));
}

export function createNotifier(config: Config, logger: Logger): Notifier {
  return config.SHIPSHAPE_NOTIFY_WEBHOOK_URL ? createWebhookNotifier(config.SHIPSHAPE_NOTIFY_WEBHOOK_URL) : createLogNotifier(logger);
}
