/**
 * Fleet-wide guards: may this remediation take its host out of the pool now?
 * Pure: the caller (an activity, inside one locked transaction) gathers the
 * snapshot; this decides. Every guard that blocks says why.
 *
 * Triggers, and what each does:
 * - paused (global switch)                         → wait
 * - circuit breaker tripped in the zone            → wait (until a person resets it)
 * - maintenance window closed                      → wait
 * - max concurrent in the zone / in the fleet      → wait
 * - minimum in-service capacity of the zone        → wait
 * - vCPU headroom: the zone's other in-service hosts could not take this
 *   host's servers and keep the free share the config asks for → wait
 * - rate limit (starts per window, fleet-wide)     → wait
 * - per-host cooldown / max attempts per window    → hand off (checked at start: a fix that does not stick needs a person)
 * Taking the host out may itself trip the breaker: `tripsBreaker` says so.
 */
import { windowVerdict, type MaintenanceWindow } from './windows';

export interface Limit {
  count?: number;
  percent?: number;
}

export interface GuardConfig {
  maxConcurrentPerZone: Limit;
  maxConcurrentFleet: Limit;
  /** Percentage of a zone's hosts that must stay in service. */
  minInServicePercentPerZone: number;
  /**
   * Share of the vCPU capacity of the zone's other in-service hosts that must
   * still be free once this host's allocated vCPUs have moved onto them.
   * Applied when the telemetry sweep has read the zone's utilisation.
   */
  minFreeVcpuPercentPerZone?: number;
  rateLimit: { starts: number; windowMinutes: number };
  cooldownMinutes: number;
  maxAttempts: { count: number; windowMinutes: number };
  breaker: { percent: number; windowMinutes: number };
  windows: MaintenanceWindow[];
  /** How long a remediation may wait for capacity before it escalates to an operator. */
  waitTimeoutMinutes: number;
  /** How often a waiting remediation asks again. */
  pollSeconds: number;
}

export interface FleetSnapshot {
  now: Date;
  zone: string;
  zoneHosts: number;
  fleetHosts: number;
  /** Hosts of the zone not in service, not counting the candidate. */
  zoneOutOfService: number;
  activeLeasesZone: number;
  activeLeasesFleet: number;
  /** Leases taken fleet-wide within the rate-limit window. */
  startsInRateWindow: number;
  /** Leases taken in the zone within the breaker window, counted from the zone's last reset if that is later. */
  takenInBreakerWindow: number;
  breakerTripped: { at: string; reason: string } | null;
  paused: { by: string; reason: string } | null;
  /** vCPUs from the last sweep: the candidate's allocated, and the zone's other in-service hosts'. Absent: not known. */
  zoneVcpus?: { candidateUsed: number; othersTotal: number; othersUsed: number };
}

export type GuardName =
  | 'pause'
  | 'breaker'
  | 'maintenance-window'
  | 'zone-concurrency'
  | 'fleet-concurrency'
  | 'capacity-floor'
  | 'vcpu-headroom'
  | 'rate-limit';

export interface Blocker {
  guard: GuardName;
  reason: string;
}

export type GuardVerdict = { allowed: true; tripsBreaker: string | null } | { allowed: false; blockers: Blocker[] };

/** A limit as a host count for a set of `total` hosts; a percentage never rounds below one host. */
export function limitFor(limit: Limit, total: number): number {
  const byPercent = limit.percent === undefined ? Infinity : Math.max(1, Math.floor((limit.percent / 100) * total));
  return Math.min(limit.count ?? Infinity, byPercent);
}

export function evaluateGuards(config: GuardConfig, s: FleetSnapshot): GuardVerdict {
  const blockers: Blocker[] = [];
  if (s.paused) blockers.push({ guard: 'pause', reason: `automation paused by ${s.paused.by}: ${s.paused.reason}` });
  if (s.breakerTripped) {
    blockers.push({ guard: 'breaker', reason: `circuit breaker of ${s.zone} tripped at ${s.breakerTripped.at} (${s.breakerTripped.reason}); a person must reset it` });
  }
  const window = windowVerdict(config.windows, s.now);
  if (!window.open) blockers.push({ guard: 'maintenance-window', reason: window.reason });

  const zoneCap = limitFor(config.maxConcurrentPerZone, s.zoneHosts);
  if (s.activeLeasesZone >= zoneCap) {
    blockers.push({ guard: 'zone-concurrency', reason: `${s.activeLeasesZone} of at most ${zoneCap} hosts of ${s.zone} already out for remediation` });
  }
  const fleetCap = limitFor(config.maxConcurrentFleet, s.fleetHosts);
  if (s.activeLeasesFleet >= fleetCap) {
    blockers.push({ guard: 'fleet-concurrency', reason: `${s.activeLeasesFleet} of at most ${fleetCap} hosts of the fleet already out for remediation` });
  }
  const inServiceAfter = s.zoneHosts - s.zoneOutOfService - 1;
  const floor = Math.ceil((config.minInServicePercentPerZone / 100) * s.zoneHosts);
  if (inServiceAfter < floor) {
    blockers.push({ guard: 'capacity-floor', reason: `${s.zone} would keep ${inServiceAfter} of ${s.zoneHosts} hosts in service; the floor is ${floor} (${config.minInServicePercentPerZone} %)` });
  }
  const headroom = vcpuHeadroom(config.minFreeVcpuPercentPerZone ?? 0, s);
  if (headroom) blockers.push({ guard: 'vcpu-headroom', reason: headroom });
  if (s.startsInRateWindow >= config.rateLimit.starts) {
    blockers.push({ guard: 'rate-limit', reason: `${s.startsInRateWindow} hosts taken out in the last ${config.rateLimit.windowMinutes} min; the limit is ${config.rateLimit.starts}` });
  }
  if (blockers.length > 0) return { allowed: false, blockers };

  const breakerAt = Math.max(1, Math.ceil((config.breaker.percent / 100) * s.zoneHosts));
  const takenAfter = s.takenInBreakerWindow + 1;
  const tripsBreaker =
    takenAfter >= breakerAt
      ? `${takenAfter} of ${s.zoneHosts} hosts of ${s.zone} taken out within ${config.breaker.windowMinutes} min (breaker at ${config.breaker.percent} %)`
      : null;
  return { allowed: true, tripsBreaker };
}

/** Why the zone's other hosts could not take this host's vCPUs with the free share asked for; null when they can, or when it is not known. */
export function vcpuHeadroom(minFreePercent: number, s: Pick<FleetSnapshot, 'zone' | 'zoneVcpus'>): string | null {
  const v = s.zoneVcpus;
  if (!v || v.othersTotal <= 0) return null;
  const usedAfter = v.othersUsed + v.candidateUsed;
  const freePercent = ((v.othersTotal - usedAfter) / v.othersTotal) * 100;
  if (usedAfter > v.othersTotal) {
    return `the other in-service hosts of ${s.zone} have ${v.othersTotal - v.othersUsed} vCPUs free; this host's servers need ${v.candidateUsed}`;
  }
  if (freePercent < minFreePercent) {
    return `${s.zone} would have ${freePercent.toFixed(1)} % of its vCPUs free after taking this host's ${v.candidateUsed}; the floor is ${minFreePercent} %`;
  }
  return null;
}

export interface HostHistory {
  /** When the host's last remediation that acted on it ended, if any. */
  lastActedEndedAt: string | null;
  /** Remediations of the host that started within the max-attempts window, this one included. */
  attemptsInWindow: number;
}

/** Should this remediation go straight to an operator because the host keeps coming back? */
export function repeatOffence(config: Pick<GuardConfig, 'cooldownMinutes' | 'maxAttempts'>, h: HostHistory, now: Date): string | null {
  if (h.lastActedEndedAt && config.cooldownMinutes > 0) {
    const since = (now.getTime() - Date.parse(h.lastActedEndedAt)) / 60_000;
    if (since < config.cooldownMinutes) {
      return `host was remediated ${since.toFixed(1)} min ago (cooldown ${config.cooldownMinutes} min): the last fix did not stick`;
    }
  }
  if (h.attemptsInWindow > config.maxAttempts.count) {
    return `${h.attemptsInWindow} remediations of this host within ${config.maxAttempts.windowMinutes} min (at most ${config.maxAttempts.count})`;
  }
  return null;
}

/** The guards a single policy may tighten; the fleet-wide file still applies. */
export type PolicyGuards = Partial<Pick<GuardConfig, 'maxConcurrentPerZone' | 'cooldownMinutes' | 'maxAttempts'>>;

const minDefined = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

/** Fleet guards tightened by a policy's own: the stricter value always wins. */
export function stricter(fleet: GuardConfig, policy: PolicyGuards | undefined): GuardConfig {
  if (!policy) return fleet;
  return {
    ...fleet,
    maxConcurrentPerZone: {
      count: minDefined(fleet.maxConcurrentPerZone.count, policy.maxConcurrentPerZone?.count),
      percent: minDefined(fleet.maxConcurrentPerZone.percent, policy.maxConcurrentPerZone?.percent),
    },
    cooldownMinutes: Math.max(fleet.cooldownMinutes, policy.cooldownMinutes ?? 0),
    maxAttempts: policy.maxAttempts
      ? { count: Math.min(fleet.maxAttempts.count, policy.maxAttempts.count), windowMinutes: Math.max(fleet.maxAttempts.windowMinutes, policy.maxAttempts.windowMinutes) }
      : fleet.maxAttempts,
  };
}
