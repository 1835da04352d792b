import type { Pool } from 'pg';
import type { GuardConfig } from '../domain/guards';
import type { FleetProvider } from '../domain/provider';
import { createGuardActivities } from './guards';
import { createHostActivities } from './host-actions';
import type { Notifier } from './notifier';
import { createRecordActivities } from './records';

export interface ActivityDeps {
  provider: FleetProvider;
  db: Pool;
  notifier: Notifier;
  /** The fleet-wide guards as they are now (the guards file, re-read on change). */
  guards: () => GuardConfig;
}

/** Every activity the remediation workflow proxies, wired to its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return { ...createRecordActivities(deps.db), ...createHostActivities(deps), ...createGuardActivities(deps) };
}

export type RemediationActivities = ReturnType<typeof createActivities>;
