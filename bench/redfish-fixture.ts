/**
 * A Redfish service from hand-written, DMTF-shaped fixtures: the resources
 * sushy-tools does not emulate (sessions, ThermalSubsystem, PowerSubsystem,
 * EnvironmentMetrics, the SEL, MemoryMetrics), for any number of systems,
 * each with its own chassis and manager, behind one address. Used by the
 * Redfish resource tests and the sweep benchmark; not a product component.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';

export type Resources = Record<string, unknown>;

/** The resources of one server, as a recent BMC (Redfish 2020+) presents them. */
export function newerBmcResources(id = '1'): Resources {
  const SYS = `/redfish/v1/Systems/${id}`;
  const CH = `/redfish/v1/Chassis/${id}`;
  return {
    [SYS]: {
      Id: id,
      PowerState: 'On',
      BiosVersion: 'U46 v2.90',
      Status: { State: 'Enabled', Health: 'OK', HealthRollup: 'Warning' },
      ProcessorSummary: { Count: 2, Model: 'Xeon Gold 6338', Status: { Health: 'OK' } },
      MemorySummary: {
        TotalSystemMemoryGiB: 512,
        Status: { HealthRollup: 'OK' },
        Metrics: { '@odata.id': `${SYS}/MemorySummary/MemoryMetrics` },
      },
      Links: { Chassis: [{ '@odata.id': CH }], ManagedBy: [{ '@odata.id': `/redfish/v1/Managers/${id}` }] },
      LogServices: { '@odata.id': `${SYS}/LogServices` },
      Actions: {
        '#ComputerSystem.Reset': {
          target: `${SYS}/Actions/ComputerSystem.Reset`,
          'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'ForceRestart', 'PowerCycle'],
        },
      },
    },
    [`${SYS}/MemorySummary/MemoryMetrics`]: { LifeTime: { CorrectableECCErrorCount: 42 } },
    [`${SYS}/LogServices`]: { Members: [{ '@odata.id': `${SYS}/LogServices/SEL` }] },
    [`${SYS}/LogServices/SEL`]: {
      Id: 'SEL',
      LogEntryType: 'SEL',
      Entries: { '@odata.id': `${SYS}/LogServices/SEL/Entries` },
    },
    [`${SYS}/LogServices/SEL/Entries`]: {
      Members: [
        {
          '@odata.id': `${SYS}/LogServices/SEL/Entries/1`,
          Id: '1',
          Created: '2026-11-20T10:00:00Z',
          Severity: 'OK',
          Message: 'System boot',
        },
        {
          '@odata.id': `${SYS}/LogServices/SEL/Entries/2`,
          Id: '2',
          Created: '2026-11-24T03:12:00Z',
          Severity: 'Critical',
          Message: 'PSU 2 AC lost',
        },
      ],
    },
    [CH]: {
      ThermalSubsystem: { '@odata.id': `${CH}/ThermalSubsystem` },
      PowerSubsystem: { '@odata.id': `${CH}/PowerSubsystem` },
      EnvironmentMetrics: { '@odata.id': `${CH}/EnvironmentMetrics` },
    },
    [`${CH}/ThermalSubsystem`]: {
      ThermalMetrics: { '@odata.id': `${CH}/ThermalSubsystem/ThermalMetrics` },
      Fans: { '@odata.id': `${CH}/ThermalSubsystem/Fans` },
    },
    [`${CH}/ThermalSubsystem/ThermalMetrics`]: {
      TemperatureReadingsCelsius: [
        { DataSourceUri: `${CH}/Sensors/Inlet`, DeviceName: 'Inlet', PhysicalContext: 'Intake', Reading: 36 },
        { DataSourceUri: `${CH}/Sensors/CPU1`, DeviceName: 'CPU1', PhysicalContext: 'CPU', Reading: 70 },
      ],
    },
    [`${CH}/Sensors/Inlet`]: {
      Reading: 36,
      Thresholds: { UpperCaution: { Reading: 38 }, UpperCritical: { Reading: 42 } },
      Status: { Health: 'OK' },
    },
    [`${CH}/Sensors/CPU1`]: {
      Reading: 70,
      Thresholds: { UpperCaution: { Reading: 88 }, UpperCritical: { Reading: 98 } },
      Status: { Health: 'OK' },
    },
    [`${CH}/ThermalSubsystem/Fans`]: {
      Members: [{ '@odata.id': `${CH}/ThermalSubsystem/Fans/1` }, { '@odata.id': `${CH}/ThermalSubsystem/Fans/2` }],
    },
    [`${CH}/ThermalSubsystem/Fans/1`]: {
      Id: '1',
      Name: 'Fan 1',
      SpeedPercent: { Reading: 40, SpeedRPM: 9000 },
      Status: { Health: 'OK' },
    },
    [`${CH}/ThermalSubsystem/Fans/2`]: {
      Id: '2',
      Name: 'Fan 2',
      SpeedPercent: { Reading: 0 },
      Status: { Health: 'Critical' },
    },
    [`${CH}/PowerSubsystem`]: {
      PowerSupplies: { '@odata.id': `${CH}/PowerSubsystem/PowerSupplies` },
      PowerSupplyRedundancy: [
        { RedundancyType: 'Failover', MinNeededInGroup: 1, Status: { State: 'Enabled', Health: 'Critical' } },
      ],
    },
    [`${CH}/PowerSubsystem/PowerSupplies`]: {
      Members: [
        {
          '@odata.id': `${CH}/PowerSubsystem/PowerSupplies/1`,
          Id: '1',
          Name: 'PSU 1',
          PowerCapacityWatts: 1400,
          Status: { State: 'Enabled', Health: 'OK' },
        },
        {
          '@odata.id': `${CH}/PowerSubsystem/PowerSupplies/2`,
          Id: '2',
          Name: 'PSU 2',
          PowerCapacityWatts: 1400,
          Status: { State: 'UnavailableOffline', Health: 'Critical' },
        },
      ],
    },
    [`${CH}/EnvironmentMetrics`]: { PowerWatts: { Reading: 412 } },
    [`/redfish/v1/Managers/${id}`]: { FirmwareVersion: 'iDRAC 7.10.30.00' },
  };
}

/** The service root and collections for these systems, plus each system's own resources. */
export function newerBmcService(ids: string[] = ['1']): Resources {
  const members = (kind: string) => ({ Members: ids.map((id) => ({ '@odata.id': `/redfish/v1/${kind}/${id}` })) });
  return Object.assign(
    {
      '/redfish/v1/': {
        Systems: { '@odata.id': '/redfish/v1/Systems' },
        Chassis: { '@odata.id': '/redfish/v1/Chassis' },
        Managers: { '@odata.id': '/redfish/v1/Managers' },
        Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } },
      },
      '/redfish/v1/Systems': members('Systems'),
      '/redfish/v1/Chassis': members('Chassis'),
      '/redfish/v1/Managers': members('Managers'),
    },
    ...ids.map((id) => newerBmcResources(id)),
  );
}

export interface FixtureBmc {
  url: string;
  logins(): number;
  requests(): number;
  /** Forget every session token, as a BMC's session timeout does. */
  expireTokens(): void;
  close(): Promise<void>;
}

/**
 * Serve `resources` with session authentication (the root needs none). A
 * string resource is sent as is (to serve garbage); `latencyMs` delays every
 * answer, as a real BMC's slow embedded web server does.
 */
export async function startFixtureBmc(
  resources: Resources,
  auth: { user: string; password: string },
  latencyMs = 0,
  tls?: { cert: string; key: string },
): Promise<FixtureBmc> {
  const tokens = new Set<string>();
  let logins = 0;
  let requests = 0;
  let n = 0;
  const body = (req: IncomingMessage) =>
    new Promise<string>((ok) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => ok(b));
    });
  const handler: RequestListener = async (req, res) => {
    requests++;
    if (latencyMs > 0) await new Promise((ok) => setTimeout(ok, latencyMs));
    const path = (req.url ?? '').split('?')[0] as string;
    if (req.method === 'POST' && path === '/redfish/v1/SessionService/Sessions') {
      const creds = JSON.parse(await body(req)) as { UserName: string; Password: string };
      if (creds.UserName !== auth.user || creds.Password !== auth.password) return void res.writeHead(401).end();
      const token = `tok-${++n}`;
      tokens.add(token);
      logins++;
      return void res
        .writeHead(201, { 'X-Auth-Token': token, Location: `/redfish/v1/SessionService/Sessions/${n}` })
        .end('{}');
    }
    if (path !== '/redfish/v1/' && !tokens.has(String(req.headers['x-auth-token'])))
      return void res.writeHead(401).end();
    const found = resources[path];
    if (found === undefined) return void res.writeHead(404).end();
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(typeof found === 'string' ? found : JSON.stringify(found));
  };
  const server: Server = tls ? createTlsServer(tls, handler) : createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as { port: number }).port}`,
    logins: () => logins,
    requests: () => requests,
    expireTokens: () => tokens.clear(),
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
