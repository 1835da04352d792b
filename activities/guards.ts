/**
 * Guard activities: take and give back a lease on the fleet's capacity. The
 * check and the take happen in one transaction under an advisory lock, so two
 * workers can never both take the last slot of a zone.
 */
import type { Pool } from 'pg';
import { HOST_IS_OUT, readGuardState } from '../db/guards';
import { inTransaction } from '../db/pool';
import { evaluateGuards, repeatOffence, stricter, type Blocker, type GuardConfig, type PolicyGuards } from '../domain/guards';

/** One lock for every acquisition: they are rare (one per host taken out), so serialising them costs nothing. */
const GUARD_LOCK = 0x5a1e;

export type CapacityResult =
  | { acquired: true; trippedBreaker: string | null }
  | { acquired: false; blockers: Blocker[]; pollSeconds: number; waitTimeoutMinutes: number };

// Simulate reads the guard state through here; it lives with the other guard queries in db/.
export { readGuardState, type GuardState } from '../db/guards';

export function createGuardActivities(deps: { db: Pool; guards: () => GuardConfig }) {
  const { db } = deps;
  return {
    /** Would acting on this host again be a loop? (cooldown, max attempts) */
    async checkRepeatOffence(input: { remediationId: string; host: string; policyGuards?: PolicyGuards }): Promise<string | null> {
      const config = stricter(deps.guards(), input.policyGuards);
      const { rows } = await db.query<{ last_ended: Date | null; attempts: number }>(
        `SELECT (SELECT max(r.closed_at) FROM remediations r JOIN guard_leases l ON l.remediation_id = r.id
                  WHERE r.host = $1 AND r.id <> $2 AND r.closed_at IS NOT NULL) AS last_ended,
                (SELECT count(*)::int FROM guard_leases l
                  WHERE l.host = $1 AND l.remediation_id <> $2 AND l.acquired_at > now() - make_interval(secs => $3::float8 * 60)) + 1 AS attempts`,
        [input.host, input.remediationId, config.maxAttempts.windowMinutes],
      );
      const row = rows[0]!;
      return repeatOffence(config, { lastActedEndedAt: row.last_ended?.toISOString() ?? null, attemptsInWindow: row.attempts }, new Date());
    },

    async acquireCapacity(input: { remediationId: string; host: string; zone: string; policyGuards?: PolicyGuards }): Promise<CapacityResult> {
      const config = stricter(deps.guards(), input.policyGuards);
      return inTransaction(db, async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [GUARD_LOCK]);
        const held = await tx.query('SELECT 1 FROM guard_leases WHERE remediation_id = $1 AND released_at IS NULL', [input.remediationId]);
        if (held.rowCount) return { acquired: true, trippedBreaker: null };
        const { rows } = await tx.query(
          `SELECT
             (SELECT count(*)::int FROM hosts WHERE zone = $1) AS zone_hosts,
             (SELECT count(*)::int FROM hosts) AS fleet_hosts,
             (SELECT count(*)::int FROM hosts h WHERE h.zone = $1 AND h.id <> $2 AND ${HOST_IS_OUT}) AS zone_out,
             (SELECT (s.utilisation->'vcpus'->>'used')::float8 FROM host_snapshots s WHERE s.host = $2) AS candidate_vcpus,
             (SELECT sum((s.utilisation->'vcpus'->>'total')::float8) FROM hosts h JOIN host_snapshots s ON s.host = h.id
               WHERE h.zone = $1 AND h.id <> $2 AND h.pool_state = 'in-service' AND s.utilisation IS NOT NULL) AS others_total,
             (SELECT sum((s.utilisation->'vcpus'->>'used')::float8) FROM hosts h JOIN host_snapshots s ON s.host = h.id
               WHERE h.zone = $1 AND h.id <> $2 AND h.pool_state = 'in-service' AND s.utilisation IS NOT NULL) AS others_used`,
          [input.zone, input.host],
        );
        const hosts = rows[0];
        // vCPU headroom needs the sweep's utilisation of the candidate and of the zone's other hosts.
        const zoneVcpus =
          hosts.candidate_vcpus !== null && hosts.others_total !== null
            ? { candidateUsed: Number(hosts.candidate_vcpus), othersTotal: Number(hosts.others_total), othersUsed: Number(hosts.others_used ?? 0) }
            : undefined;
        const state = await readGuardState(tx, config);
        const verdict = evaluateGuards(config, {
          now: new Date(), zone: input.zone, zoneHosts: hosts.zone_hosts, fleetHosts: hosts.fleet_hosts, zoneOutOfService: hosts.zone_out,
          activeLeasesZone: state.activeLeasesByZone[input.zone] ?? 0,
          activeLeasesFleet: Object.values(state.activeLeasesByZone).reduce((a, b) => a + b, 0),
          startsInRateWindow: state.startsInRateWindow,
          takenInBreakerWindow: state.takenInBreakerWindowByZone[input.zone] ?? 0,
          breakerTripped: state.trippedZones[input.zone] ?? null,
          paused: state.paused,
          zoneVcpus,
        });
        if (!verdict.allowed) return { acquired: false, blockers: verdict.blockers, pollSeconds: config.pollSeconds, waitTimeoutMinutes: config.waitTimeoutMinutes };
        await tx.query('INSERT INTO guard_leases (remediation_id, host, zone) VALUES ($1, $2, $3)', [input.remediationId, input.host, input.zone]);
        if (verdict.tripsBreaker) {
          await tx.query('INSERT INTO guard_breakers (zone, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING', [input.zone, verdict.tripsBreaker]);
          await tx.query(
            `INSERT INTO audit_log (actor_kind, actor, host, remediation_id, action, reason) VALUES ('system', 'guards', $1, $2, 'circuit breaker tripped', $3)`,
            [input.host, input.remediationId, verdict.tripsBreaker],
          );
        }
        return { acquired: true, trippedBreaker: verdict.tripsBreaker };
      });
    },

    async releaseCapacity(remediationId: string): Promise<void> {
      await db.query('UPDATE guard_leases SET released_at = now() WHERE remediation_id = $1 AND released_at IS NULL', [remediationId]);
    },
  };
}
