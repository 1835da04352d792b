/**
 * A DMTF Redfish client for one BMC: reads the system (power, health,
 * processors, memory, BIOS), the chassis's thermal and power figures from
 * either the older Thermal/Power resources or the newer ThermalSubsystem/
 * PowerSubsystem, the manager's firmware and the SEL, and resets the system.
 *
 * Only the system resource is required: any other resource the BMC lacks
 * (404, missing link) is listed in `gaps` and its figures are left empty.
 * A resource that is there but malformed is garbage and fails the read.
 */
import type { z } from 'zod';
import {
  redfishHealth,
  redundancyFromSupplies,
  type BmcEvent,
  type BmcReading,
  type FanReading,
  type PowerSupplyReading,
  type TemperatureReading,
} from '../../domain/telemetry';
import { BmcError } from '../bmc';
import { sendRequest as sendHttp, TransportError, type HttpResponse, type TlsOptions } from '../http';
import * as rf from './schemas';

export interface RedfishCredentials {
  username: string;
  password: string;
  /** `session` logs in once and reuses the token (the default); `basic` sends the password on every request. */
  auth: 'session' | 'basic';
}

export interface RedfishTarget {
  /** https://bmc.example:443 (a path is ignored; Redfish lives under /redfish/v1). */
  address: string;
  systemId: string | null;
  credentials: RedfishCredentials | null;
  tls: TlsOptions;
  timeoutMs: number;
}

export const RESET_TYPES = [
  'On',
  'ForceOff',
  'GracefulShutdown',
  'GracefulRestart',
  'ForceRestart',
  'PowerCycle',
] as const;
export type ResetType = (typeof RESET_TYPES)[number];

/** The power state a reset ends in. */
export function resetTarget(type: ResetType): 'on' | 'off' {
  return type === 'ForceOff' || type === 'GracefulShutdown' ? 'off' : 'on';
}

const MAX_EVENTS = 20;
const MAX_MEMBERS = 64;

/**
 * Session tokens by BMC and user, shared by every client in the worker: BMCs
 * have few session slots. `basic` marks a BMC without a session service.
 */
const sessions = new Map<string, string | 'basic'>();

/** A request to a BMC; a transport failure is the BMC being unreachable. */
async function sendRequest(url: URL, opts: Parameters<typeof sendHttp>[1]): Promise<HttpResponse> {
  try {
    return await sendHttp(url, opts);
  } catch (err) {
    if (err instanceof TransportError) throw new BmcError('unreachable', err.message);
    throw err;
  }
}

export class RedfishClient {
  private readonly base: URL;

  constructor(private readonly target: RedfishTarget) {
    let url: URL;
    try {
      url = new URL(target.address);
    } catch {
      throw new BmcError('garbage', `BMC address "${target.address}" is not a URL`);
    }
    this.base = new URL('/', url);
  }

  private get sessionKey(): string {
    return `${this.base.origin}|${this.target.credentials?.username ?? ''}`;
  }

  private authHeaders(): Record<string, string> {
    const c = this.target.credentials;
    if (!c) return {};
    const token = sessions.get(this.sessionKey);
    if (c.auth === 'basic' || token === 'basic')
      return { Authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` };
    return token ? { 'X-Auth-Token': token } : {};
  }

  /**
   * Log in where the service root links a sessions collection (Redfish
   * requires the link when sessions are supported); otherwise use basic
   * authentication on every request. The root itself needs no credentials.
   */
  private async login(): Promise<void> {
    const c = this.target.credentials;
    if (!c || c.auth !== 'session') return;
    const opts = { timeoutMs: this.target.timeoutMs, tls: this.target.tls };
    const rootRes = await sendRequest(new URL('/redfish/v1/', this.base), { method: 'GET', headers: {}, ...opts });
    let sessionsPath: string | undefined;
    try {
      sessionsPath = rf.serviceRoot.parse(JSON.parse(rootRes.body)).Links?.Sessions?.['@odata.id'];
    } catch {
      sessionsPath = undefined;
    }
    if (rootRes.status >= 400 || !sessionsPath) {
      sessions.set(this.sessionKey, 'basic');
      return;
    }
    const res = await sendRequest(new URL(sessionsPath, this.base), {
      method: 'POST',
      headers: {},
      body: JSON.stringify({ UserName: c.username, Password: c.password }),
      ...opts,
    });
    const token = res.headers['x-auth-token'];
    if (res.status === 404 || res.status === 405 || res.status === 501) {
      sessions.set(this.sessionKey, 'basic'); // no session service: basic authentication on every request
      return;
    }
    if (res.status === 401 || res.status === 403)
      throw new BmcError(
        'auth',
        `${this.base.host}: session login refused (HTTP ${res.status}) for user ${c.username}`,
        res.status,
      );
    if (res.status >= 300 || typeof token !== 'string') {
      throw new BmcError(
        'auth',
        `${this.base.host}: session login answered HTTP ${res.status} without an X-Auth-Token`,
        res.status,
      );
    }
    sessions.set(this.sessionKey, token);
  }

  /** One request with the session token; a 401 on a session logs in again once. */
  private async send(method: string, path: string, body?: unknown): Promise<HttpResponse> {
    const c = this.target.credentials;
    if (c?.auth === 'session' && !sessions.has(this.sessionKey)) await this.login();
    const go = () =>
      sendRequest(new URL(path, this.base), {
        method,
        headers: this.authHeaders(),
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: this.target.timeoutMs,
        tls: this.target.tls,
      });
    let res = await go();
    if (res.status === 401 && c?.auth === 'session' && sessions.get(this.sessionKey) !== 'basic') {
      sessions.delete(this.sessionKey);
      await this.login();
      res = await go();
    }
    if (res.status === 401 || res.status === 403)
      throw new BmcError('auth', `${this.base.host}: ${method} ${path} refused (HTTP ${res.status})`, res.status);
    return res;
  }

  /** GET a resource and validate it; null when the BMC does not have it (404). */
  private async get<S extends z.ZodType>(path: string, schema: S, optional: boolean): Promise<z.infer<S> | null> {
    const res = await this.send('GET', path);
    if (res.status === 404 && optional) return null;
    if (res.status >= 400)
      throw new BmcError('http', `${this.base.host}: GET ${path} answered HTTP ${res.status}`, res.status);
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      throw new BmcError('garbage', `${this.base.host}: GET ${path} did not answer JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BmcError(
        'garbage',
        `${this.base.host}: GET ${path}: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    return parsed.data as z.infer<S>;
  }

  private async systemPath(): Promise<string> {
    const root = await this.get('/redfish/v1/', rf.serviceRoot, false);
    const systems = root?.Systems?.['@odata.id'] ?? '/redfish/v1/Systems';
    if (this.target.systemId) return `${systems.replace(/\/$/, '')}/${encodeURIComponent(this.target.systemId)}`;
    const list = await this.get(systems, rf.collection, false);
    const first = list?.Members[0]?.['@odata.id'];
    if (!first) throw new BmcError('garbage', `${this.base.host}: ${systems} lists no systems`);
    return first;
  }

  async readSystem(): Promise<{ path: string; system: z.infer<typeof rf.system> }> {
    const path = await this.systemPath();
    const system = await this.get(path, rf.system, false);
    if (!system) throw new BmcError('garbage', `${this.base.host}: ${path} is empty`);
    return { path, system };
  }

  async read(): Promise<BmcReading> {
    const { system } = await this.readSystem();
    const gaps: string[] = [];
    const reading: BmcReading = {
      power: powerOf(system.PowerState),
      health: redfishHealth(system.Status?.HealthRollup ?? system.Status?.Health),
      processors: {
        count: system.ProcessorSummary?.Count ?? null,
        model: system.ProcessorSummary?.Model ?? null,
        health: redfishHealth(system.ProcessorSummary?.Status?.HealthRollup ?? system.ProcessorSummary?.Status?.Health),
      },
      memory: {
        totalGiB: system.MemorySummary?.TotalSystemMemoryGiB ?? null,
        health: redfishHealth(system.MemorySummary?.Status?.HealthRollup ?? system.MemorySummary?.Status?.Health),
        correctableErrors: null,
      },
      biosVersion: system.BiosVersion ?? null,
      temperatures: [],
      fans: [],
      powerSupplies: [],
      powerConsumedWatts: null,
      psuRedundancy: 'unknown',
      bmcFirmware: null,
      events: [],
      sources: { thermal: null, power: null },
      gaps,
    };

    // The parts are independent: read them at once (a BMC answers each request slowly, not many at a time badly).
    const thermalGaps: string[] = [];
    const powerGaps: string[] = [];
    const selGaps: string[] = [];
    const chassisPart = (async () => {
      const chassisPath = system.Links?.Chassis?.[0]?.['@odata.id'] ?? (await this.firstMember('/redfish/v1/Chassis'));
      const chassis = chassisPath ? await this.get(chassisPath, rf.chassis, true) : null;
      if (!chassis) return false;
      await Promise.all([this.readThermal(chassis, reading, thermalGaps), this.readPower(chassis, reading, powerGaps)]);
      return true;
    })();
    const managerPart = (async () => {
      const managerPath =
        system.Links?.ManagedBy?.[0]?.['@odata.id'] ?? (await this.firstMember('/redfish/v1/Managers'));
      return managerPath ? this.get(managerPath, rf.manager, true) : null;
    })();
    const selPart = managerPart.then((manager) =>
      this.readSel([system.LogServices?.['@odata.id'], manager?.LogServices?.['@odata.id']], selGaps),
    );
    const metricsPath = system.MemorySummary?.Metrics?.['@odata.id'];
    const metricsPart = metricsPath ? this.get(metricsPath, rf.memoryMetrics, true) : Promise.resolve(null);
    const [hasChassis, manager, events, metrics] = await Promise.all([chassisPart, managerPart, selPart, metricsPart]);

    gaps.push(...(hasChassis ? [...thermalGaps, ...powerGaps] : ['chassis']));
    if (!manager) gaps.push('manager');
    reading.bmcFirmware = manager?.FirmwareVersion ?? null;
    reading.events = events;
    gaps.push(...selGaps);
    reading.memory.correctableErrors =
      metrics?.LifeTime?.CorrectableECCErrorCount ?? metrics?.CurrentPeriod?.CorrectableECCErrorCount ?? null;
    if (reading.memory.correctableErrors === null) gaps.push('memory error counts');
    return reading;
  }

  private async firstMember(collectionPath: string): Promise<string | null> {
    const list = await this.get(collectionPath, rf.collection, true);
    return list?.Members[0]?.['@odata.id'] ?? null;
  }

  /** Members of a collection, fetched one by one when the BMC lists only links. */
  private async members<S extends z.ZodType>(collectionPath: string, schema: S): Promise<z.infer<S>[]> {
    const list = await this.get(collectionPath, rf.collection, true);
    if (!list) return [];
    const items: Array<z.infer<S> | null> = await Promise.all(
      list.Members.slice(0, MAX_MEMBERS).map(async (m): Promise<z.infer<S> | null> => {
        const inline = Object.keys(m).length > 1 ? schema.safeParse(m) : null;
        if (inline?.success) return inline.data as z.infer<S>;
        return m['@odata.id'] ? this.get(m['@odata.id'], schema, true) : null;
      }),
    );
    return items.filter((i) => i !== null) as z.infer<S>[];
  }

  private async readThermal(chassis: z.infer<typeof rf.chassis>, reading: BmcReading, gaps: string[]): Promise<void> {
    const sub = chassis.ThermalSubsystem?.['@odata.id'];
    const old = chassis.Thermal?.['@odata.id'];
    if (sub) {
      const ts = await this.get(sub, rf.thermalSubsystem, true);
      if (ts) {
        reading.sources.thermal = 'ThermalSubsystem';
        const metricsPath = ts.ThermalMetrics?.['@odata.id'];
        const metrics = metricsPath ? await this.get(metricsPath, rf.thermalMetrics, true) : null;
        const readings = metrics?.TemperatureReadingsCelsius ?? [];
        const sensors = await Promise.all(
          readings.map((t) => (t.DataSourceUri ? this.get(t.DataSourceUri, rf.sensor, true) : null)),
        );
        readings.forEach((t, i) => {
          const sensor = sensors[i] ?? null;
          reading.temperatures.push({
            name: t.DeviceName ?? t.DataSourceUri?.split('/').pop() ?? 'temperature',
            celsius: t.Reading ?? sensor?.Reading ?? null,
            context: t.PhysicalContext ?? null,
            upperWarning: sensor?.Thresholds?.UpperCaution?.Reading ?? null,
            upperCritical: sensor?.Thresholds?.UpperCritical?.Reading ?? null,
            health: redfishHealth(sensor?.Status?.Health),
          });
        });
        const fansPath = ts.Fans?.['@odata.id'];
        for (const f of fansPath ? await this.members(fansPath, rf.fan) : []) {
          const rpm = f.SpeedPercent?.SpeedRPM ?? null;
          reading.fans.push({
            name: f.Name ?? f.Id ?? 'fan',
            reading: rpm ?? f.SpeedPercent?.Reading ?? null,
            units: rpm !== null ? 'RPM' : typeof f.SpeedPercent?.Reading === 'number' ? 'Percent' : null,
            health: redfishHealth(f.Status?.Health),
          });
        }
        return;
      }
    }
    const th = old ? await this.get(old, rf.thermal, true) : null;
    if (!th) {
      gaps.push('thermal');
      return;
    }
    reading.sources.thermal = 'Thermal';
    reading.temperatures = parseEach(th.Temperatures, rf.thermalTemperature, 'Temperatures', gaps).map(
      (t): TemperatureReading => ({
        name: t.Name ?? t.MemberId ?? 'temperature',
        celsius: t.ReadingCelsius ?? null,
        context: t.PhysicalContext ?? null,
        upperWarning: t.UpperThresholdNonCritical ?? null,
        upperCritical: t.UpperThresholdCritical ?? null,
        health: redfishHealth(t.Status?.Health),
      }),
    );
    reading.fans = parseEach(th.Fans, rf.thermalFan, 'Fans', gaps).map(
      (f): FanReading => ({
        name: f.Name ?? f.FanName ?? f.MemberId ?? 'fan',
        reading: f.Reading ?? null,
        units: f.ReadingUnits === 'RPM' || f.ReadingUnits === 'Percent' ? f.ReadingUnits : null,
        health: redfishHealth(f.Status?.Health),
      }),
    );
  }

  private async readPower(chassis: z.infer<typeof rf.chassis>, reading: BmcReading, gaps: string[]): Promise<void> {
    const sub = chassis.PowerSubsystem?.['@odata.id'];
    const old = chassis.Power?.['@odata.id'];
    if (sub) {
      const ps = await this.get(sub, rf.powerSubsystem, true);
      if (ps) {
        reading.sources.power = 'PowerSubsystem';
        const suppliesPath = ps.PowerSupplies?.['@odata.id'];
        reading.powerSupplies = (suppliesPath ? await this.members(suppliesPath, rf.subsystemPowerSupply) : []).map(
          (p): PowerSupplyReading => ({
            name: p.Name ?? p.Id ?? 'power supply',
            health: redfishHealth(p.Status?.Health),
            state: p.Status?.State ?? null,
            capacityWatts: p.PowerCapacityWatts ?? null,
            outputWatts: null,
          }),
        );
        reading.psuRedundancy = redundancyOf(
          ps.PowerSupplyRedundancy?.map((r) => r.Status) ?? [],
          reading.powerSupplies,
        );
        const envPath = chassis.EnvironmentMetrics?.['@odata.id'];
        const env = envPath ? await this.get(envPath, rf.environmentMetrics, true) : null;
        reading.powerConsumedWatts = env?.PowerWatts?.Reading ?? null;
        return;
      }
    }
    const pw = old ? await this.get(old, rf.power, true) : null;
    if (!pw) {
      gaps.push('power');
      return;
    }
    reading.sources.power = 'Power';
    reading.powerConsumedWatts = pw.PowerControl?.[0]?.PowerConsumedWatts ?? null;
    reading.powerSupplies = parseEach(pw.PowerSupplies, rf.powerSupply, 'PowerSupplies', gaps).map(
      (p): PowerSupplyReading => ({
        name: p.Name ?? p.MemberId ?? 'power supply',
        health: redfishHealth(p.Status?.Health),
        state: p.Status?.State ?? null,
        capacityWatts: p.PowerCapacityWatts ?? null,
        outputWatts: p.LastPowerOutputWatts ?? null,
      }),
    );
    const groups = parseEach(pw.Redundancy, rf.redundancy, 'Redundancy', gaps);
    reading.psuRedundancy = redundancyOf(
      groups.map((g) => g.Status),
      reading.powerSupplies,
    );
  }

  private async readSel(logServicePaths: Array<string | undefined>, gaps: string[]): Promise<BmcEvent[]> {
    for (const path of logServicePaths) {
      if (!path) continue;
      const services = await this.members(path, rf.logService);
      const sel = services.find((s) => s.LogEntryType === 'SEL' || /^sel$/i.test(s.Id ?? ''));
      const entries = sel?.Entries?.['@odata.id'];
      if (!entries) continue;
      const list = await this.get(entries, rf.collection, true);
      const recent = (list?.Members ?? []).slice(-MAX_EVENTS);
      const parsed = parseEach(recent, rf.logEntry, 'SEL', gaps);
      return parsed.map((e, i) => ({
        id: e.Id ?? String(i),
        created: e.Created ?? null,
        severity: redfishHealth(e.Severity),
        message: e.Message ?? '',
      }));
    }
    gaps.push('SEL');
    return [];
  }

  /** Ask for a reset; refused before sending when the BMC lists the types it allows and this is not one. */
  async reset(type: ResetType): Promise<void> {
    const { path, system } = await this.readSystem();
    const action = system.Actions?.['#ComputerSystem.Reset'];
    const target = action?.target ?? `${path.replace(/\/$/, '')}/Actions/ComputerSystem.Reset`;
    const allowed = action?.['ResetType@Redfish.AllowableValues'];
    if (allowed && !allowed.includes(type)) {
      throw new BmcError(
        'unsupported',
        `${this.base.host}: reset type ${type} not allowed by the BMC (allows ${allowed.join(', ')})`,
      );
    }
    const res = await this.send('POST', target, { ResetType: type });
    if (res.status >= 300)
      throw new BmcError(
        'http',
        `${this.base.host}: POST ${target} (ResetType ${type}) answered HTTP ${res.status}`,
        res.status,
      );
  }

  /**
   * A power cycle as this BMC can do it: PowerCycle where allowed, else (or
   * when it answers 501, as some BMCs do for a type they list) ForceRestart.
   */
  async powerCycle(): Promise<ResetType> {
    const { system } = await this.readSystem();
    const allowed = system.Actions?.['#ComputerSystem.Reset']?.['ResetType@Redfish.AllowableValues'];
    if (!allowed || allowed.includes('PowerCycle')) {
      try {
        await this.reset('PowerCycle');
        return 'PowerCycle';
      } catch (err) {
        if (!(err instanceof BmcError && (err.status === 501 || err.status === 400))) throw err;
      }
    }
    await this.reset('ForceRestart');
    return 'ForceRestart';
  }

  /**
   * Reset and poll the power state until the reset's target (On for the
   * restarts and the power cycle, Off for the shutdowns), or fail after
   * `timeoutMs` naming the state last seen. A restart is first given up to a
   * third of the time to be seen Off, so a host still On from before the
   * reset is not taken for one that came back (some BMCs never show Off for
   * a warm restart: then On after that third counts).
   */
  async resetAndWait(
    type: ResetType | 'power-cycle',
    timeoutMs: number,
    pollMs = 1000,
  ): Promise<{ used: ResetType; power: 'on' | 'off' }> {
    const used = type === 'power-cycle' ? await this.powerCycle() : (await this.reset(type), type);
    const target = resetTarget(used);
    const start = Date.now();
    const restart = target === 'on' && used !== 'On';
    let wentOff = false;
    let seen: 'on' | 'off' | 'unknown' = 'unknown';
    while (Date.now() - start < timeoutMs) {
      await new Promise((ok) => setTimeout(ok, pollMs));
      seen = await this.readPowerState();
      if (seen === 'off') wentOff = true;
      const cameBack = !restart || wentOff || Date.now() - start > timeoutMs / 3;
      if (seen === target && cameBack) return { used, power: target };
    }
    throw new BmcError(
      'unsupported',
      `${this.base.host}: ${used} did not reach power ${target} within ${timeoutMs / 1000}s (last seen ${seen})`,
    );
  }

  async readPowerState(): Promise<'on' | 'off' | 'unknown'> {
    return powerOf((await this.readSystem()).system.PowerState);
  }
}

function powerOf(state: string | null | undefined): 'on' | 'off' | 'unknown' {
  if (state === 'On' || state === 'PoweringOff') return 'on';
  if (state === 'Off' || state === 'PoweringOn') return 'off';
  return 'unknown';
}

function redundancyOf(
  statuses: Array<{ Health?: string | null; State?: string | null } | null | undefined>,
  supplies: PowerSupplyReading[],
): 'ok' | 'lost' | 'unknown' {
  const known = statuses.filter((s) => s && s.State !== 'Disabled' && redfishHealth(s.Health) !== null);
  if (known.length === 0) return redundancyFromSupplies(supplies);
  return known.every((s) => redfishHealth(s?.Health) === 'ok') ? 'ok' : 'lost';
}

/** Validate each element on its own: a malformed sensor is skipped and noted, the rest are kept. */
function parseEach<S extends z.ZodType>(
  items: unknown[] | null | undefined,
  schema: S,
  what: string,
  gaps: string[],
): z.infer<S>[] {
  const out: z.infer<S>[] = [];
  (items ?? []).forEach((item, i) => {
    const r = schema.safeParse(item);
    if (r.success) out.push(r.data as z.infer<S>);
    else
      gaps.push(
        `${what}[${i}] ignored: ${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? 'invalid'}`,
      );
  });
  return out;
}
