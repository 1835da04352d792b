/**
 * Unused virtual capacity, in domain words (issue 14): the tenant resources
 * a reclaim rule reads, the rules (read from YAML by the reclaim loader), and
 * the pure judgement of one resource by one rule — flagged with its
 * evidence and the capacity it holds, or why not. Nothing here reads a clock
 * or an API: `now` and the resources are passed in.
 *
 * Safety first: a resource something uses is never flagged; a resource whose
 * age the cloud does not tell is never flagged (no guess from a missing
 * timestamp); a resource marked `shipshape:keep` (tag or metadata key) is
 * exempt; a rule for idle servers judges only with a usage reading.
 */
import type { Severity } from './types';

export const RESOURCE_KINDS = ['server', 'volume', 'volume-snapshot', 'image', 'floating-ip', 'port'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** Server states a `server-stopped` rule may name (Nova's `status`). */
export const STOPPED_SERVER_STATES = ['SHUTOFF', 'SUSPENDED', 'PAUSED', 'SHELVED', 'SHELVED_OFFLOADED'] as const;
export type StoppedServerState = (typeof STOPPED_SERVER_STATES)[number];

/** The tag, or metadata key, that exempts a resource from every rule. */
export const KEEP_MARK = 'shipshape:keep';

/** What a resource holds that reclaiming it frees. */
export interface Capacity {
  vcpus: number;
  ramMb: number;
  diskGb: number;
  ips: number;
}

export const NO_CAPACITY: Capacity = { vcpus: 0, ramMb: 0, diskGb: 0, ips: 0 };

/** One tenant resource as a provider reads it. */
export interface TenantResource {
  kind: ResourceKind;
  id: string;
  name: string;
  projectId: string;
  /** The project's domain, when known. */
  domainId: string | null;
  /** The API's own status (`SHUTOFF`, `available`, `DOWN`, `active` …). */
  status: string;
  /**
   * When the resource entered its current status, from the API's own record
   * (Nova's instance actions, `updated_at`): null when the API does not say.
   */
  statusSince: string | null;
  createdAt: string;
  tags: readonly string[];
  metadata: Readonly<Record<string, string>>;
  /** What uses it: the servers a volume is attached to or booted from an image, a port's device, a floating IP's port. */
  usedBy: readonly string[];
  capacity: Capacity;
}

export type ReclaimCheck =
  | { type: 'server-stopped'; states: StoppedServerState[]; olderThanMs: number }
  | { type: 'server-idle'; query: string; below: number; windowMs: number }
  | { type: 'volume-detached'; olderThanMs: number }
  | { type: 'snapshot-old'; olderThanMs: number }
  | { type: 'image-unused'; olderThanMs: number }
  | { type: 'floating-ip-unassociated'; olderThanMs: number }
  | { type: 'port-unbound'; olderThanMs: number };

/** The kind of resource each check reads. */
export const CHECK_RESOURCE: Readonly<Record<ReclaimCheck['type'], ResourceKind>> = {
  'server-stopped': 'server',
  'server-idle': 'server',
  'volume-detached': 'volume',
  'snapshot-old': 'volume-snapshot',
  'image-unused': 'image',
  'floating-ip-unassociated': 'floating-ip',
  'port-unbound': 'port',
};

/** The reversible step each kind allows, then the final one. */
export const RECLAIM_ACTIONS = [
  'shelve',
  'stop-and-lock',
  'snapshot-and-delete',
  'release',
  'delete',
  'notify-only',
] as const;
export type ReclaimAction = (typeof RECLAIM_ACTIONS)[number];

export const ACTIONS_FOR: Readonly<Record<ResourceKind, readonly ReclaimAction[]>> = {
  server: ['shelve', 'stop-and-lock', 'notify-only'],
  volume: ['snapshot-and-delete', 'delete', 'notify-only'],
  'volume-snapshot': ['delete', 'notify-only'],
  image: ['delete', 'notify-only'],
  'floating-ip': ['release', 'notify-only'],
  port: ['delete', 'notify-only'],
};

export interface ReclaimScope {
  /** Project ids or names; every project when absent. */
  projects?: string[];
  /** Domain ids or names; every domain when absent. */
  domains?: string[];
  /** Only resources with every one of these tags. */
  tags?: string[];
  /** Never resources with any of these tags (besides shipshape:keep, always). */
  excludeTags?: string[];
}

/** What happens to a flagged resource, and when. */
export interface ReclaimLifecycle {
  action: ReclaimAction;
  /** Take a snapshot (server) before the reversible step. */
  snapshotFirst: boolean;
  /** From the first notice to the reversible step. */
  graceMs: number;
  /** Reminders, this long before the grace period ends. */
  remindBeforeMs: number[];
  /** From the reversible step to the deletion; the operator may restore meanwhile. */
  restoreWindowMs: number;
  /** How far past the original deadline an owner may extend, in all. */
  maxExtensionMs: number;
}

export interface ReclaimRule {
  name: string;
  version: string;
  description: string;
  severity: Severity;
  check: ReclaimCheck;
  scope: ReclaimScope;
  lifecycle: ReclaimLifecycle;
  /** Flag and report only: no notice, no action. */
  dryRun: boolean;
  file: string;
}

/** Names and domains of the projects, for scopes given by name. */
export interface ProjectDirectory {
  project(id: string): { name: string; domainId: string | null; domainName: string | null } | null;
}

/** A usage reading for `server-idle` rules: the query's value per server id; absent: no reading for that server. */
export type UsageReadings = ReadonlyMap<string, number>;

export type Judgement =
  | { verdict: 'flagged'; reason: string; evidence: Record<string, unknown>; capacity: Capacity }
  | { verdict: 'in-use' | 'too-young' | 'not-matching' | 'out-of-scope' | 'exempt' | 'unknown'; reason: string };

const DAY = 86_400_000;

const UNIT_MS = { d: DAY, h: 3_600_000, m: 60_000 } as const;

/** `30d`, `12h`, `10m` (whole numbers, a unit always) in milliseconds, or why not. */
export function readDuration(text: string): number | { problem: string } {
  const m = /^(\d{1,6})(d|h|m)$/.exec(text.trim());
  if (!m)
    return { problem: `"${text}" must be a whole number with a unit: d (days), h (hours) or m (minutes), e.g. 30d` };
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** `30d`, `12h`, `10m`, `45s`: a rule's durations, so tests may use minutes where operators use days. */
export function describeDuration(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

export function isKept(r: Pick<TenantResource, 'tags' | 'metadata'>): boolean {
  return r.tags.includes(KEEP_MARK) || Object.prototype.hasOwnProperty.call(r.metadata, KEEP_MARK);
}

/** Why the resource is outside the rule's scope, or null when it is inside. */
export function outOfReclaimScope(scope: ReclaimScope, r: TenantResource, projects: ProjectDirectory): string | null {
  const project = projects.project(r.projectId);
  if (scope.projects && !scope.projects.some((p) => p === r.projectId || p === project?.name))
    return `project ${project?.name ?? r.projectId} is not in the rule's projects`;
  if (scope.domains) {
    const domain = r.domainId ?? project?.domainId ?? null;
    if (!scope.domains.some((d) => d === domain || d === project?.domainName))
      return `domain ${project?.domainName ?? domain ?? 'unknown'} is not in the rule's domains`;
  }
  const missing = (scope.tags ?? []).filter((t) => !r.tags.includes(t));
  if (missing.length > 0) return `not tagged ${missing.join(', ')}`;
  const excluded = (scope.excludeTags ?? []).filter((t) => r.tags.includes(t));
  if (excluded.length > 0) return `tagged ${excluded.join(', ')}, which the rule excludes`;
  return null;
}

function age(since: string | null, now: Date): number | null {
  if (!since) return null;
  const t = Date.parse(since);
  return Number.isFinite(t) ? now.getTime() - t : null;
}

/** Flagged when the resource has been in its unused state longer than the rule says. */
function olderThan(
  r: TenantResource,
  olderThanMs: number,
  now: Date,
  what: string,
  since: string | null = r.statusSince,
): Judgement {
  const for_ = age(since, now);
  if (for_ === null) return { verdict: 'unknown', reason: `the cloud does not say since when it is ${what}` };
  if (for_ < olderThanMs)
    return {
      verdict: 'too-young',
      reason: `${what} for ${describeDuration(Math.max(0, Math.floor(for_ / 60_000) * 60_000))}, not yet ${describeDuration(olderThanMs)}`,
    };
  return {
    verdict: 'flagged',
    reason: `${what} since ${since} (over ${describeDuration(olderThanMs)})`,
    evidence: { status: r.status, since, olderThan: describeDuration(olderThanMs) },
    capacity: r.capacity,
  };
}

/**
 * One rule's judgement of one resource. In order: another kind is
 * `not-matching`; `shipshape:keep` is `exempt`; outside the scope is
 * `out-of-scope`; anything that uses it makes it `in-use`; then the check.
 */
export function judgeResource(
  rule: Pick<ReclaimRule, 'check' | 'scope'>,
  r: TenantResource,
  ctx: { now: Date; projects: ProjectDirectory; usage?: UsageReadings },
): Judgement {
  const { check } = rule;
  if (CHECK_RESOURCE[check.type] !== r.kind)
    return { verdict: 'not-matching', reason: `a ${check.type} rule reads ${CHECK_RESOURCE[check.type]}s` };
  if (isKept(r)) return { verdict: 'exempt', reason: `marked ${KEEP_MARK}` };
  const scoped = outOfReclaimScope(rule.scope, r, ctx.projects);
  if (scoped) return { verdict: 'out-of-scope', reason: scoped };
  if (r.usedBy.length > 0) return { verdict: 'in-use', reason: `used by ${r.usedBy.join(', ')}` };
  switch (check.type) {
    case 'server-stopped':
      if (!(check.states as readonly string[]).includes(r.status))
        return { verdict: 'not-matching', reason: `status ${r.status} is not ${check.states.join(' or ')}` };
      return olderThan(r, check.olderThanMs, ctx.now, r.status);
    case 'server-idle': {
      if (r.status !== 'ACTIVE') return { verdict: 'not-matching', reason: `status ${r.status}, not ACTIVE` };
      const value = ctx.usage?.get(r.id);
      if (value === undefined)
        return { verdict: 'unknown', reason: 'no usage reading for this server: idleness is never guessed' };
      if (value >= check.below)
        return { verdict: 'not-matching', reason: `usage ${value} is not below ${check.below}` };
      const created = age(r.createdAt, ctx.now);
      if (created === null || created < check.windowMs)
        return { verdict: 'too-young', reason: `younger than the usage window (${describeDuration(check.windowMs)})` };
      return {
        verdict: 'flagged',
        reason: `usage ${value} below ${check.below} over ${describeDuration(check.windowMs)}`,
        evidence: { query: check.query, value, below: check.below, window: describeDuration(check.windowMs) },
        capacity: r.capacity,
      };
    }
    case 'volume-detached':
      if (r.status !== 'available') return { verdict: 'not-matching', reason: `status ${r.status}, not available` };
      return olderThan(r, check.olderThanMs, ctx.now, 'detached');
    case 'snapshot-old':
      return olderThan(r, check.olderThanMs, ctx.now, 'a snapshot', r.createdAt);
    case 'image-unused':
      return olderThan(r, check.olderThanMs, ctx.now, 'unused', r.createdAt);
    case 'floating-ip-unassociated':
      return olderThan(r, check.olderThanMs, ctx.now, 'unassociated');
    case 'port-unbound':
      return olderThan(r, check.olderThanMs, ctx.now, 'without a device');
  }
}

/** Capacity summed (a report's totals). */
export function addCapacity(a: Capacity, b: Capacity): Capacity {
  return { vcpus: a.vcpus + b.vcpus, ramMb: a.ramMb + b.ramMb, diskGb: a.diskGb + b.diskGb, ips: a.ips + b.ips };
}

/**
 * Projects whose every resource a rule flags (the whole-project view, like
 * ospurge's), reported per resource: project id → the flagged resource ids.
 * A project with one resource in use, exempt or not yet old enough is not here.
 */
export function wholeProjectsUnused(
  judged: ReadonlyArray<{ resource: TenantResource; flagged: boolean }>,
): Map<string, string[]> {
  const byProject = new Map<string, { all: number; flagged: string[] }>();
  for (const { resource, flagged } of judged) {
    const p = byProject.get(resource.projectId) ?? { all: 0, flagged: [] };
    p.all++;
    if (flagged) p.flagged.push(resource.id);
    byProject.set(resource.projectId, p);
  }
  return new Map(
    [...byProject].filter(([, p]) => p.all > 0 && p.flagged.length === p.all).map(([id, p]) => [id, p.flagged]),
  );
}

// ---------------------------------------------------------------- the lifecycle's clock

/** When each step of a flagged resource's reclaim is due. */
export interface ReclaimTimes {
  /** Reminders still ahead, in order (a reminder whose time is before the notice is dropped). */
  reminders: Date[];
  /** The end of the grace period: the reversible step, not before. */
  graceEnds: Date;
  /** The deletion, not before (null for notify-only). */
  deleteAfter: Date | null;
}

/**
 * A reclaim's deadlines from the first notice and the extensions granted so
 * far (in all). The grace period is counted from when the owner was told,
 * never from when the resource was flagged: a notice that could not be sent
 * starts no clock (cloud-custodian #6106: actions early because a period was
 * counted from the wrong moment).
 */
export function reclaimTimes(lifecycle: ReclaimLifecycle, noticeAt: Date, extendedMs: number): ReclaimTimes {
  const graceEnds = new Date(noticeAt.getTime() + lifecycle.graceMs + extendedMs);
  const reminders = [...lifecycle.remindBeforeMs]
    .sort((a, b) => b - a)
    .map((before) => new Date(graceEnds.getTime() - before))
    .filter((at) => at.getTime() > noticeAt.getTime());
  const deleteAfter =
    lifecycle.action === 'notify-only' ? null : new Date(graceEnds.getTime() + lifecycle.restoreWindowMs);
  return { reminders, graceEnds, deleteAfter };
}

/** Why an owner's extension cannot be granted, or null: in all, extensions stay within the rule's maximum. */
export function extensionRefusal(lifecycle: ReclaimLifecycle, extendedMs: number, askedMs: number): string | null {
  if (!Number.isFinite(askedMs) || askedMs <= 0) return 'an extension must be a positive duration';
  const left = lifecycle.maxExtensionMs - extendedMs;
  if (left <= 0)
    return `the rule allows ${describeDuration(lifecycle.maxExtensionMs)} of extensions in all, all granted already`;
  if (askedMs > left)
    return `the rule allows ${describeDuration(lifecycle.maxExtensionMs)} of extensions in all; ${describeDuration(left)} are left`;
  return null;
}
