/** Build the provider and notifier that configuration asks for. */
import type { Pool } from 'pg';
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

export function createNotifier(config: Config, logger: Logger): Notifier {
  return config.SHIPSHAPE_NOTIFY_WEBHOOK_URL ? createWebhookNotifier(config.SHIPSHAPE_NOTIFY_WEBHOOK_URL) : createLogNotifier(logger);
}
