import type { Pool } from 'pg';
import type { FleetProvider } from '../domain/provider';
import { createHostActivities } from './host-actions';
import type { Notifier } from './notifier';
import { createRecordActivities } from './records';

export interface ActivityDeps {
  provider: FleetProvider;
  db: Pool;
  notifier: Notifier;
}

/** Every activity the remediation workflow proxies, wired to its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return { ...createRecordActivities(deps.db), ...createHostActivities(deps) };
}

export type RemediationActivities = ReturnType<typeof createActivities>;
