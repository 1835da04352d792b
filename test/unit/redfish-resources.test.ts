/**
 * The Redfish client on the resources sushy-tools does not emulate, served
 * from hand-written, DMTF-shaped fixtures by a local HTTP server: sessions
 * (login, re-login when the token expires), ThermalSubsystem and
 * PowerSubsystem, EnvironmentMetrics, the SEL, MemoryMetrics, and a vendor
 * that omits or garbles parts. (The emulator test covers Thermal, resets and
 * basic authentication against a real Redfish service.)
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { BmcCredentials } from '../../activities/bmc/credentials';
import { RedfishClient } from '../../activities/bmc/redfish';

type Resources = Record<string, unknown>;
const SYS = '/redfish/v1/Systems/1';
const CH = '/redfish/v1/Chassis/1';

function newerBmc(): Resources {
  return {
    '/redfish/v1/': {
      Systems: { '@odata.id': '/redfish/v1/Systems' },
      Chassis: { '@odata.id': '/redfish/v1/Chassis' },
      Managers: { '@odata.id': '/redfish/v1/Managers' },
      Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } },
    },
    '/redfish/v1/Systems': { Members: [{ '@odata.id': SYS }] },
    [SYS]: {
      Id: '1',
      PowerState: 'On',
      BiosVersion: 'U46 v2.90',
      Status: { State: 'Enabled', Health: 'OK', HealthRollup: 'Warning' },
      ProcessorSummary: { Count: 2, Model: 'Xeon Gold 6338', Status: { Health: 'OK' } },
      MemorySummary: { TotalSystemMemoryGiB: 512, Status: { HealthRollup: 'OK' }, Metrics: { '@odata.id': `${SYS}/MemorySummary/MemoryMetrics` } },
      Links: { Chassis: [{ '@odata.id': CH }], ManagedBy: [{ '@odata.id': '/redfish/v1/Managers/1' }] },
      LogServices: { '@odata.id': `${SYS}/LogServices` },
      Actions: { '#ComputerSystem.Reset': { target: `${SYS}/Actions/ComputerSystem.Reset`, 'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'ForceRestart', 'PowerCycle'] } },
    },
    [`${SYS}/MemorySummary/MemoryMetrics`]: { LifeTime: { CorrectableECCErrorCount: 42 } },
    [`${SYS}/LogServices`]: { Members: [{ '@odata.id': `${SYS}/LogServices/SEL` }] },
    [`${SYS}/LogServices/SEL`]: { Id: 'SEL', LogEntryType: 'SEL', Entries: { '@odata.id': `${SYS}/LogServices/SEL/Entries` } },
    [`${SYS}/LogServices/SEL/Entries`]: {
      Members: [
        { '@odata.id': `${SYS}/LogServices/SEL/Entries/1`, Id: '1', Created: '2026-11-20T10:00:00Z', Severity: 'OK', Message: 'System boot' },
        { '@odata.id': `${SYS}/LogServices/SEL/Entries/2`, Id: '2', Created: '2026-11-24T03:12:00Z', Severity: 'Critical', Message: 'PSU 2 AC lost' },
      ],
    },
    [CH]: {
      ThermalSubsystem: { '@odata.id': `${CH}/ThermalSubsystem` },
      PowerSubsystem: { '@odata.id': `${CH}/PowerSubsystem` },
      EnvironmentMetrics: { '@odata.id': `${CH}/EnvironmentMetrics` },
    },
    [`${CH}/ThermalSubsystem`]: { ThermalMetrics: { '@odata.id': `${CH}/ThermalSubsystem/ThermalMetrics` }, Fans: { '@odata.id': `${CH}/ThermalSubsystem/Fans` } },
    [`${CH}/ThermalSubsystem/ThermalMetrics`]: {
      TemperatureReadingsCelsius: [
        { DataSourceUri: `${CH}/Sensors/Inlet`, DeviceName: 'Inlet', PhysicalContext: 'Intake', Reading: 36 },
        { DataSourceUri: `${CH}/Sensors/CPU1`, DeviceName: 'CPU1', PhysicalContext: 'CPU', Reading: 70 },
      ],
    },
    [`${CH}/Sensors/Inlet`]: { Reading: 36, Thresholds: { UpperCaution: { Reading: 38 }, UpperCritical: { Reading: 42 } }, Status: { Health: 'OK' } },
    [`${CH}/Sensors/CPU1`]: { Reading: 70, Thresholds: { UpperCaution: { Reading: 88 }, UpperCritical: { Reading: 98 } }, Status: { Health: 'OK' } },
    [`${CH}/ThermalSubsystem/Fans`]: { Members: [{ '@odata.id': `${CH}/ThermalSubsystem/Fans/1` }, { '@odata.id': `${CH}/ThermalSubsystem/Fans/2` }] },
    [`${CH}/ThermalSubsystem/Fans/1`]: { Id: '1', Name: 'Fan 1', SpeedPercent: { Reading: 40, SpeedRPM: 9000 }, Status: { Health: 'OK' } },
    [`${CH}/ThermalSubsystem/Fans/2`]: { Id: '2', Name: 'Fan 2', SpeedPercent: { Reading: 0 }, Status: { Health: 'Critical' } },
    [`${CH}/PowerSubsystem`]: {
      PowerSupplies: { '@odata.id': `${CH}/PowerSubsystem/PowerSupplies` },
      PowerSupplyRedundancy: [{ RedundancyType: 'Failover', MinNeededInGroup: 1, Status: { State: 'Enabled', Health: 'Critical' } }],
    },
    [`${CH}/PowerSubsystem/PowerSupplies`]: {
      Members: [
        { '@odata.id': `${CH}/PowerSubsystem/PowerSupplies/1`, Id: '1', Name: 'PSU 1', PowerCapacityWatts: 1400, Status: { State: 'Enabled', Health: 'OK' } },
        { '@odata.id': `${CH}/PowerSubsystem/PowerSupplies/2`, Id: '2', Name: 'PSU 2', PowerCapacityWatts: 1400, Status: { State: 'UnavailableOffline', Health: 'Critical' } },
      ],
    },
    [`${CH}/EnvironmentMetrics`]: { PowerWatts: { Reading: 412 } },
    '/redfish/v1/Managers/1': { FirmwareVersion: 'iDRAC 7.10.30.00' },
  };
}

/** A BMC from fixtures. With sessions: login issues a token; `expireTokens()` forgets them all, as a BMC's session timeout does. */
async function fixtureBmc(resources: Resources, auth: { user: string; password: string }) {
  const tokens = new Set<string>();
  let logins = 0;
  let n = 0;
  const body = (req: IncomingMessage) =>
    new Promise<string>((ok) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => ok(b));
    });
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0] as string;
    if (req.method === 'POST' && path === '/redfish/v1/SessionService/Sessions') {
      const creds = JSON.parse(await body(req)) as { UserName: string; Password: string };
      if (creds.UserName !== auth.user || creds.Password !== auth.password) return void res.writeHead(401).end();
      const token = `tok-${++n}`;
      tokens.add(token);
      logins++;
      return void res.writeHead(201, { 'X-Auth-Token': token, Location: `/redfish/v1/SessionService/Sessions/${n}` }).end('{}');
    }
    if (path !== '/redfish/v1/' && !tokens.has(String(req.headers['x-auth-token']))) return void res.writeHead(401).end();
    const found = resources[path];
    if (found === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(typeof found === 'string' ? found : JSON.stringify(found));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    logins: () => logins,
    expireTokens: () => tokens.clear(),
    close: () => new Promise((ok) => server.close(ok)),
  };
}

const access = BmcCredentials.fromText('vendor:\n  username: root\n  password: calvin\n', 'fixture credentials').resolve('vendor');
const client = (url: string) => new RedfishClient({ address: url, systemId: null, ...access });

test('newer resources: ThermalSubsystem with sensor thresholds, fans, PowerSubsystem with redundancy, EnvironmentMetrics, SEL, memory error counts', async () => {
  const bmc = await fixtureBmc(newerBmc(), { user: 'root', password: 'calvin' });
  try {
    const r = await client(bmc.url).read();
    expect(r).toMatchObject({
      power: 'on',
      health: 'warning',
      biosVersion: 'U46 v2.90',
      processors: { count: 2, model: 'Xeon Gold 6338', health: 'ok' },
      memory: { totalGiB: 512, health: 'ok', correctableErrors: 42 },
      sources: { thermal: 'ThermalSubsystem', power: 'PowerSubsystem' },
      powerConsumedWatts: 412,
      psuRedundancy: 'lost',
      bmcFirmware: 'iDRAC 7.10.30.00',
      gaps: [],
    });
    expect(r.temperatures).toEqual([
      { name: 'Inlet', celsius: 36, context: 'Intake', upperWarning: 38, upperCritical: 42, health: 'ok' },
      { name: 'CPU1', celsius: 70, context: 'CPU', upperWarning: 88, upperCritical: 98, health: 'ok' },
    ]);
    expect(r.fans).toEqual([
      { name: 'Fan 1', reading: 9000, units: 'RPM', health: 'ok' },
      { name: 'Fan 2', reading: 0, units: 'Percent', health: 'critical' },
    ]);
    expect(r.powerSupplies.map((p) => [p.name, p.health, p.state])).toEqual([
      ['PSU 1', 'ok', 'Enabled'],
      ['PSU 2', 'critical', 'UnavailableOffline'],
    ]);
    expect(r.events.map((e) => [e.severity, e.message])).toEqual([
      ['ok', 'System boot'],
      ['critical', 'PSU 2 AC lost'],
    ]);
  } finally {
    await bmc.close();
  }
});

test('sessions: one login is reused across reads and clients; an expired token logs in again once', async () => {
  const bmc = await fixtureBmc(newerBmc(), { user: 'root', password: 'calvin' });
  try {
    await client(bmc.url).read();
    await client(bmc.url).readPowerState();
    expect(bmc.logins()).toBe(1);
    bmc.expireTokens();
    expect(await client(bmc.url).readPowerState()).toBe('on');
    expect(bmc.logins()).toBe(2);
  } finally {
    await bmc.close();
  }
});

test('a vendor that omits resources is read with gaps; one that garbles a sensor keeps the others', async () => {
  const sparse = newerBmc();
  delete sparse[CH];
  delete sparse['/redfish/v1/Managers/1'];
  delete sparse[`${SYS}/LogServices`];
  delete sparse[`${SYS}/MemorySummary/MemoryMetrics`];
  const bmc = await fixtureBmc(sparse, { user: 'root', password: 'calvin' });
  try {
    const r = await client(bmc.url).read();
    expect(r.gaps).toEqual(['chassis', 'manager', 'SEL', 'memory error counts']);
    expect(r).toMatchObject({ power: 'on', temperatures: [], psuRedundancy: 'unknown', bmcFirmware: null });
  } finally {
    await bmc.close();
  }

  const older = newerBmc();
  older[CH] = { Thermal: { '@odata.id': `${CH}/Thermal` }, Power: { '@odata.id': `${CH}/Power` } };
  older[`${CH}/Thermal`] = {
    Temperatures: [
      { Name: 'Inlet Temp', PhysicalContext: 'Intake', ReadingCelsius: 24, UpperThresholdNonCritical: 38, UpperThresholdCritical: 42 },
      { Name: 'Broken', ReadingCelsius: 'N/A' },
    ],
    Fans: [{ Name: 'Fan1', Reading: 5000, ReadingUnits: 'RPM', Status: { Health: 'OK' } }],
  };
  older[`${CH}/Power`] = {
    PowerControl: [{ PowerConsumedWatts: 298 }],
    PowerSupplies: [{ Name: 'PS1', Status: { Health: 'OK', State: 'Enabled' } }, { Name: 'PS2', Status: { Health: 'OK', State: 'Enabled' } }],
    Redundancy: [{ Name: 'PSU Redundancy', Mode: 'N+m', Status: { Health: 'OK', State: 'Enabled' } }],
  };
  const bmc2 = await fixtureBmc(older, { user: 'root', password: 'calvin' });
  try {
    const r = await client(bmc2.url).read();
    expect(r.sources).toEqual({ thermal: 'Thermal', power: 'Power' });
    expect(r.temperatures.map((t) => t.name)).toEqual(['Inlet Temp']);
    expect(r.gaps).toEqual(['Temperatures[1] ignored: ReadingCelsius: Invalid input: expected number, received string']);
    expect(r).toMatchObject({ powerConsumedWatts: 298, psuRedundancy: 'ok' });
  } finally {
    await bmc2.close();
  }
});

test('the system resource itself garbled, or not JSON, fails the read naming the resource and field', async () => {
  const bad = newerBmc();
  (bad[SYS] as Record<string, unknown>).PowerState = 1;
  const bmc = await fixtureBmc(bad, { user: 'root', password: 'calvin' });
  try {
    await expect(client(bmc.url).read()).rejects.toMatchObject({ kind: 'garbage', message: expect.stringMatching(/GET \/redfish\/v1\/Systems\/1: PowerState: /) });
  } finally {
    await bmc.close();
  }
  const html = newerBmc();
  html[SYS] = '<html>login</html>';
  const bmc2 = await fixtureBmc(html, { user: 'root', password: 'calvin' });
  try {
    await expect(client(bmc2.url).read()).rejects.toMatchObject({ kind: 'garbage', message: expect.stringMatching(/did not answer JSON/) });
  } finally {
    await bmc2.close();
  }
});

test('credentials files: errors name the entry and field and never echo a secret', () => {
  expect(() => BmcCredentials.fromText('lab:\n  username: a\n', 'c.yaml')).toThrow(/^c\.yaml: lab\.password: set exactly one of password and passwordFile$/);
  expect(() => BmcCredentials.fromText('lab:\n  username: a\n  password: s3cret\n  auth: digest\n', 'c.yaml')).toThrow(/lab\.auth/);
  expect(() => BmcCredentials.fromText('lab:\n  username: a\n  password: s3cret\n  extra: 1\n', 'c.yaml')).not.toThrow(/s3cret/);
  expect(() => BmcCredentials.fromText('lab:\n  username: a\n  passwordFile: /nonexistent/x\n', 'c.yaml')).toThrow(/lab\.passwordFile: cannot read \/nonexistent\/x \(ENOENT\)/);
  expect(() => BmcCredentials.fromText('{{', 'c.yaml')).toThrow(/^c\.yaml: not YAML/);
});
