/** Build the provider and notifier that configuration asks for. */
import { join } from 'node:path';
import type { Pool } from 'pg';
import type { GuardConfig } from '../domain/guards';
import { watchGuards } from '../policies/guards-schema';
import type { Config } from '../config';
import type { Logger } from '../config/logger';
import type { FleetProvider } from '../domain/provider';
import { DEFAULT_TELEMETRY, type TelemetrySettings } from './telemetry';
import { createBmcConnector, type BmcConnector } from './bmc';
import { BmcCredentials } from './bmc/credentials';
import { createLogNotifier, createWebhookNotifier, type Notifier } from './notifier';
import { loadCloudConfig } from './openstack/cloud-config';
import { OpenStackProvider } from './providers/openstack';
import { SimulatedFleet } from './providers/simulated';

export function createProvider(config: Config, db: Pool): FleetProvider {
  switch (config.SHIPSHAPE_PROVIDER) {
    case 'simulated':
      return new SimulatedFleet(db, {
        migrationSeconds: config.SHIPSHAPE_SIM_MIGRATION_SECONDS,
        powerOnSeconds: config.SHIPSHAPE_SIM_POWER_ON_SECONDS,
      });
    case 'openstack':
      // clouds.yaml (OS_CLOUD) or the OS_* variables; a bad entry stops the process naming the file and field.
      return new OpenStackProvider(loadCloudConfig(process.env), { bmcCredentialsRef: config.SHIPSHAPE_OPENSTACK_BMC_CREDENTIALS_REF ?? null });
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

export function createTelemetrySettings(config: Config): TelemetrySettings {
  return {
    ...DEFAULT_TELEMETRY,
    thresholds: {
      inletWarningC: config.SHIPSHAPE_INLET_WARNING_C,
      inletCriticalC: config.SHIPSHAPE_INLET_CRITICAL_C,
      correctableErrorsRise: config.SHIPSHAPE_CORRECTABLE_ERRORS_RISE,
      correctableErrorsWindowMinutes: config.SHIPSHAPE_CORRECTABLE_ERRORS_WINDOW_MINUTES,
    },
    retentionDays: config.SHIPSHAPE_TELEMETRY_RETENTION_DAYS,
    concurrency: config.SHIPSHAPE_SWEEP_CONCURRENCY,
    readDeadlineMs: config.SHIPSHAPE_BMC_READ_DEADLINE_SECONDS * 1000,
  };
}

/** BMC access with the credentials file read once at start-up: a bad file stops the worker with the file, entry and field. */
export function createBmc(config: Config, db: Pool, provider: FleetProvider): BmcConnector {
  return createBmcConnector({ db, credentials: BmcCredentials.fromFile(config.SHIPSHAPE_BMC_CREDENTIALS_FILE), simulatedPower: provider });
}
