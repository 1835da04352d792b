/**
 * Fleet-wide guards: may this remediation take its host out of the pool now,
 * and how many more hosts of a zone may go out? Pure: the caller (an activity,
 * inside one locked transaction; the API; the worker at start-up) gathers the
 * snapshot; this decides. Every guard that blocks says why.
 *
 * Triggers, and what each does:
 * - paused (global switch)                         → wait
 * - circuit breaker tripped in the zone            → wait (until a person resets it)
 * - maintenance window closed                      → wait
 * - max concurrent in the zone / in the fleet      → wait
 * - max hosts of the zone out of service, for any reason (Shipshape's, a person's) → wait
 * - minimum in service in the zone (only if the guards file sets one) → wait
 * - vCPU headroom: the zone's other in-service hosts could not take this
 *   host's servers and keep the free share the config asks for → wait
 * - rate limit (starts per window, fleet-wide)     → wait
 * - per-host cooldown / max attempts per window    → hand off (checked at start: a fix that does not stick needs a person)
 * Taking the host out may itself trip the breaker: `tripsBreaker` says so.
 *
 * Every limit in hosts and percent takes the stricter of the two, like Cluster
 * API's maxUnhealthy; a percentage never allows fewer than one host out, so a
 * small zone can always remediate one host at a time.
 */
import { coversZone, windowVerdict, type MaintenanceWindow } from './windows';

export interface Limit {
  count?: number;
  percent?: number;
}

export interface GuardConfig {
  maxConcurrentPerZone: Limit;
  maxConcurrentFleet: Limit;
  /** Hosts of a zone that may be out of service at once, for any reason: Shipshape's remediations, hand-offs, hosts a person took out. */
  maxOutOfServicePerZone: Limit;
  /** Hosts of a zone that must stay in service: every part given must hold. None unless the guards file sets one. */
  minInServicePerZone?: Limit;
  /**
   * Share of the vCPU capacity of the zone's other in-service hosts that must
   * still be free once this host's allocated vCPUs have moved onto them.
   * Applied when the telemetry sweep has read the zone's utilisation.
   */
  minFreeVcpuPercentPerZone?: number;
  rateLimit: { starts: number; windowMinutes: number };
  cooldownMinutes: number;
  maxAttempts: { count: number; windowMinutes: number };
  /** Take-outs of one zone within the window that trip its breaker: the stricter of count and percent, never fewer than two. */
  breaker: Limit & { windowMinutes: number };
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
  /**
   * Hosts of the zone out of service or holding a lease. For a take-out, not
   * counting the candidate; for a zone's budget, all of them.
   */
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
  | 'zone-out-of-service'
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

/** A floor as a host count: the higher of its parts (every part must hold); a percentage rounds up. */
export function floorFor(floor: Limit, total: number): number {
  return Math.max(floor.count ?? 0, floor.percent === undefined ? 0 : Math.ceil((floor.percent / 100) * total));
}

/**
 * The take-out of a zone that trips its breaker: the stricter of count and
 * percent (trips once that share has been taken out, so it rounds up), and
 * never below two: one host going bad is what remediation is for.
 */
export function breakerAt(breaker: GuardConfig['breaker'], zoneHosts: number): number {
  const byPercent = breaker.percent === undefined ? Infinity : Math.ceil((breaker.percent / 100) * zoneHosts);
  return Math.max(2, Math.min(breaker.count ?? Infinity, byPercent));
}

const hosts = (n: number) => `${n} host${n === 1 ? '' : 's'}`;

/** How a limit became its host count, in the operator's words, in brackets; nothing for a plain count. */
function describeLimit(limit: Limit, total: number): string {
  if (limit.percent === undefined) return '';
  const byPercent = Math.floor((limit.percent / 100) * total);
  const percent =
    byPercent === 0
      ? `${limit.percent} % of ${total}, never below one host`
      : `${limit.percent} % of ${total} = ${byPercent}`;
  return limit.count === undefined ? ` (${percent})` : ` (the stricter of ${hosts(limit.count)} and ${percent})`;
}

function describeFloor(floor: Limit, total: number): string {
  const parts = [
    floor.count === undefined ? null : hosts(floor.count),
    floor.percent === undefined ? null : `${floor.percent} % of ${total}, rounded up`,
  ];
  return parts.filter((p) => p !== null).join(' and ');
}

function describeBreaker(breaker: GuardConfig['breaker'], zoneHosts: number): string {
  const parts = [
    breaker.count === undefined ? null : `${breaker.count}`,
    breaker.percent === undefined ? null : `${breaker.percent} % of ${zoneHosts}`,
  ].filter((p) => p !== null);
  return `${parts.join(' or ')}${parts.length > 1 ? ', whichever comes first' : ''}, never below 2`;
}

/** One guard's view of a zone: how many more hosts it lets go out now (0 or less: it blocks), and why. */
export interface ZoneLimit {
  guard: GuardName;
  room: number;
  reason: string;
}

/**
 * Every guard that limits a zone, as room for more take-outs. The vCPU
 * headroom is not among them: it depends on the host that would go out.
 */
export function zoneLimits(config: GuardConfig, s: FleetSnapshot): ZoneLimit[] {
  const limits: ZoneLimit[] = [];
  if (s.paused)
    limits.push({ guard: 'pause', room: 0, reason: `automation paused by ${s.paused.by}: ${s.paused.reason}` });
  const tripAt = breakerAt(config.breaker, s.zoneHosts);
  limits.push(
    s.breakerTripped
      ? {
          guard: 'breaker',
          room: 0,
          reason: `circuit breaker of ${s.zone} tripped at ${s.breakerTripped.at} (${s.breakerTripped.reason}); a person must reset it`,
        }
      : {
          guard: 'breaker',
          // The take-out that reaches the trip point is allowed; it trips the breaker for the ones after it.
          room: Math.max(1, tripAt - s.takenInBreakerWindow),
          reason: `${s.takenInBreakerWindow} hosts of ${s.zone} taken out within ${config.breaker.windowMinutes} min; the breaker trips at take-out ${tripAt} (${describeBreaker(config.breaker, s.zoneHosts)})`,
        },
  );
  const window = windowVerdict(
    config.windows.filter((w) => coversZone(w, s.zone)),
    s.now,
  );
  if (!window.open) limits.push({ guard: 'maintenance-window', room: 0, reason: window.reason });

  const zoneCap = limitFor(config.maxConcurrentPerZone, s.zoneHosts);
  limits.push({
    guard: 'zone-concurrency',
    room: zoneCap - s.activeLeasesZone,
    reason: `${s.activeLeasesZone} hosts of ${s.zone} out for remediation; at most ${zoneCap} at once${describeLimit(config.maxConcurrentPerZone, s.zoneHosts)}`,
  });
  const fleetCap = limitFor(config.maxConcurrentFleet, s.fleetHosts);
  limits.push({
    guard: 'fleet-concurrency',
    room: fleetCap - s.activeLeasesFleet,
    reason: `${s.activeLeasesFleet} hosts of the fleet out for remediation; at most ${fleetCap} at once${describeLimit(config.maxConcurrentFleet, s.fleetHosts)}`,
  });
  const maxOut = limitFor(config.maxOutOfServicePerZone, s.zoneHosts);
  limits.push({
    guard: 'zone-out-of-service',
    room: maxOut - s.zoneOutOfService,
    reason: `${s.zoneOutOfService} of ${s.zoneHosts} hosts of ${s.zone} out of service; at most ${maxOut} may be${describeLimit(config.maxOutOfServicePerZone, s.zoneHosts)}`,
  });
  if (config.minInServicePerZone) {
    const inService = s.zoneHosts - s.zoneOutOfService;
    const floor = floorFor(config.minInServicePerZone, s.zoneHosts);
    limits.push({
      guard: 'capacity-floor',
      room: inService - floor,
      reason: `${inService} of ${s.zoneHosts} hosts of ${s.zone} in service; at least ${floor} must stay (${describeFloor(config.minInServicePerZone, s.zoneHosts)})`,
    });
  }
  limits.push({
    guard: 'rate-limit',
    room: config.rateLimit.starts - s.startsInRateWindow,
    reason: `${s.startsInRateWindow} hosts taken out in the last ${config.rateLimit.windowMinutes} min; the limit is ${config.rateLimit.starts}`,
  });
  return limits;
}

export function evaluateGuards(config: GuardConfig, s: FleetSnapshot): GuardVerdict {
  const blockers: Blocker[] = zoneLimits(config, s)
    .filter((l) => l.room <= 0)
    .map(({ guard, reason }) => ({ guard, reason }));
  const headroom = vcpuHeadroom(config.minFreeVcpuPercentPerZone ?? 0, s);
  if (headroom) blockers.push({ guard: 'vcpu-headroom', reason: headroom });
  if (blockers.length > 0) return { allowed: false, blockers };

  const tripAt = breakerAt(config.breaker, s.zoneHosts);
  const takenAfter = s.takenInBreakerWindow + 1;
  const tripsBreaker =
    takenAfter >= tripAt
      ? `${takenAfter} of ${s.zoneHosts} hosts of ${s.zone} taken out within ${config.breaker.windowMinutes} min (breaker at ${tripAt}: ${describeBreaker(config.breaker, s.zoneHosts)})`
      : null;
  return { allowed: true, tripsBreaker };
}

/** A zone's budget: how many more of its hosts may be taken out now, and which guards say so. */
export interface ZoneBudget {
  zone: string;
  hosts: number;
  inService: number;
  /** Out of service or holding a lease. */
  out: number;
  leases: number;
  mayTakeOutNow: number;
  /** The guards that set mayTakeOutNow. */
  boundBy: GuardName[];
  why: string;
}

/**
 * How many more hosts of a zone the guards let go out now, and why: the
 * tightest of every zone limit, with its numbers. `s.zoneOutOfService` counts
 * every host of the zone out of service or leased. A host's own vCPU headroom
 * is checked when it goes out.
 */
export function zoneBudget(config: GuardConfig, s: FleetSnapshot): ZoneBudget {
  const limits = zoneLimits(config, s);
  const tightest = Math.min(...limits.map((l) => l.room));
  const binding = limits.filter((l) => l.room === tightest);
  return {
    zone: s.zone,
    hosts: s.zoneHosts,
    inService: s.zoneHosts - s.zoneOutOfService,
    out: s.zoneOutOfService,
    leases: s.activeLeasesZone,
    mayTakeOutNow: Math.max(0, tightest),
    boundBy: binding.map((l) => l.guard),
    why: binding.map((l) => l.reason).join('; '),
  };
}

/** A zone's budget as one log line. */
export function describeBudget(b: ZoneBudget): string {
  return `${b.zone}: ${hosts(b.hosts)}, ${b.inService} in service, ${b.out} out, ${b.leases} leases; may take out ${b.mayTakeOutNow} now: ${b.why}`;
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
export function repeatOffence(
  config: Pick<GuardConfig, 'cooldownMinutes' | 'maxAttempts'>,
  h: HostHistory,
  now: Date,
): string | null {
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

const minDefined = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

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
      ? {
          count: Math.min(fleet.maxAttempts.count, policy.maxAttempts.count),
          windowMinutes: Math.max(fleet.maxAttempts.windowMinutes, policy.maxAttempts.windowMinutes),
        }
      : fleet.maxAttempts,
  };
}
