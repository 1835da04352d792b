/**
 * A DMTF Redfish client for one BMC: reads the system (power, health,
 * processors, memory, BIOS), the chassis's thermal and power figures from
 * either the older Thermal/Power resources or the newer ThermalSubsystem/
 * PowerSubsystem, the manager's firmware and the SEL, and resets the system.
 *
 * Only the system resource is required: any other resource the BMC lacks
 * (404, missing link) is listed in `gaps` and its figures are left empty.
 * A resource that is there but malformed is garbage and fails the read.
 *
 * Every path after the service root comes from the BMC's own answers, so each
 * one is followed only when it stays on the BMC's origin (`follow`): a link to
 * anywhere else fails the read before any request, and credentials or a session
 * token never leave for another host. Credentials are not sent over plain http
 * unless their entry allows it (`allowPlainHttp`).
 */
import type { z } from 'zod';
import type { RedfishField, RedfishSettings } from '../../domain/compliance-platform';
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
import {
  linkOnOrigin,
  sendRequest as sendHttp,
  shownLink,
  TransportError,
  type HttpResponse,
  type TlsOptions,
} from '../http';
import * as rf from './schemas';

export interface RedfishCredentials {
  username: string;
  password: string;
  /** `session` logs in once and reuses the token (the default); `basic` sends the password on every request. */
  auth: 'session' | 'basic';
  /** Whether these credentials may be sent to an `http://` BMC, in clear text (a lab, an emulator). */
  allowPlainHttp?: boolean;
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

  /**
   * A link the BMC gave (`field` of the resource at `from`), resolved against
   * the BMC; refused, before any request, when it leads off the BMC. Every
   * request this client makes goes to a URL from here.
   */
  private follow(ref: string, from: string, field: string): URL {
    const url = linkOnOrigin(ref, this.base);
    if (!url)
      throw new BmcError(
        'refused',
        `${from} ${field} link: ${shownLink(ref)} is not on this BMC (${this.base.origin}); not followed, nothing sent`,
      );
    return url;
  }

  /** An optional link: null when the BMC gives none. */
  private link(ref: string | null | undefined, from: URL | string, field: string): URL | null {
    return ref ? this.follow(ref, typeof from === 'string' ? from : pathOf(from), field) : null;
  }

  /** Paths Shipshape knows itself (the service root, the standard collections). */
  private own(path: string): URL {
    return this.follow(path, '(Shipshape)', 'standard path');
  }

  /** Credentials go over plain http only when their entry says so; checked before anything is sent. */
  private refuseClearText(): void {
    const c = this.target.credentials;
    if (c && this.base.protocol === 'http:' && c.allowPlainHttp !== true)
      throw new BmcError(
        'refused',
        `${this.base.origin}: BMC credentials are not sent over plain http; use https, or set allowPlainHttp: true in this BMC's credentials entry`,
      );
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
   * authentication on every request. The root itself needs no credentials,
   * and so cannot be trusted to say where the password goes: a sessions link
   * off the BMC is refused, not answered with basic authentication.
   */
  private async login(): Promise<void> {
    const c = this.target.credentials;
    if (!c || c.auth !== 'session') return;
    const opts = { timeoutMs: this.target.timeoutMs, tls: this.target.tls };
    const rootUrl = this.own('/redfish/v1/');
    const rootRes = await sendRequest(rootUrl, { method: 'GET', headers: {}, ...opts });
    let sessionsRef: string | undefined;
    try {
      sessionsRef = rf.serviceRoot.parse(JSON.parse(rootRes.body)).Links?.Sessions?.['@odata.id'];
    } catch {
      sessionsRef = undefined;
    }
    if (rootRes.status >= 400 || !sessionsRef) {
      sessions.set(this.sessionKey, 'basic');
      return;
    }
    const sessionsUrl = this.follow(sessionsRef, pathOf(rootUrl), 'Links.Sessions');
    const res = await sendRequest(sessionsUrl, {
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
  private async send(method: string, url: URL, body?: unknown): Promise<HttpResponse> {
    if (url.origin !== this.base.origin) throw new Error(`${pathOf(url)}: not a URL from follow()`); // a bug, not the BMC
    this.refuseClearText();
    const c = this.target.credentials;
    if (c?.auth === 'session' && !sessions.has(this.sessionKey)) await this.login();
    const go = () =>
      sendRequest(url, {
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
      throw new BmcError(
        'auth',
        `${this.base.host}: ${method} ${pathOf(url)} refused (HTTP ${res.status})`,
        res.status,
      );
    return res;
  }

  /** GET a resource and validate it; null when the BMC does not have it (404). */
  private async get<S extends z.ZodType>(url: URL, schema: S, optional: boolean): Promise<z.infer<S> | null> {
    const path = pathOf(url);
    const res = await this.send('GET', url);
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

  private async systemUrl(): Promise<URL> {
    const rootUrl = this.own('/redfish/v1/');
    const root = await this.get(rootUrl, rf.serviceRoot, false);
    const systems = this.link(root?.Systems?.['@odata.id'], rootUrl, 'Systems') ?? this.own('/redfish/v1/Systems');
    if (this.target.systemId)
      return this.follow(
        `${systems.pathname.replace(/\/$/, '')}/${encodeURIComponent(this.target.systemId)}`,
        pathOf(rootUrl),
        'Systems',
      );
    const list = await this.get(systems, rf.collection, false);
    const first = this.link(list?.Members[0]?.['@odata.id'], systems, 'Members[0]');
    if (!first) throw new BmcError('garbage', `${this.base.host}: ${pathOf(systems)} lists no systems`);
    return first;
  }

  async readSystem(): Promise<{ url: URL; system: z.infer<typeof rf.system> }> {
    const url = await this.systemUrl();
    const system = await this.get(url, rf.system, false);
    if (!system) throw new BmcError('garbage', `${this.base.host}: ${pathOf(url)} is empty`);
    return { url, system };
  }

  async read(): Promise<BmcReading> {
    const { url: systemUrl, system } = await this.readSystem();
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

    // Every link the system names is checked before anything is read: one that leads off the BMC fails the read.
    const chassisLink = this.link(system.Links?.Chassis?.[0]?.['@odata.id'], systemUrl, 'Links.Chassis[0]');
    const managerLink = this.link(system.Links?.ManagedBy?.[0]?.['@odata.id'], systemUrl, 'Links.ManagedBy[0]');
    const systemLogs = this.link(system.LogServices?.['@odata.id'], systemUrl, 'LogServices');
    const metricsUrl = this.link(system.MemorySummary?.Metrics?.['@odata.id'], systemUrl, 'MemorySummary.Metrics');

    // The parts are independent: read them at once (a BMC answers each request slowly, not many at a time badly).
    const thermalGaps: string[] = [];
    const powerGaps: string[] = [];
    const selGaps: string[] = [];
    const chassisPart = (async () => {
      const chassisUrl = chassisLink ?? (await this.firstMember(this.own('/redfish/v1/Chassis')));
      const chassis = chassisUrl ? await this.get(chassisUrl, rf.chassis, true) : null;
      if (!chassisUrl || !chassis) return false;
      await Promise.all([
        this.readThermal(chassisUrl, chassis, reading, thermalGaps),
        this.readPower(chassisUrl, chassis, reading, powerGaps),
      ]);
      return true;
    })();
    const managerPart = (async () => {
      const managerUrl = managerLink ?? (await this.firstMember(this.own('/redfish/v1/Managers')));
      const manager = managerUrl ? await this.get(managerUrl, rf.manager, true) : null;
      return manager && managerUrl
        ? { manager, logs: this.link(manager.LogServices?.['@odata.id'], managerUrl, 'LogServices') }
        : null;
    })();
    const selPart = managerPart.then((m) => this.readSel([systemLogs, m?.logs ?? null], selGaps));
    const metricsPart = metricsUrl ? this.get(metricsUrl, rf.memoryMetrics, true) : Promise.resolve(null);
    const [hasChassis, managed, events, metrics] = await Promise.all([chassisPart, managerPart, selPart, metricsPart]);

    gaps.push(...(hasChassis ? [...thermalGaps, ...powerGaps] : ['chassis']));
    if (!managed) gaps.push('manager');
    reading.bmcFirmware = managed?.manager.FirmwareVersion ?? null;
    reading.events = events;
    gaps.push(...selGaps);
    reading.memory.correctableErrors =
      metrics?.LifeTime?.CorrectableECCErrorCount ?? metrics?.CurrentPeriod?.CorrectableECCErrorCount ?? null;
    if (reading.memory.correctableErrors === null) gaps.push('memory error counts');
    return reading;
  }

  /**
   * What compliance rules of kind `redfish` need, read live, and only the parts `fields` name: the system
   * (Model, else its chassis's; BiosVersion), its Bios resource's Attributes, its SecureBoot resource's
   * SecureBootEnable, the manager's FirmwareVersion, the power supplies' redundancy. The system must be read,
   * or the whole read fails (unreachable, refused, garbage); any other part that is missing or malformed is
   * that field's problem, naming the resource and the field, and the other fields still count.
   */
  async readSettings(fields: readonly RedfishField[]): Promise<RedfishSettings> {
    const need = new Set(fields);
    const { url: systemUrl, system } = await this.readSystem();
    const at = `GET ${pathOf(systemUrl)}`;
    const raw = system as Record<string, unknown>;
    const problems: Partial<Record<RedfishField, string>> = {};
    const out: RedfishSettings = {
      model: null,
      biosVersion: null,
      bmcFirmware: null,
      biosAttributes: null,
      secureBoot: null,
      psuRedundancy: 'unknown',
      problems,
    };
    const part = async (field: RedfishField, read: () => Promise<void>): Promise<void> => {
      if (!need.has(field)) return;
      try {
        await read();
      } catch (err) {
        if (!(err instanceof BmcError)) throw err;
        problems[field] = err.message;
      }
    };
    const chassisUrl = async (): Promise<URL | null> =>
      this.link(system.Links?.Chassis?.[0]?.['@odata.id'], systemUrl, 'Links.Chassis[0]') ??
      (await this.firstMember(this.own('/redfish/v1/Chassis')));
    const settingsLink = (name: 'Bios' | 'SecureBoot'): URL => {
      const ref = this.valid(rf.link.nullish(), raw[name], at, name);
      const url = this.link(ref?.['@odata.id'], systemUrl, name);
      if (!url) throw new BmcError('unsupported', `${this.base.host}: ${at}: the system links no ${name} resource`);
      return url;
    };
    const required = async <S extends z.ZodType>(url: URL, schema: S, what: string): Promise<z.infer<S>> => {
      const found = await this.get(url, schema, true);
      if (found === null)
        throw new BmcError('unsupported', `${this.base.host}: GET ${pathOf(url)} (${what}) answered HTTP 404`, 404);
      return found;
    };

    await Promise.all([
      part('model', async () => {
        const model = this.valid(rf.systemModel, raw.Model, at, 'Model');
        if (model) {
          out.model = model;
          return;
        }
        // Some BMCs name the model only on the chassis (the same product name on rack servers).
        const url = await chassisUrl();
        const chassis = url ? await this.get(url, rf.chassisModel, true) : null;
        if (!chassis?.Model)
          throw new BmcError('unsupported', `${this.base.host}: ${at}: neither the system nor its chassis has a Model`);
        out.model = chassis.Model;
      }),
      part('biosVersion', async () => {
        out.biosVersion = system.BiosVersion ?? null;
        if (out.biosVersion === null)
          throw new BmcError('unsupported', `${this.base.host}: ${at}: the system has no BiosVersion`);
      }),
      part('biosAttributes', async () => {
        const url = settingsLink('Bios');
        const bios = await required(url, rf.bios, 'Bios');
        const attributes: Record<string, string | number | boolean> = {};
        for (const [name, value] of Object.entries(bios.Attributes)) if (value !== null) attributes[name] = value;
        out.biosAttributes = attributes;
      }),
      part('secureBoot', async () => {
        const url = settingsLink('SecureBoot');
        out.secureBoot = (await required(url, rf.secureBoot, 'SecureBoot')).SecureBootEnable;
      }),
      part('bmcFirmware', async () => {
        const url =
          this.link(system.Links?.ManagedBy?.[0]?.['@odata.id'], systemUrl, 'Links.ManagedBy[0]') ??
          (await this.firstMember(this.own('/redfish/v1/Managers')));
        if (!url) throw new BmcError('unsupported', `${this.base.host}: the BMC lists no manager`);
        out.bmcFirmware = (await required(url, rf.manager, 'Manager')).FirmwareVersion ?? null;
        if (out.bmcFirmware === null)
          throw new BmcError(
            'unsupported',
            `${this.base.host}: GET ${pathOf(url)}: the manager has no FirmwareVersion`,
          );
      }),
      part('psuRedundancy', async () => {
        const url = await chassisUrl();
        if (!url) throw new BmcError('unsupported', `${this.base.host}: the BMC lists no chassis`);
        const chassis = await required(url, rf.chassis, 'Chassis');
        const power = {
          powerSupplies: [] as PowerSupplyReading[],
          psuRedundancy: 'unknown' as BmcReading['psuRedundancy'],
          powerConsumedWatts: null as number | null,
          sources: { thermal: null, power: null } as BmcReading['sources'],
        };
        const gaps: string[] = [];
        await this.readPower(url, chassis, power, gaps);
        out.psuRedundancy = power.psuRedundancy;
        if (power.sources.power === null)
          throw new BmcError(
            'unsupported',
            `${this.base.host}: ${pathOf(url)} has no Power or PowerSubsystem resource (no power supply redundancy)`,
          );
        if (out.psuRedundancy === 'unknown')
          throw new BmcError(
            'unsupported',
            `${this.base.host}: ${pathOf(url)}: no redundancy group and no power supply status${gaps.length ? ` (${gaps.join('; ')})` : ''}`,
          );
      }),
    ]);
    return out;
  }

  /** One property of an answer, validated on its own: a wrong type is garbage naming the request and the field. */
  private valid<S extends z.ZodType>(schema: S, value: unknown, at: string, field: string): z.infer<S> {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data as z.infer<S>;
    const issue = parsed.error.issues[0];
    const path = [field, ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
    throw new BmcError('garbage', `${this.base.host}: ${at}: ${path || '(body)'}: ${issue?.message ?? 'invalid'}`);
  }

  private async firstMember(collection: URL): Promise<URL | null> {
    const list = await this.get(collection, rf.collection, true);
    return this.link(list?.Members[0]?.['@odata.id'], collection, 'Members[0]');
  }

  /** Members of a collection, fetched one by one when the BMC lists only links. */
  private async members<S extends z.ZodType>(collection: URL, schema: S): Promise<z.infer<S>[]> {
    const list = await this.get(collection, rf.collection, true);
    if (!list) return [];
    const members = list.Members.slice(0, MAX_MEMBERS).map((m, i) => {
      const inline = Object.keys(m).length > 1 ? schema.safeParse(m) : null;
      if (inline?.success) return { item: inline.data as z.infer<S>, url: null };
      return { item: null, url: this.link(m['@odata.id'], collection, `Members[${i}]`) };
    });
    const items: Array<z.infer<S> | null> = await Promise.all(
      members.map(
        async (m): Promise<z.infer<S> | null> =>
          m.item !== null ? m.item : m.url ? this.get(m.url, schema, true) : null,
      ),
    );
    return items.filter((i) => i !== null) as z.infer<S>[];
  }

  private async readThermal(
    chassisUrl: URL,
    chassis: z.infer<typeof rf.chassis>,
    reading: BmcReading,
    gaps: string[],
  ): Promise<void> {
    const sub = this.link(chassis.ThermalSubsystem?.['@odata.id'], chassisUrl, 'ThermalSubsystem');
    const old = this.link(chassis.Thermal?.['@odata.id'], chassisUrl, 'Thermal');
    if (sub) {
      const ts = await this.get(sub, rf.thermalSubsystem, true);
      if (ts) {
        reading.sources.thermal = 'ThermalSubsystem';
        const metricsUrl = this.link(ts.ThermalMetrics?.['@odata.id'], sub, 'ThermalMetrics');
        const fansUrl = this.link(ts.Fans?.['@odata.id'], sub, 'Fans');
        const metrics = metricsUrl ? await this.get(metricsUrl, rf.thermalMetrics, true) : null;
        const readings = metrics?.TemperatureReadingsCelsius ?? [];
        const sources = readings.map((t, i) =>
          metricsUrl ? this.link(t.DataSourceUri, metricsUrl, `TemperatureReadingsCelsius[${i}].DataSourceUri`) : null,
        );
        const sensors = await Promise.all(sources.map((u) => (u ? this.get(u, rf.sensor, true) : null)));
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
        for (const f of fansUrl ? await this.members(fansUrl, rf.fan) : []) {
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

  private async readPower(
    chassisUrl: URL,
    chassis: z.infer<typeof rf.chassis>,
    reading: Pick<BmcReading, 'powerSupplies' | 'psuRedundancy' | 'powerConsumedWatts' | 'sources'>,
    gaps: string[],
  ): Promise<void> {
    const sub = this.link(chassis.PowerSubsystem?.['@odata.id'], chassisUrl, 'PowerSubsystem');
    const old = this.link(chassis.Power?.['@odata.id'], chassisUrl, 'Power');
    const envUrl = this.link(chassis.EnvironmentMetrics?.['@odata.id'], chassisUrl, 'EnvironmentMetrics');
    if (sub) {
      const ps = await this.get(sub, rf.powerSubsystem, true);
      if (ps) {
        reading.sources.power = 'PowerSubsystem';
        const suppliesUrl = this.link(ps.PowerSupplies?.['@odata.id'], sub, 'PowerSupplies');
        reading.powerSupplies = (suppliesUrl ? await this.members(suppliesUrl, rf.subsystemPowerSupply) : []).map(
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
        const env = envUrl ? await this.get(envUrl, rf.environmentMetrics, true) : null;
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

  private async readSel(logServices: Array<URL | null>, gaps: string[]): Promise<BmcEvent[]> {
    for (const url of logServices) {
      if (!url) continue;
      const services = await this.members(url, rf.logService);
      const sel = services.find((s) => s.LogEntryType === 'SEL' || /^sel$/i.test(s.Id ?? ''));
      const entries = this.link(sel?.Entries?.['@odata.id'], `${pathOf(url)} SEL`, 'Entries');
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
    const { url, system } = await this.readSystem();
    const action = system.Actions?.['#ComputerSystem.Reset'];
    const target =
      this.link(action?.target, url, 'Actions.#ComputerSystem.Reset.target') ??
      this.follow(`${pathOf(url).replace(/\/$/, '')}/Actions/ComputerSystem.Reset`, pathOf(url), 'reset action');
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
        `${this.base.host}: POST ${pathOf(target)} (ResetType ${type}) answered HTTP ${res.status}`,
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

/** A URL as messages show it: the path and query on the BMC. */
function pathOf(url: URL): string {
  return `${url.pathname}${url.search}`;
}
