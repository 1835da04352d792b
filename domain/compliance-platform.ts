/**
 * Rules of kind `redfish` (firmware, BIOS settings, power supplies, from a BMC
 * reading) and `openstack` (the compute service, zones and aggregates, the
 * hypervisor against the fleet's): the evidence each reads, and the pure
 * judgement. A field the evidence does not have is an `error` naming it,
 * never a pass.
 */
import { compareDebianVersions, readDebianVersion } from './debian-version';
import { cannotJudge, fails, passes, type Verdict } from './compliance-verdict';
import type { ComputeFleetFacts } from './provider';
import type { BmcReading } from './telemetry';

export type RedfishCheck =
  | {
      type: 'firmware';
      component: 'bios' | 'bmc';
      /** Allowed versions by system model (Redfish ComputerSystem.Model). */
      allowed: Record<string, string[]>;
      /** A model with no list: fail (unknown hardware is a finding) or not applicable. */
      unlistedModels: 'fail' | 'not-applicable';
    }
  | { type: 'bios-attribute'; attribute: string; expected: string | number | boolean }
  | { type: 'secure-boot'; enabled: boolean }
  | { type: 'psu-redundancy' };

/** What a BMC gave for the `redfish` rules. null: not read (the BMC or the snapshot does not carry it). */
export interface RedfishEvidence {
  /** `snapshot`: the telemetry sweep's latest reading; `live`: read for this scan. */
  source: 'snapshot' | 'live';
  /** When it was read (ISO 8601). */
  readAt: string;
  model: string | null;
  biosVersion: string | null;
  bmcFirmware: string | null;
  biosAttributes: Readonly<Record<string, string | number | boolean>> | null;
  secureBoot: boolean | null;
  psuRedundancy: 'ok' | 'lost' | 'unknown';
  /**
   * Why a field is null (or `psuRedundancy` unknown) when the BMC was read but that part was not there or
   * was malformed: the rule that needs it is an `error` with this reason (it names the resource and field).
   */
  problems?: Partial<Record<RedfishField, string>>;
}

/** What a live BMC read gives: the evidence without where and when it was read. */
export type RedfishSettings = Omit<RedfishEvidence, 'source' | 'readAt'>;

/** A BMC that could not be read, or a host with none: the rules of kind `redfish` are errors naming why. */
export type RedfishInput = RedfishEvidence | { unread: string };

export const REDFISH_FIELDS = [
  'model',
  'biosVersion',
  'bmcFirmware',
  'biosAttributes',
  'secureBoot',
  'psuRedundancy',
] as const;
export type RedfishField = (typeof REDFISH_FIELDS)[number];

/**
 * The evidence in the sweep's latest snapshot. The sweep reads no system model, BIOS attributes or secure boot
 * state today: those are null, and a rule that needs them is an `error` until a live read supplies them.
 */
export function redfishEvidenceFromReading(reading: BmcReading, readAt: string): RedfishEvidence {
  return {
    source: 'snapshot',
    readAt,
    model: null,
    biosVersion: reading.biosVersion,
    bmcFirmware: reading.bmcFirmware,
    biosAttributes: null,
    secureBoot: null,
    psuRedundancy: reading.psuRedundancy,
  };
}

/** The fields the telemetry sweep's snapshot carries; the others need a live read. */
export const SNAPSHOT_REDFISH_FIELDS: readonly RedfishField[] = ['biosVersion', 'bmcFirmware', 'psuRedundancy'];

/**
 * Whether a scan reads the BMC live rather than judging from the sweep's latest snapshot, and why; null: the
 * snapshot will do. Live when a needed field is not in snapshots at all (model, BIOS attributes, secure boot),
 * when there is no snapshot, or when it is older than `maxAgeMs` (firmware that changed since stays stale
 * otherwise). Profiles have no per-rule source option: the scan asks the BMC only when it must.
 */
export function liveRedfishReason(
  fields: readonly RedfishField[],
  snapshotReadAt: Date | null,
  now: Date,
  maxAgeMs: number,
): string | null {
  if (fields.length === 0) return null;
  const missing = fields.filter((f) => !SNAPSHOT_REDFISH_FIELDS.includes(f));
  if (missing.length > 0) return `the snapshot carries no ${missing.join(', ')}`;
  if (!snapshotReadAt) return 'no BMC snapshot yet';
  const age = now.getTime() - snapshotReadAt.getTime();
  if (age > maxAgeMs)
    return `the snapshot is ${Math.round(age / 60_000)} min old (more than ${Math.round(maxAgeMs / 60_000)} min)`;
  return null;
}

export function redfishFields(check: RedfishCheck): RedfishField[] {
  switch (check.type) {
    case 'firmware':
      return ['model', check.component === 'bios' ? 'biosVersion' : 'bmcFirmware'];
    case 'bios-attribute':
      return ['biosAttributes'];
    case 'secure-boot':
      return ['secureBoot'];
    case 'psu-redundancy':
      return ['psuRedundancy'];
  }
}

export function judgeRedfish(check: RedfishCheck, input: RedfishInput | undefined): Verdict {
  const expected = redfishExpected(check);
  if (!input) return cannotJudge(expected, 'no BMC reading in the evidence');
  if ('unread' in input) return cannotJudge(expected, `BMC not read: ${input.unread}`);
  const e = input;
  const from = `${e.source} of ${e.readAt}`;
  const missing = (field: RedfishField, otherwise: string): Verdict =>
    cannotJudge(expected, e.problems?.[field] ? `${e.problems[field]} (${from})` : otherwise);
  switch (check.type) {
    case 'firmware': {
      const name = check.component === 'bios' ? 'BIOS' : 'BMC firmware';
      const version = check.component === 'bios' ? e.biosVersion : e.bmcFirmware;
      if (e.model === null) return missing('model', `the system model is not in the BMC reading (${from})`);
      if (version === null)
        return missing(
          check.component === 'bios' ? 'biosVersion' : 'bmcFirmware',
          `the ${name} version is not in the BMC reading (${from})`,
        );
      const observed = `${e.model}: ${name} ${version}`;
      const allowed = check.allowed[e.model];
      if (!allowed)
        return check.unlistedModels === 'fail'
          ? fails(expected, observed, `no ${name} versions are allowed for model ${e.model}`)
          : { state: 'not-applicable', expected, observed, reason: `model ${e.model} has no allowed ${name} versions` };
      return allowed.includes(version)
        ? passes(expected, observed, `${name} ${version} is allowed for ${e.model}`)
        : fails(
            expected,
            observed,
            `${name} ${version} is not allowed for ${e.model} (allowed: ${allowed.join(', ')})`,
          );
    }
    case 'bios-attribute': {
      if (e.biosAttributes === null)
        return missing('biosAttributes', `BIOS attributes are not in the BMC reading (${from})`);
      if (!(check.attribute in e.biosAttributes))
        return cannotJudge(expected, `the BIOS has no attribute ${check.attribute}`);
      const value = e.biosAttributes[check.attribute];
      const observed = `${check.attribute} = ${String(value)}`;
      return value === check.expected
        ? passes(expected, observed, `${observed}`)
        : fails(expected, observed, `${check.attribute} is ${String(value)}, not ${String(check.expected)}`);
    }
    case 'secure-boot': {
      if (e.secureBoot === null)
        return missing('secureBoot', `the secure boot state is not in the BMC reading (${from})`);
      const observed = `secure boot ${e.secureBoot ? 'enabled' : 'disabled'}`;
      return e.secureBoot === check.enabled
        ? passes(expected, observed, observed)
        : fails(expected, observed, observed);
    }
    case 'psu-redundancy': {
      const observed = `power supply redundancy ${e.psuRedundancy}`;
      if (e.psuRedundancy === 'unknown')
        return cannotJudge(
          expected,
          e.problems?.psuRedundancy
            ? `${e.problems.psuRedundancy} (${from})`
            : `the BMC reports no power supply redundancy (${from})`,
          observed,
        );
      return e.psuRedundancy === 'ok' ? passes(expected, observed, observed) : fails(expected, observed, observed);
    }
  }
}

function redfishExpected(check: RedfishCheck): string {
  switch (check.type) {
    case 'firmware':
      return `${check.component === 'bios' ? 'BIOS' : 'BMC firmware'} version allowed for the model`;
    case 'bios-attribute':
      return `${check.attribute} = ${String(check.expected)}`;
    case 'secure-boot':
      return `secure boot ${check.enabled ? 'enabled' : 'disabled'}`;
    case 'psu-redundancy':
      return 'power supply redundancy ok';
  }
}

export type OpenStackCheck =
  | { type: 'compute-service'; enabled: boolean; up: boolean }
  | { type: 'aggregates'; exactly: number }
  | { type: 'zones'; exactly: number }
  | { type: 'hypervisor-version'; equal: 'fleet-most-common' };

/** What the cloud says of the host, and of the fleet for comparisons. */
export interface OpenStackEvidence {
  /** The host's nova-compute service; null when the host has none. */
  computeService: { enabled: boolean; up: boolean; disabledReason: string | null } | null;
  /** Availability zones and host aggregates the host is in. */
  zones: string[];
  aggregates: string[];
  /** The hypervisor's version as Nova reports it (an integer such as 8002000 for libvirt 8.2.0), or null. */
  hypervisorVersion: string | null;
  /** Every hypervisor's version in the fleet, by host (the scan reads it once for all hosts). */
  fleetHypervisorVersions: Readonly<Record<string, string>>;
}

export type OpenStackInput = OpenStackEvidence | { unread: string };

export const OPENSTACK_FIELDS = [
  'computeService',
  'zones',
  'aggregates',
  'hypervisorVersion',
  'fleetHypervisorVersions',
] as const;
export type OpenStackField = (typeof OPENSTACK_FIELDS)[number];

/**
 * The host's evidence from the fleet's facts (read once per scan for every host). A host the cloud does not
 * know has no nova-compute service, no zone, no aggregate and no hypervisor: its rules say so.
 */
export function openstackEvidenceFor(
  fleet: ComputeFleetFacts,
  host: string,
  fleetHypervisorVersions: Readonly<Record<string, string>> = hypervisorVersionsOf(fleet),
): OpenStackEvidence {
  const facts = fleet.hosts[host];
  return {
    computeService: facts?.computeService ?? null,
    zones: facts?.zones ?? [],
    aggregates: facts?.aggregates ?? [],
    hypervisorVersion: facts?.hypervisorVersion ?? null,
    fleetHypervisorVersions,
  };
}

/** Every hypervisor's version by host (hosts without one are left out); computed once per fleet reading. */
export function hypervisorVersionsOf(fleet: ComputeFleetFacts): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const [name, h] of Object.entries(fleet.hosts))
    if (h.hypervisorVersion !== null) versions[name] = h.hypervisorVersion;
  return versions;
}

export function openstackFields(check: OpenStackCheck): OpenStackField[] {
  switch (check.type) {
    case 'compute-service':
      return ['computeService'];
    case 'aggregates':
      return ['aggregates'];
    case 'zones':
      return ['zones'];
    case 'hypervisor-version':
      return ['hypervisorVersion', 'fleetHypervisorVersions'];
  }
}

/** Versions compare numerically when both are integers (Nova's form), else as Debian versions. */
function compareVersions(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  const va = readDebianVersion(a);
  const vb = readDebianVersion(b);
  if ('problem' in va || 'problem' in vb) return a < b ? -1 : a > b ? 1 : 0;
  return compareDebianVersions(va, vb);
}

/** The fleet's most common hypervisor version; on a tie, the newest of the most common. Null for an empty fleet. */
export function mostCommonVersion(
  versions: Readonly<Record<string, string>>,
): { version: string; hosts: number } | null {
  const counts = new Map<string, number>();
  for (const v of Object.values(versions)) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: { version: string; hosts: number } | null = null;
  for (const [version, hosts] of counts) {
    if (!best || hosts > best.hosts || (hosts === best.hosts && compareVersions(version, best.version) > 0))
      best = { version, hosts };
  }
  return best;
}

export function judgeOpenStack(check: OpenStackCheck, input: OpenStackInput | undefined): Verdict {
  const expected = openstackExpected(check);
  if (!input) return cannotJudge(expected, 'no OpenStack reading in the evidence');
  if ('unread' in input) return cannotJudge(expected, `OpenStack not read: ${input.unread}`);
  switch (check.type) {
    case 'compute-service': {
      const s = input.computeService;
      if (s === null) return fails(expected, 'no nova-compute service', 'the host has no nova-compute service');
      const observed = `nova-compute ${s.enabled ? 'enabled' : `disabled${s.disabledReason ? ` (${s.disabledReason})` : ''}`}, ${s.up ? 'up' : 'down'}`;
      const wrong = [
        s.enabled !== check.enabled
          ? s.enabled
            ? 'enabled'
            : `disabled${s.disabledReason ? `: ${s.disabledReason}` : ''}`
          : null,
        s.up !== check.up ? (s.up ? 'up' : 'down') : null,
      ].filter(Boolean);
      return wrong.length === 0
        ? passes(expected, observed, observed)
        : fails(expected, observed, `nova-compute is ${wrong.join(' and ')}`);
    }
    case 'aggregates':
    case 'zones': {
      const list = check.type === 'zones' ? input.zones : input.aggregates;
      const what = check.type === 'zones' ? 'availability zone' : 'aggregate';
      const observed = list.length === 0 ? `in no ${what}` : `in ${list.length} ${what}(s): ${list.join(', ')}`;
      return list.length === check.exactly
        ? passes(expected, observed, observed)
        : fails(expected, observed, `the host is ${observed}, not exactly ${check.exactly}`);
    }
    case 'hypervisor-version': {
      if (input.hypervisorVersion === null)
        return cannotJudge(expected, 'the host has no hypervisor version in the reading');
      const common = mostCommonVersion(input.fleetHypervisorVersions);
      if (!common) return cannotJudge(expected, "the fleet's hypervisor versions are not in the reading");
      const total = Object.keys(input.fleetHypervisorVersions).length;
      const observed = `hypervisor ${input.hypervisorVersion}; fleet's most common ${common.version} (${common.hosts} of ${total} hosts)`;
      return input.hypervisorVersion === common.version
        ? passes(expected, observed, `the hypervisor is the fleet's most common version ${common.version}`)
        : fails(
            expected,
            observed,
            `the hypervisor is ${input.hypervisorVersion}, the fleet's most common is ${common.version}`,
          );
    }
  }
}

function openstackExpected(check: OpenStackCheck): string {
  switch (check.type) {
    case 'compute-service':
      return `nova-compute ${check.enabled ? 'enabled' : 'disabled'} and ${check.up ? 'up' : 'down'}`;
    case 'aggregates':
      return `in exactly ${check.exactly} aggregate(s)`;
    case 'zones':
      return `in exactly ${check.exactly} availability zone(s)`;
    case 'hypervisor-version':
      return "hypervisor version equal to the fleet's most common";
  }
}
