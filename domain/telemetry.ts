/**
 * The physical state of a host as its BMC and its provider report it, and the
 * pure decisions made from it: the host's health with reasons, the thresholds
 * crossed (each one a signal into Shipshape's own pipeline), and the numbers
 * kept as a time series. No I/O here: the sweep activity reads, this decides.
 */
import type { Health, HostState, Severity } from './types';

export interface TemperatureReading {
  name: string;
  celsius: number | null;
  /** Redfish PhysicalContext: Intake, CPU, SystemBoard, Exhaust, ... */
  context: string | null;
  upperWarning: number | null;
  upperCritical: number | null;
  health: Health | null;
}

export interface FanReading {
  name: string;
  reading: number | null;
  units: 'RPM' | 'Percent' | null;
  health: Health | null;
}

export interface PowerSupplyReading {
  name: string;
  health: Health | null;
  /** Redfish Status.State: Enabled, Absent, UnavailableOffline, ... */
  state: string | null;
  capacityWatts: number | null;
  outputWatts: number | null;
}

export interface BmcEvent {
  id: string;
  created: string | null;
  severity: Health | null;
  message: string;
}

/** Everything read from one BMC. Vendors differ: anything a BMC does not report is null or empty. */
export interface BmcReading {
  power: 'on' | 'off' | 'unknown';
  health: Health | null;
  processors: { count: number | null; model: string | null; health: Health | null };
  memory: { totalGiB: number | null; health: Health | null; correctableErrors: number | null };
  biosVersion: string | null;
  temperatures: TemperatureReading[];
  fans: FanReading[];
  powerSupplies: PowerSupplyReading[];
  powerConsumedWatts: number | null;
  psuRedundancy: 'ok' | 'lost' | 'unknown';
  bmcFirmware: string | null;
  events: BmcEvent[];
  /** Which Redfish resources the thermal and power figures came from, and what the BMC did not have. */
  sources: {
    thermal: 'Thermal' | 'ThermalSubsystem' | 'simulated' | null;
    power: 'Power' | 'PowerSubsystem' | 'simulated' | null;
  };
  gaps: string[];
}

export interface Used {
  used: number;
  total: number;
}

export interface AgentStatus {
  /** nova-compute, neutron-openvswitch-agent, cinder-volume, ... */
  binary: string;
  role: 'compute' | 'network' | 'storage';
  up: boolean;
  enabled: boolean;
}

export interface HostUtilisation {
  vcpus: Used;
  ramMiB: Used;
  diskGiB: Used;
  agents: AgentStatus[];
}

/**
 * Why a BMC could not be read: no answer, credentials refused, an HTTP error, an answer that is not Redfish, an action
 * it lacks, or Shipshape refusing to send (a link off the BMC, credentials over plain http): permanent until the BMC
 * or the credentials file changes, so never retried.
 */
export type BmcFailure = 'unreachable' | 'auth' | 'http' | 'garbage' | 'unsupported' | 'refused';

/** A reading's outcome for the BMC: read, failed (a state of the host, not a crash), or no BMC known. */
export type BmcOutcome =
  | { status: 'read'; reading: BmcReading }
  | { status: 'failed'; kind: BmcFailure; error: string }
  | { status: 'not-configured' };

export interface Thresholds {
  /** Inlet (intake) temperature, °C. A sensor's own thresholds apply when lower. */
  inletWarningC: number;
  inletCriticalC: number;
  /** Correctable memory errors: this many more within the window is "rising". */
  correctableErrorsRise: number;
  correctableErrorsWindowMinutes: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  inletWarningC: 35,
  inletCriticalC: 40,
  correctableErrorsRise: 10,
  correctableErrorsWindowMinutes: 60,
};

/**
 * The thresholds that raise a signal when crossed, by the signal's name.
 * `source` says which reading decides it: a condition whose source could not
 * be read this time is carried over, neither raised nor resolved.
 */
export const CONDITIONS = {
  BmcUnreachable: { source: 'reachability' },
  InletTemperatureHigh: { source: 'bmc' },
  PowerSupplyRedundancyLost: { source: 'bmc' },
  CorrectableMemoryErrorsRising: { source: 'bmc' },
  HardwareHealthCritical: { source: 'bmc' },
} as const;
export type ConditionName = keyof typeof CONDITIONS;
export const CONDITION_NAMES = Object.keys(CONDITIONS) as ConditionName[];

export interface Condition {
  severity: Severity;
  reason: string;
}
export type Conditions = Partial<Record<ConditionName, Condition>>;

export interface Assessment {
  health: Health;
  reasons: string[];
  conditions: Conditions;
}

/** The correctable-error count at the start of the window, if the series has one. */
export interface History {
  correctableErrorsAtWindowStart: number | null;
}

const RANK: Record<Health, number> = { unknown: 0, ok: 1, warning: 2, critical: 3 };
function worst(a: Health, b: Health): Health {
  return RANK[b] > RANK[a] ? b : a;
}

export function isInlet(t: TemperatureReading): boolean {
  return t.context === 'Intake' || /inlet|intake|ambient/i.test(t.name);
}

/** The hottest inlet sensor, if the BMC has one. */
export function inletCelsius(r: BmcReading): number | null {
  const inlets = r.temperatures.filter((t) => isInlet(t) && t.celsius !== null).map((t) => t.celsius as number);
  return inlets.length ? Math.max(...inlets) : null;
}

function inletLevel(r: BmcReading, th: Thresholds): { level: 'warning' | 'critical'; celsius: number } | null {
  let found: { level: 'warning' | 'critical'; celsius: number } | null = null;
  for (const t of r.temperatures) {
    if (!isInlet(t) || t.celsius === null) continue;
    const critical = Math.min(th.inletCriticalC, t.upperCritical ?? Infinity);
    const warning = Math.min(th.inletWarningC, t.upperWarning ?? Infinity, critical);
    const level: 'warning' | 'critical' | null =
      t.celsius >= critical ? 'critical' : t.celsius >= warning ? 'warning' : null;
    if (level && (!found || level === 'critical')) found = { level, celsius: t.celsius };
  }
  return found;
}

/**
 * Health with reasons, and the thresholds crossed. Unknown when nothing could
 * be read; a host whose BMC cannot be reached is at least a warning.
 */
export function assess(
  bmc: BmcOutcome,
  state: HostState | null,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
  history: History = { correctableErrorsAtWindowStart: null },
): Assessment {
  let health: Health = bmc.status === 'read' || state ? 'ok' : 'unknown';
  const reasons: string[] = [];
  const conditions: Conditions = {};
  const note = (h: Health, reason: string) => {
    health = worst(health, h);
    reasons.push(reason);
  };

  if (state && state.health !== 'ok' && state.health !== 'unknown') {
    note(
      state.health,
      `provider reports ${state.health}${state.healthReasons.length ? `: ${state.healthReasons.join('; ')}` : ''}`,
    );
  }
  if (state && state.power === 'off') note('critical', 'powered off');

  if (bmc.status === 'failed') {
    const reason = `BMC cannot be read (${bmc.kind}): ${bmc.error}`;
    note('warning', reason);
    conditions.BmcUnreachable = { severity: 'warning', reason };
  }
  if (bmc.status !== 'read') return { health, reasons, conditions };
  const r = bmc.reading;

  if (r.health === 'critical' || r.health === 'warning') note(r.health, `BMC health rollup ${r.health}`);
  if (r.health === 'critical')
    conditions.HardwareHealthCritical = { severity: 'critical', reason: 'BMC health rollup critical' };
  if (r.processors.health === 'critical' || r.processors.health === 'warning')
    note(r.processors.health, `processors ${r.processors.health}`);
  if (r.memory.health === 'critical' || r.memory.health === 'warning')
    note(r.memory.health, `memory ${r.memory.health}`);

  const inlet = inletLevel(r, thresholds);
  if (inlet) {
    const reason = `inlet temperature ${inlet.celsius} °C (${inlet.level} at ${inlet.level === 'critical' ? thresholds.inletCriticalC : thresholds.inletWarningC} °C or the sensor's own threshold)`;
    note(inlet.level, reason);
    conditions.InletTemperatureHigh = { severity: inlet.level, reason };
  }
  for (const t of r.temperatures) {
    if (isInlet(t) || t.celsius === null) continue;
    if (t.upperCritical !== null && t.celsius >= t.upperCritical)
      note('critical', `${t.name} ${t.celsius} °C at or above its critical threshold ${t.upperCritical} °C`);
    else if (t.upperWarning !== null && t.celsius >= t.upperWarning)
      note('warning', `${t.name} ${t.celsius} °C at or above its warning threshold ${t.upperWarning} °C`);
  }
  for (const f of r.fans) {
    if (f.health === 'critical' || f.health === 'warning') note(f.health, `fan ${f.name} ${f.health}`);
  }

  const failed = r.powerSupplies.filter((p) => p.health === 'critical' || p.health === 'warning');
  for (const p of failed) note('warning', `power supply ${p.name} ${p.health}`);
  if (r.psuRedundancy === 'lost') {
    const reason = `power supply redundancy lost (${failed.length} of ${r.powerSupplies.length} supplies failed)`;
    note('critical', reason);
    conditions.PowerSupplyRedundancyLost = { severity: 'critical', reason };
  }

  const errors = r.memory.correctableErrors;
  if (errors !== null && history.correctableErrorsAtWindowStart !== null) {
    const rise = errors - history.correctableErrorsAtWindowStart;
    if (rise >= thresholds.correctableErrorsRise) {
      const reason = `correctable memory errors rising: +${rise} within ${thresholds.correctableErrorsWindowMinutes} min (now ${errors})`;
      note('warning', reason);
      conditions.CorrectableMemoryErrorsRising = { severity: 'warning', reason };
    }
  }
  return { health, reasons, conditions };
}

/** Redundancy from the supplies alone, for BMCs that report no Redundancy resource: lost when fewer than two remain healthy of two or more. */
export function redundancyFromSupplies(supplies: PowerSupplyReading[]): 'ok' | 'lost' | 'unknown' {
  const present = supplies.filter((p) => p.state !== 'Absent');
  if (present.length < 2) return 'unknown';
  const healthy = present.filter((p) => p.health === 'ok' && (p.state === null || p.state === 'Enabled'));
  return healthy.length >= 2 ? 'ok' : 'lost';
}

export interface ConditionChange {
  name: ConditionName;
  status: 'firing' | 'resolved';
  severity: Severity;
  reason: string;
}

/**
 * Compare the conditions of this reading with the last ones. New, or more
 * severe, → firing; gone → resolved. A condition whose source could not be
 * read this time (the BMC was unreachable) is carried over unchanged.
 */
export function diffConditions(
  previous: Conditions,
  observed: Conditions,
  readable: { bmc: boolean; reachability: boolean },
): { next: Conditions; changes: ConditionChange[] } {
  const next: Conditions = {};
  const changes: ConditionChange[] = [];
  for (const name of CONDITION_NAMES) {
    const before = previous[name];
    const now = observed[name];
    if (!readable[CONDITIONS[name].source]) {
      if (before) next[name] = before;
      continue;
    }
    if (now) {
      next[name] = now;
      if (!before || before.severity !== now.severity) changes.push({ name, status: 'firing', ...now });
    } else if (before) {
      changes.push({ name, status: 'resolved', severity: before.severity, reason: `no longer: ${before.reason}` });
    }
  }
  return { next, changes };
}

export const METRICS = [
  'inlet_c',
  'max_temp_c',
  'power_watts',
  'correctable_errors',
  'psus_failed',
  'fans_failed',
  'bmc_reachable',
  'vcpus_used',
  'ram_used_mib',
  'disk_used_gib',
] as const;
export type Metric = (typeof METRICS)[number];

/** The numbers kept in the time series for one reading; a metric the BMC did not report is left out. */
export function metricsOf(bmc: BmcOutcome, utilisation: HostUtilisation | null): Partial<Record<Metric, number>> {
  const m: Partial<Record<Metric, number>> = {};
  if (bmc.status !== 'not-configured') m.bmc_reachable = bmc.status === 'read' ? 1 : 0;
  if (bmc.status === 'read') {
    const r = bmc.reading;
    const inlet = inletCelsius(r);
    if (inlet !== null) m.inlet_c = inlet;
    const temps = r.temperatures.map((t) => t.celsius).filter((c): c is number => c !== null);
    if (temps.length) m.max_temp_c = Math.max(...temps);
    if (r.powerConsumedWatts !== null) m.power_watts = r.powerConsumedWatts;
    if (r.memory.correctableErrors !== null) m.correctable_errors = r.memory.correctableErrors;
    m.psus_failed = r.powerSupplies.filter((p) => p.health === 'critical' || p.health === 'warning').length;
    m.fans_failed = r.fans.filter((f) => f.health === 'critical' || f.health === 'warning').length;
  }
  if (utilisation) {
    m.vcpus_used = utilisation.vcpus.used;
    m.ram_used_mib = utilisation.ramMiB.used;
    m.disk_used_gib = utilisation.diskGiB.used;
  }
  return m;
}

/** Redfish Status.Health → Shipshape health. Anything else (absent, vendor words) is null. */
export function redfishHealth(h: unknown): Health | null {
  if (h === 'OK') return 'ok';
  if (h === 'Warning') return 'warning';
  if (h === 'Critical') return 'critical';
  return null;
}
