/**
 * Every activity the workflows proxy, built from injected dependencies: the
 * fleet provider, the BMC connector, the notifier, the guards and the database.
 * Nothing here knows a vendor API; workers/composition.ts builds the dependencies.
 */
import type { Pool } from 'pg';
import type { GuardConfig } from '../domain/guards';
import type { FleetProvider } from '../domain/provider';
import type { BmcConnector } from '../providers/bmc';
import type { Notifier } from '../providers/notifiers';
import { SshCredentials } from '../providers/ssh/credentials';
import { createComplianceActivities, type ComplianceDeps } from './compliance';
import { createComplianceFixActivities } from './compliance-fix';
import { createReclaimActivities, RECLAIM_NOT_CONFIGURED, type ReclaimDeps } from './reclaim';
import { createComplianceScanActivities } from './compliance-scans';
import type { DecisionActivities } from './decisions';
import { createGuardActivities } from './guards';
import { createHostActivities } from './host-actions';
import type { LeaseReaper } from './lease-reaper';
import { createRecordActivities } from './records';
import { createTelemetryActivities, DEFAULT_TELEMETRY, type TelemetrySettings } from './telemetry';

export interface ActivityDeps {
  provider: FleetProvider;
  db: Pool;
  notifier: Notifier;
  /** The fleet-wide guards as they are now (the guards file, re-read on change). */
  guards: () => GuardConfig;
  /** How each host's BMC is reached (simulated or Redfish, with the credentials file): built by workers/composition.ts. */
  bmc: BmcConnector;
  telemetry?: Partial<TelemetrySettings>;
  /** Releases leases whose run Temporal says is closed or gone; asked when a lease-counting guard blocks (none: not asked). */
  leaseReaper?: LeaseReaper;
  /** Compliance scans: the SSH credentials and the profiles' folder (none: no SSH credentials, the shipped profiles). */
  compliance?: Omit<ComplianceDeps, 'db'>;
  /** Reclaim of unused capacity: the tenant cloud, the owners' mailer, the rules, the caps (none: not configured). */
  reclaim?: Omit<ReclaimDeps, 'db'>;
}

/** Every activity the remediation workflow proxies, wired to its dependencies. */
export function createActivities(deps: ActivityDeps) {
  const telemetry = createTelemetryActivities({
    db: deps.db,
    provider: deps.provider,
    bmc: deps.bmc,
    settings: { ...DEFAULT_TELEMETRY, ...deps.telemetry },
  });
  const complianceDeps: ComplianceDeps = {
    db: deps.db,
    sshCredentials: SshCredentials.empty(),
    profilesDir: 'policies/compliance',
    bmc: deps.bmc,
    provider: deps.provider,
    ...deps.compliance,
  };
  const compliance = createComplianceActivities(complianceDeps);
  return {
    ...createRecordActivities(deps.db),
    ...createHostActivities({ ...deps, auditView: telemetry.auditView }),
    ...createGuardActivities(deps),
    ...telemetry.activities,
    ...compliance,
    ...createComplianceFixActivities({ ...complianceDeps, scan: compliance }),
    ...createComplianceScanActivities({ db: deps.db, profilesDir: complianceDeps.profilesDir }),
    ...createReclaimActivities({ db: deps.db, ...(deps.reclaim ?? RECLAIM_NOT_CONFIGURED) }),
  };
}

/** The activities built from the fleet's dependencies (the worker adds the decision check, built from its keys). */
export type FleetActivities = ReturnType<typeof createActivities>;
/** Every activity the workflows proxy. */
export type RemediationActivities = FleetActivities & DecisionActivities;
