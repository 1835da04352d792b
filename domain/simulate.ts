/**
 * Dry-run a policy set against signals: which remediations would start, which
 * guards would hold them, which approvals would be asked. Pure: the caller
 * gathers signals and fleet state; nothing is changed anywhere.
 *
 * Conservative by design: every simulated start counts as still out of the
 * pool for the rest of the replay, so guards are tested at their tightest.
 */
import { evaluateGuards, type Blocker, type GuardConfig } from './guards';
import { approvalReason, type PolicyMatch } from './policy';
import { matchPolicy } from './policy-match';
import type { RemediationPolicy } from './remediation';
import type { Severity } from './types';

export interface SimulatedSignal {
  signalId: string | null;
  name: string;
  host: string;
  labels: Record<string, string>;
  severity: Severity;
  status: 'firing' | 'resolved';
}

/** A host of the inventory as it is now, as the dry run sees it. */
export interface HostSnapshot {
  zone: string;
  roles: string[];
  outOfService: boolean;
  hasOpenRemediation: boolean;
}

/**
 * The real fleet as it is now (hosts, leases, recent take-outs, breakers,
 * pause): what a dry run starts from. Not the simulated fleet, which is a
 * provider (providers/simulated/) like OpenStack.
 */
export interface FleetSnapshot {
  hosts: Record<string, HostSnapshot>;
  activeLeasesByZone: Record<string, number>;
  takenInBreakerWindowByZone: Record<string, number>;
  startsInRateWindow: number;
  trippedZones: Record<string, { at: string; reason: string }>;
  paused: { by: string; reason: string } | null;
  now: Date;
}

export type SimulatedOutcome = 'would-start' | 'would-wait' | 'would-join' | 'no-policy' | 'ignored';

export interface SimulatedResult {
  signalId: string | null;
  name: string;
  host: string;
  outcome: SimulatedOutcome;
  policy: { name: string; version: string } | null;
  blockedBy: Blocker[];
  approval: string | null;
}

export function simulatePolicies(
  policies: readonly { name: string; match: PolicyMatch; policy: RemediationPolicy }[],
  signals: readonly SimulatedSignal[],
  fleet: FleetSnapshot,
  guards: GuardConfig,
): SimulatedResult[] {
  const leases = { ...fleet.activeLeasesByZone };
  const taken = { ...fleet.takenInBreakerWindowByZone };
  let starts = fleet.startsInRateWindow;
  const started = new Set<string>();
  const takenOut = new Set<string>();
  const zoneHosts = (zone: string) => Object.entries(fleet.hosts).filter(([, h]) => h.zone === zone);
  // A host out of service already holds its lease: only this replay's take-outs are out on top of the pool states.
  const isOut = (id: string, h: HostSnapshot) => h.outOfService || takenOut.has(id);

  return signals.map((s): SimulatedResult => {
    const base = { signalId: s.signalId, name: s.name, host: s.host, blockedBy: [], approval: null, policy: null };
    const host = fleet.hosts[s.host];
    if (!host) return { ...base, outcome: 'ignored' };
    const match = matchPolicy(policies, { name: s.name, labels: s.labels, severity: s.severity, host });
    if (!match) return { ...base, outcome: 'no-policy' };
    const policy = { name: match.policy.name, version: match.policy.version };
    if (s.status === 'resolved') return { ...base, policy, outcome: 'ignored' };
    if (host.hasOpenRemediation || started.has(s.host)) return { ...base, policy, outcome: 'would-join' };
    started.add(s.host);

    const approval = simulatedApproval(match.policy, host.zone, s.severity);

    const inZone = zoneHosts(host.zone);
    const verdict = evaluateGuards(guards, {
      now: fleet.now,
      zone: host.zone,
      zoneHosts: inZone.length,
      fleetHosts: Object.keys(fleet.hosts).length,
      zoneOutOfService: inZone.filter(([id, h]) => id !== s.host && isOut(id, h)).length,
      activeLeasesZone: leases[host.zone] ?? 0,
      activeLeasesFleet: Object.values(leases).reduce((a, b) => a + b, 0),
      startsInRateWindow: starts,
      takenInBreakerWindow: taken[host.zone] ?? 0,
      breakerTripped: fleet.trippedZones[host.zone] ?? null,
      paused: fleet.paused,
    });
    if (!verdict.allowed) return { ...base, policy, approval, outcome: 'would-wait', blockedBy: verdict.blockers };
    takenOut.add(s.host);
    leases[host.zone] = (leases[host.zone] ?? 0) + 1;
    taken[host.zone] = (taken[host.zone] ?? 0) + 1;
    starts++;
    return { ...base, policy, approval, outcome: 'would-start' };
  });
}

/** The approval a remediation would ask for; the server count is only known at audit, so that condition is stated, not decided. */
function simulatedApproval(p: RemediationPolicy, zone: string, severity: Severity): string | null {
  const rule = p.approval.rule;
  if (!rule) return p.approval.required ? `policy ${p.name} requires approval` : null;
  const known = approvalReason(rule, { zone, serverCount: 0, severity });
  if (known || rule.mode !== 'when' || rule.when?.serversMoreThan === undefined) return known;
  return `only if more than ${rule.when.serversMoreThan} servers are on the host at audit`;
}
