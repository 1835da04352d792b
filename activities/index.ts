import type { Pool } from 'pg';
import type { GuardConfig } from '../domain/guards';
import type { FleetProvider } from '../domain/provider';
import { createBmcConnector, type BmcConnector } from './bmc';
import { BmcCredentials } from './bmc/credentials';
import { createGuardActivities } from './guards';
import { createHostActivities } from './host-actions';
import type { Notifier } from './notifier';
import { createRecordActivities } from './records';
import { createTelemetryActivities, DEFAULT_TELEMETRY, type TelemetrySettings } from './telemetry';

export interface ActivityDeps {
  provider: FleetProvider;
  db: Pool;
  notifier: Notifier;
  /** The fleet-wide guards as they are now (the guards file, re-read on change). */
  guards: () => GuardConfig;
  /** How BMCs are reached; by default simulated BMCs and Redfish without credentials. */
  bmc?: BmcConnector;
  telemetry?: Partial<TelemetrySettings>;
}

/** Every activity the remediation workflow proxies, wired to its dependencies. */
export function createActivities(deps: ActivityDeps) {
  const bmc = deps.bmc ?? createBmcConnector({ db: deps.db, credentials: BmcCredentials.empty(), simulatedPower: deps.provider });
  const telemetry = createTelemetryActivities({ db: deps.db, provider: deps.provider, bmc, settings: { ...DEFAULT_TELEMETRY, ...deps.telemetry } });
  return {
    ...createRecordActivities(deps.db),
    ...createHostActivities({ ...deps, auditView: telemetry.auditView }),
    ...createGuardActivities(deps),
    ...telemetry.activities,
  };
}

export type RemediationActivities = ReturnType<typeof createActivities>;
