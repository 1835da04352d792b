/**
 * Guard activities: take and give back a lease on the fleet's capacity, and
 * check a host for repeat offences. The check and the take of a lease happen
 * in one transaction under an advisory lock (db/guards.ts), so two workers can
 * never both take the last slot of a zone.
 */
import type { Pool } from 'pg';
import { previousTakeOutsOfHost, releaseCapacityLease, takeCapacityLease } from '../db/guards';
import { repeatOffence, stricter, type Blocker, type GuardConfig, type PolicyGuards } from '../domain/guards';
import type { LeaseReaper } from './lease-reaper';

/** Guards that count leases: a stale lease can be what blocks them. */
const LEASE_COUNTING = new Set<Blocker['guard']>(['zone-concurrency', 'fleet-concurrency', 'zone-out-of-service']);

export type CapacityResult =
  | { acquired: true; trippedBreaker: string | null }
  | { acquired: false; blockers: Blocker[]; pollSeconds: number; waitTimeoutMinutes: number };

export function createGuardActivities(deps: { db: Pool; guards: () => GuardConfig; leaseReaper?: LeaseReaper }) {
  const { db } = deps;
  return {
    /** Would acting on this host again be a loop? (cooldown, max attempts) */
    async checkRepeatOffence(input: {
      remediationId: string;
      host: string;
      policyGuards?: PolicyGuards;
    }): Promise<string | null> {
      const config = stricter(deps.guards(), input.policyGuards);
      const before = await previousTakeOutsOfHost(
        db,
        input.host,
        input.remediationId,
        config.maxAttempts.windowMinutes,
      );
      return repeatOffence(
        config,
        { lastActedEndedAt: before.lastEndedAt?.toISOString() ?? null, attemptsInWindow: before.attempts },
        new Date(),
      );
    },

    async acquireCapacity(input: {
      remediationId: string;
      host: string;
      zone: string;
      policyGuards?: PolicyGuards;
      /** A change made in place (no drain): bounded per zone among such changes; the host stays in service. */
      inPlace?: boolean;
    }): Promise<CapacityResult> {
      const config = stricter(deps.guards(), input.policyGuards);
      let lease = await takeCapacityLease(db, input, config);
      // Full because of a lease whose run is gone? Ask Temporal about the holders now, not at the reaper's next pass.
      if (!lease.acquired && deps.leaseReaper && lease.blockers.some((b) => LEASE_COUNTING.has(b.guard))) {
        if ((await deps.leaseReaper.reapIfDue()).length > 0) lease = await takeCapacityLease(db, input, config);
      }
      if (lease.acquired) return lease;
      return {
        acquired: false,
        blockers: lease.blockers,
        pollSeconds: config.pollSeconds,
        waitTimeoutMinutes: config.waitTimeoutMinutes,
      };
    },

    async releaseCapacity(remediationId: string): Promise<void> {
      await releaseCapacityLease(db, remediationId);
    },
  };
}
