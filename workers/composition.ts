/**
 * The composition root: the one place that turns configuration into the
 * fleet provider, BMC access, notifier, guards and telemetry settings the
 * activities are built with, and brings the inventory in line with the
 * provider (seeding the simulated fleet first when asked).
 *
 * It lives in workers/ because it is the only layer allowed to see both
 * sides: providers/ must not import activities/, api/ must import neither,
 * and the worker process (with the demo and the benchmarks, which run a
 * worker in-process) is what runs the activities.
 */
import type { Pool } from 'pg';
import { complianceDir, type Config } from '../config';
import type { Logger } from '../config/logger';
import { loadInventoryFile } from '../config/inventory-file';
import type { GuardConfig } from '../domain/guards';
import type { FleetProvider } from '../domain/provider';
import type { ActivityDeps } from '../activities';
import { syncInventory, syncInventoryFile } from '../activities/inventory';
import { DEFAULT_TELEMETRY, type TelemetrySettings } from '../activities/telemetry';
import { watchGuardsFile } from '../policies/guards-schema';
import { BmcError, type BmcConnector } from '../providers/bmc';
import { createLogNotifier, createWebhookNotifier, type Notifier } from '../providers/notifiers';
import { loadCloudConfig } from '../providers/openstack/cloud-config';
import { OpenStackProvider } from '../providers/openstack/provider';
import { RedfishClient } from '../providers/redfish/client';
import { BmcCredentials } from '../providers/redfish/credentials';
import { SshCredentials } from '../providers/ssh/credentials';
import { DEMO_FLEET, seedSimulatedFleet } from '../providers/simulated/admin';
import { SimulatedBmc } from '../providers/simulated/bmc';
import { SimulatedFleet } from '../providers/simulated/provider';

/**
 * Everything the activities are built with, as the configuration says. A bad
 * clouds.yaml entry, BMC credentials file or guards file stops the process here,
 * at start-up, naming the file and the field.
 */
export function createActivityDeps(config: Config, db: Pool, logger: Logger): ActivityDeps {
  const provider = createProvider(config, db);
  return {
    provider,
    db,
    bmc: createBmc(config, db, provider),
    notifier: createNotifier(config, logger),
    guards: createGuards(config, logger),
    telemetry: createTelemetrySettings(config),
    compliance: createComplianceSettings(config),
  };
}

/**
 * What compliance scans read with: the SSH credentials file (a bad one stops the worker here, naming the
 * file, the entry and the field; none: no host is read over SSH) and the profiles' folder.
 */
export function createComplianceSettings(
  config: Pick<Config, 'SHIPSHAPE_SSH_CREDENTIALS_FILE' | 'SHIPSHAPE_COMPLIANCE_DIR' | 'SHIPSHAPE_POLICY_DIR'>,
  env: Record<string, string | undefined> = process.env,
): NonNullable<ActivityDeps['compliance']> {
  return {
    sshCredentials: SshCredentials.fromFile(config.SHIPSHAPE_SSH_CREDENTIALS_FILE, env),
    profilesDir: complianceDir(config),
  };
}

export function createProvider(config: Config, db: Pool): FleetProvider {
  switch (config.SHIPSHAPE_PROVIDER) {
    case 'simulated':
      return new SimulatedFleet(db, {
        migrationSeconds: config.SHIPSHAPE_SIM_MIGRATION_SECONDS,
        powerOnSeconds: config.SHIPSHAPE_SIM_POWER_ON_SECONDS,
        powerCallSeconds: config.SHIPSHAPE_SIM_POWER_CALL_SECONDS,
      });
    case 'openstack':
      // clouds.yaml (OS_CLOUD) or the OS_* variables; a bad entry stops the process naming the file and field.
      return new OpenStackProvider(loadCloudConfig(process.env), {
        bmcCredentialsRef: config.SHIPSHAPE_OPENSTACK_BMC_CREDENTIALS_REF ?? null,
      });
  }
}

/**
 * One way to reach any host's BMC: `sim://<host>` is the simulated fleet's,
 * `http(s)://` is Redfish. Credentials are resolved here, in the worker,
 * from the reference the inventory carries.
 */
export function createBmcConnector(deps: {
  db: Pool;
  credentials: BmcCredentials;
  simulatedPower: { requestPowerCycle(host: string): Promise<void>; requestReboot(host: string): Promise<void> };
}): BmcConnector {
  return (host, endpoint) => {
    if (endpoint.address.startsWith('sim://'))
      return new SimulatedBmc(deps.db, endpoint.address.slice('sim://'.length), deps.simulatedPower);
    if (!/^https?:\/\//.test(endpoint.address))
      throw new BmcError('garbage', `${host}: BMC address "${endpoint.address}" is neither http(s):// nor sim://`);
    const access = deps.credentials.resolve(endpoint.credentialsRef);
    return new RedfishClient({ address: endpoint.address, systemId: endpoint.systemId, ...access });
  };
}

/** BMC access with the credentials file read once at start-up: a bad file stops the worker with the file, entry and field. */
export function createBmc(config: Config, db: Pool, provider: FleetProvider): BmcConnector {
  return createBmcConnector({
    db,
    credentials: BmcCredentials.fromFile(config.SHIPSHAPE_BMC_CREDENTIALS_FILE),
    simulatedPower: provider,
  });
}

/** The fleet-wide guards, re-read when the file changes; a bad file at start-up stops the process. */
export function createGuards(config: Config, logger: Logger): () => GuardConfig {
  return watchGuardsFile(config, logger);
}

export function createNotifier(config: Config, logger: Logger): Notifier {
  return config.SHIPSHAPE_NOTIFY_WEBHOOK_URL
    ? createWebhookNotifier(config.SHIPSHAPE_NOTIFY_WEBHOOK_URL)
    : createLogNotifier(logger);
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
    signalRetentionDays: config.SHIPSHAPE_SIGNAL_RETENTION_DAYS,
    concurrency: config.SHIPSHAPE_SWEEP_CONCURRENCY,
    readDeadlineMs: config.SHIPSHAPE_BMC_READ_DEADLINE_SECONDS * 1000,
  };
}

/**
 * The fleet as the API must know it before the first alert: the demo's
 * simulated fleet seeded when SHIPSHAPE_SEED_SIMULATED_FLEET asks (idempotent),
 * then the inventory brought in line with the provider. The worker does this
 * at start; the demo and the signal-storm benchmark before they send alerts.
 * Returns the number of hosts.
 */
export async function prepareFleet(config: Config, db: Pool, provider: FleetProvider): Promise<number> {
  if (config.SHIPSHAPE_SEED_SIMULATED_FLEET) await seedSimulatedFleet(db, DEMO_FLEET);
  // The inventory file, when there is one: a bad file stops the worker, naming file, line and field, before
  // anything is written; it is applied after the provider's sync, so the hosts it labels have their rows.
  const inventory = config.SHIPSHAPE_INVENTORY_FILE ? loadInventoryFile(config.SHIPSHAPE_INVENTORY_FILE) : null;
  const hosts = await syncInventory(db, provider);
  if (inventory) await syncInventoryFile(db, inventory);
  return hosts;
}
