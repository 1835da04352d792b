/**
 * The guards' state in PostgreSQL: leases, recent take-outs, tripped breakers,
 * the pause, and each zone's hosts in and out of service. Read only here; a
 * lease is taken in activities/guards.ts under the guards' advisory lock.
 */
import type { Pool } from 'pg';
import { zoneBudget, type GuardConfig, type ZoneBudget } from '../domain/guards';

/** Leases, recent take-outs, tripped breakers and the pause: the guard state every zone shares. */
export interface GuardState {
  activeLeasesByZone: Record<string, number>;
  /** Counted from the zone's last breaker reset when that is later than the window's start. */
  takenInBreakerWindowByZone: Record<string, number>;
  startsInRateWindow: number;
  trippedZones: Record<string, { at: string; reason: string }>;
  paused: { by: string; reason: string } | null;
}

/** Read the guard state in one statement; the lease activity, simulate and the zone budgets all decide on it. */
export async function readGuardState(db: Pick<Pool, 'query'>, config: GuardConfig): Promise<GuardState> {
  const { rows } = await db.query(
    `SELECT
       (SELECT coalesce(json_object_agg(zone, n), '{}') FROM
          (SELECT zone, count(*)::int AS n FROM guard_leases WHERE released_at IS NULL GROUP BY zone) a) AS leases,
       (SELECT coalesce(json_object_agg(zone, n), '{}') FROM
          (SELECT l.zone, count(*)::int AS n FROM guard_leases l
            WHERE l.acquired_at > greatest(now() - make_interval(secs => $2::float8 * 60),
                                           (SELECT max(reset_at) FROM guard_breakers b WHERE b.zone = l.zone))
            GROUP BY l.zone) t) AS taken,
       (SELECT count(*)::int FROM guard_leases WHERE acquired_at > now() - make_interval(secs => $1::float8 * 60)) AS starts,
       (SELECT coalesce(json_object_agg(zone, json_build_object('at', tripped_at, 'reason', reason)), '{}')
          FROM guard_breakers WHERE reset_at IS NULL) AS tripped,
       (SELECT json_build_object('by', paused_by, 'reason', reason) FROM guard_pause) AS paused`,
    [config.rateLimit.windowMinutes, config.breaker.windowMinutes],
  );
  const r = rows[0];
  return { activeLeasesByZone: r.leases, takenInBreakerWindowByZone: r.taken, startsInRateWindow: r.starts, trippedZones: r.tripped, paused: r.paused };
}

/**
 * A host is out when its pool state says so or when it holds a lease: a lease
 * is taken a moment before the host's pool state follows, and in that moment
 * it must already count.
 */
export const HOST_IS_OUT = `(h.pool_state <> 'in-service' OR EXISTS (SELECT 1 FROM guard_leases l WHERE l.host = h.id AND l.released_at IS NULL))`;

/** Each zone's host count and how many of them are out. */
export async function readZoneHosts(db: Pick<Pool, 'query'>): Promise<{ zone: string; hosts: number; out: number }[]> {
  const { rows } = await db.query(
    `SELECT h.zone, count(*)::int AS hosts, (count(*) FILTER (WHERE ${HOST_IS_OUT}))::int AS out FROM hosts h GROUP BY h.zone ORDER BY h.zone`,
  );
  return rows;
}

/** Every zone's budget now: how many more of its hosts the guards let go out, and why. */
export async function readZoneBudgets(db: Pick<Pool, 'query'>, config: GuardConfig): Promise<ZoneBudget[]> {
  const [zones, state] = await Promise.all([readZoneHosts(db), readGuardState(db, config)]);
  const fleetHosts = zones.reduce((sum, z) => sum + z.hosts, 0);
  const activeLeasesFleet = Object.values(state.activeLeasesByZone).reduce((a, b) => a + b, 0);
  const now = new Date();
  return zones.map((z) =>
    zoneBudget(config, {
      now, zone: z.zone, zoneHosts: z.hosts, fleetHosts, zoneOutOfService: z.out,
      activeLeasesZone: state.activeLeasesByZone[z.zone] ?? 0, activeLeasesFleet,
      startsInRateWindow: state.startsInRateWindow,
      takenInBreakerWindow: state.takenInBreakerWindowByZone[z.zone] ?? 0,
      breakerTripped: state.trippedZones[z.zone] ?? null,
      paused: state.paused,
    }),
  );
}
