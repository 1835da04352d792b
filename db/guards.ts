/**
 * The guards' state in PostgreSQL: leases, recent take-outs, tripped breakers,
 * the pause, and each zone's hosts in and out of service.
 *
 * Leases and a breaker tripped by a take-out are written by the worker (the
 * guard activities), under one advisory lock. The pause and a breaker's reset
 * are written by the API: they are a person's switches, thrown from the API.
 */
import type { Pool } from 'pg';
import { evaluateGuards, zoneBudget, type Blocker, type GuardConfig, type ZoneBudget } from '../domain/guards';
import { appendAudit, appendPersonAudit } from './audit-log';
import { inTransaction, type Queryable } from './pool';

/** Leases, recent take-outs, tripped breakers and the pause: the guard state every zone shares. */
export interface GuardState {
  /** Leases of hosts taken out (drained); in-place leases are counted apart. */
  activeLeasesByZone: Record<string, number>;
  /** Leases of changes made in place (a compliance fix without a drain): the host stays in service. */
  inPlaceLeasesByZone: Record<string, number>;
  /** Counted from the zone's last breaker reset when that is later than the window's start. */
  takenInBreakerWindowByZone: Record<string, number>;
  startsInRateWindow: number;
  trippedZones: Record<string, { at: string; reason: string }>;
  paused: { by: string; reason: string } | null;
}

/** Read the guard state in one statement; the lease activity, simulate and the zone budgets all decide on it. */
export async function readGuardState(db: Queryable, config: GuardConfig): Promise<GuardState> {
  const { rows } = await db.query(
    `SELECT
       (SELECT coalesce(json_object_agg(zone, n), '{}') FROM
          (SELECT zone, count(*)::int AS n FROM guard_leases WHERE released_at IS NULL AND NOT in_place GROUP BY zone) a) AS leases,
       (SELECT coalesce(json_object_agg(zone, n), '{}') FROM
          (SELECT zone, count(*)::int AS n FROM guard_leases WHERE released_at IS NULL AND in_place GROUP BY zone) p) AS in_place,
       (SELECT coalesce(json_object_agg(zone, n), '{}') FROM
          (SELECT l.zone, count(*)::int AS n FROM guard_leases l
            WHERE NOT l.in_place AND l.acquired_at > greatest(now() - make_interval(secs => $2::float8 * 60),
                                           (SELECT max(reset_at) FROM guard_breakers b WHERE b.zone = l.zone))
            GROUP BY l.zone) t) AS taken,
       (SELECT count(*)::int FROM guard_leases WHERE NOT in_place AND acquired_at > now() - make_interval(secs => $1::float8 * 60)) AS starts,
       (SELECT coalesce(json_object_agg(zone, json_build_object('at', tripped_at, 'reason', reason)), '{}')
          FROM guard_breakers WHERE reset_at IS NULL) AS tripped,
       (SELECT json_build_object('by', paused_by, 'reason', reason) FROM guard_pause) AS paused`,
    [config.rateLimit.windowMinutes, config.breaker.windowMinutes],
  );
  const r = rows[0];
  return {
    activeLeasesByZone: r.leases,
    inPlaceLeasesByZone: r.in_place,
    takenInBreakerWindowByZone: r.taken,
    startsInRateWindow: r.starts,
    trippedZones: r.tripped,
    paused: r.paused,
  };
}

/**
 * A host is out when its pool state says so or when it holds a lease: a lease
 * is taken a moment before the host's pool state follows, and in that moment
 * it must already count.
 */
export const HOST_IS_OUT = `(h.pool_state <> 'in-service' OR EXISTS (SELECT 1 FROM guard_leases l WHERE l.host = h.id AND l.released_at IS NULL AND NOT l.in_place))`;

/** Each zone's host count and how many of them are out. */
export async function readZoneHosts(db: Queryable): Promise<{ zone: string; hosts: number; out: number }[]> {
  const { rows } = await db.query(
    `SELECT h.zone, count(*)::int AS hosts, (count(*) FILTER (WHERE ${HOST_IS_OUT}))::int AS out FROM hosts h GROUP BY h.zone ORDER BY h.zone`,
  );
  return rows;
}

/** Every zone's budget now: how many more of its hosts the guards let go out, and why. */
export async function readZoneBudgets(db: Queryable, config: GuardConfig): Promise<ZoneBudget[]> {
  const [zones, state] = await Promise.all([readZoneHosts(db), readGuardState(db, config)]);
  const fleetHosts = zones.reduce((sum, z) => sum + z.hosts, 0);
  const activeLeasesFleet = Object.values(state.activeLeasesByZone).reduce((a, b) => a + b, 0);
  const now = new Date();
  return zones.map((z) =>
    zoneBudget(config, {
      now,
      zone: z.zone,
      zoneHosts: z.hosts,
      fleetHosts,
      zoneOutOfService: z.out,
      activeLeasesZone: state.activeLeasesByZone[z.zone] ?? 0,
      activeLeasesFleet,
      startsInRateWindow: state.startsInRateWindow,
      takenInBreakerWindow: state.takenInBreakerWindowByZone[z.zone] ?? 0,
      breakerTripped: state.trippedZones[z.zone] ?? null,
      paused: state.paused,
    }),
  );
}

/** One lock for every acquisition: they are rare (one per host taken out), so serialising them costs nothing. */
const GUARD_LOCK = 0x5a1e;

export type LeaseResult = { acquired: true; trippedBreaker: string | null } | { acquired: false; blockers: Blocker[] };

/**
 * Take a lease on the zone's capacity for this remediation if the guards allow
 * it now. The check and the take happen in one transaction under an advisory
 * lock, so two workers can never both take the last slot of a zone. A lease
 * the remediation holds already is kept. When this take-out trips the zone's
 * breaker, the breaker and its audit record are written with the lease.
 */
export async function takeCapacityLease(
  db: Pool,
  lease: { remediationId: string; host: string; zone: string; inPlace?: boolean },
  config: GuardConfig,
): Promise<LeaseResult> {
  return inTransaction(db, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [GUARD_LOCK]);
    const held = await tx.query('SELECT 1 FROM guard_leases WHERE remediation_id = $1 AND released_at IS NULL', [
      lease.remediationId,
    ]);
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
      [lease.zone, lease.host],
    );
    const hosts = rows[0];
    // vCPU headroom needs the sweep's utilisation of the candidate and of the zone's other hosts.
    const zoneVcpus =
      hosts.candidate_vcpus !== null && hosts.others_total !== null
        ? {
            candidateUsed: Number(hosts.candidate_vcpus),
            othersTotal: Number(hosts.others_total),
            othersUsed: Number(hosts.others_used ?? 0),
          }
        : undefined;
    const state = await readGuardState(tx, config);
    const inPlace = lease.inPlace === true;
    const sum = (byZone: Record<string, number>) => Object.values(byZone).reduce((a, b) => a + b, 0);
    // In place, the host stays in service and its servers where they are: the same windows, pause, tripped breaker
    // and per-zone concurrency (counted among in-place changes) hold, but no capacity leaves the zone.
    const verdict = evaluateGuards(config, {
      now: new Date(),
      zone: lease.zone,
      zoneHosts: hosts.zone_hosts,
      fleetHosts: hosts.fleet_hosts,
      zoneOutOfService: inPlace ? 0 : hosts.zone_out,
      activeLeasesZone: (inPlace ? state.inPlaceLeasesByZone : state.activeLeasesByZone)[lease.zone] ?? 0,
      activeLeasesFleet: sum(inPlace ? state.inPlaceLeasesByZone : state.activeLeasesByZone),
      startsInRateWindow: inPlace ? 0 : state.startsInRateWindow,
      takenInBreakerWindow: inPlace ? 0 : (state.takenInBreakerWindowByZone[lease.zone] ?? 0),
      breakerTripped: state.trippedZones[lease.zone] ?? null,
      paused: state.paused,
      zoneVcpus: inPlace ? undefined : zoneVcpus,
    });
    if (!verdict.allowed) return { acquired: false, blockers: verdict.blockers };
    await tx.query('INSERT INTO guard_leases (remediation_id, host, zone, in_place) VALUES ($1, $2, $3, $4)', [
      lease.remediationId,
      lease.host,
      lease.zone,
      inPlace,
    ]);
    if (verdict.tripsBreaker) {
      await tx.query('INSERT INTO guard_breakers (zone, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        lease.zone,
        verdict.tripsBreaker,
      ]);
      await appendAudit(tx, {
        actorKind: 'system',
        actor: 'guards',
        policyVersion: null,
        host: lease.host,
        remediationId: lease.remediationId,
        action: 'circuit breaker tripped',
        reason: verdict.tripsBreaker,
      });
    }
    return { acquired: true, trippedBreaker: verdict.tripsBreaker };
  });
}

/** Give the remediation's lease back (nothing when it holds none). */
export async function releaseCapacityLease(db: Queryable, remediationId: string): Promise<void> {
  await db.query('UPDATE guard_leases SET released_at = now() WHERE remediation_id = $1 AND released_at IS NULL', [
    remediationId,
  ]);
}

/**
 * What the cooldown and max-attempts guards look at: when the host's last
 * remediation that took it out ended, and how many took it out within the
 * window (this one counted). A change made in place (an in-place lease, a
 * compliance fix without a drain) is no take-out: it counts for neither.
 */
export async function previousTakeOutsOfHost(
  db: Queryable,
  host: string,
  remediationId: string,
  windowMinutes: number,
): Promise<{ lastEndedAt: Date | null; attempts: number }> {
  const { rows } = await db.query<{ last_ended: Date | null; attempts: number }>(
    `SELECT (SELECT max(r.closed_at) FROM remediations r JOIN guard_leases l ON l.remediation_id = r.id
              WHERE r.host = $1 AND r.id <> $2 AND r.closed_at IS NOT NULL AND NOT l.in_place) AS last_ended,
            (SELECT count(*)::int FROM guard_leases l
              WHERE l.host = $1 AND l.remediation_id <> $2 AND NOT l.in_place
                AND l.acquired_at > now() - make_interval(secs => $3::float8 * 60)) + 1 AS attempts`,
    [host, remediationId, windowMinutes],
  );
  const row = rows[0]!;
  return { lastEndedAt: row.last_ended, attempts: row.attempts };
}

/** The switches and holds as a person sees them: the pause, tripped breakers, active leases. */
export async function readGuardHolds(db: Queryable): Promise<{
  paused: { by: string; reason: string; at: Date } | null;
  breakers: { zone: string; trippedAt: Date; reason: string }[];
  leases: { zone: string; host: string; remediationId: string; acquiredAt: Date }[];
}> {
  const [pause, breakers, leases] = await Promise.all([
    db.query('SELECT paused_by AS "by", reason, paused_at AS "at" FROM guard_pause'),
    db.query('SELECT zone, tripped_at AS "trippedAt", reason FROM guard_breakers WHERE reset_at IS NULL ORDER BY zone'),
    db.query(
      'SELECT zone, host, remediation_id AS "remediationId", acquired_at AS "acquiredAt" FROM guard_leases WHERE released_at IS NULL ORDER BY zone, acquired_at',
    ),
  ]);
  return { paused: pause.rows[0] ?? null, breakers: breakers.rows, leases: leases.rows };
}

/** A person pauses all automation, with the audit record; false when it is paused already. */
export async function pauseAutomation(db: Pool, person: string, reason: string): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const { rowCount } = await tx.query(
      'INSERT INTO guard_pause (paused_by, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [person, reason],
    );
    if (rowCount === 0) return false;
    await appendPersonAudit(tx, person, 'automation paused', reason);
    return true;
  });
}

/** A person resumes automation, with the audit record; false when it is not paused. */
export async function resumeAutomation(db: Pool, person: string, reason: string): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const { rowCount } = await tx.query('DELETE FROM guard_pause');
    if (rowCount === 0) return false;
    await appendPersonAudit(tx, person, 'automation resumed', reason);
    return true;
  });
}

/** A person resets the zone's tripped breaker, with the audit record; false when it is not tripped. */
export async function resetBreaker(db: Pool, zone: string, person: string, comment: string): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const { rowCount } = await tx.query(
      'UPDATE guard_breakers SET reset_at = now(), reset_by = $2 WHERE zone = $1 AND reset_at IS NULL',
      [zone, person],
    );
    if (rowCount === 0) return false;
    await appendPersonAudit(tx, person, 'circuit breaker reset', `${zone}: ${comment}`);
    return true;
  });
}

/** A lease not yet given back, with the workflow run that holds it. */
export interface HeldLease {
  remediationId: string;
  host: string;
  zone: string;
  acquiredAt: Date;
  workflowId: string;
  /** Empty when the remediation has not recorded its run yet. */
  runId: string;
}

/** Every lease not given back, oldest first, with the run that holds it. */
export async function readHeldLeases(db: Queryable): Promise<HeldLease[]> {
  const { rows } = await db.query<HeldLease>(
    `SELECT l.remediation_id AS "remediationId", l.host, l.zone, l.acquired_at AS "acquiredAt",
            r.workflow_id AS "workflowId", r.run_id AS "runId"
       FROM guard_leases l JOIN remediations r ON r.id = l.remediation_id
      WHERE l.released_at IS NULL ORDER BY l.acquired_at`,
  );
  return rows;
}

/** Who gives a lease back in place of its workflow, and why: the audit record's actor and reason. */
export interface LeaseReleaser {
  actorKind: 'person' | 'system';
  actor: string;
  reason: string;
}

/**
 * Give a remediation's lease back for it (its workflow will not), with the
 * audit record in the same transaction. Null when it holds none (any more):
 * two reapers racing release it once and write one record.
 */
export async function releaseLeaseFor(
  db: Pool,
  remediationId: string,
  by: LeaseReleaser,
): Promise<{ host: string; zone: string } | null> {
  return inTransaction(db, async (tx) => {
    const { rows } = await tx.query<{ host: string; zone: string }>(
      `UPDATE guard_leases SET released_at = now() WHERE remediation_id = $1 AND released_at IS NULL RETURNING host, zone`,
      [remediationId],
    );
    const lease = rows[0];
    if (!lease) return null;
    await appendAudit(tx, {
      actorKind: by.actorKind,
      actor: by.actor,
      policyVersion: null,
      host: lease.host,
      remediationId,
      action: 'capacity lease released',
      reason: `${lease.zone}: ${by.reason}`,
    });
    return lease;
  });
}

/** The remediation holding a lease on the host now, if any. */
export async function findLeaseOfHost(db: Queryable, host: string): Promise<HeldLease | null> {
  const { rows } = await db.query<HeldLease>(
    `SELECT l.remediation_id AS "remediationId", l.host, l.zone, l.acquired_at AS "acquiredAt",
            r.workflow_id AS "workflowId", r.run_id AS "runId"
       FROM guard_leases l JOIN remediations r ON r.id = l.remediation_id
      WHERE l.released_at IS NULL AND l.host = $1`,
    [host],
  );
  return rows[0] ?? null;
}
