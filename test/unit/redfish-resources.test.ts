/**
 * The Redfish client on the resources sushy-tools does not emulate, served
 * from hand-written, DMTF-shaped fixtures by a local HTTP server: sessions
 * (login, re-login when the token expires), ThermalSubsystem and
 * PowerSubsystem, EnvironmentMetrics, the SEL, MemoryMetrics, and a vendor
 * that omits or garbles parts. (The emulator test covers Thermal, resets and
 * basic authentication against a real Redfish service.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BmcCredentials } from '../../providers/redfish/credentials';
import { RedfishClient } from '../../providers/redfish/client';
import { newerBmcService, startFixtureBmc } from '../../bench/redfish-fixture';

const SYS = '/redfish/v1/Systems/1';
const CH = '/redfish/v1/Chassis/1';
const newerBmc = () => newerBmcService(['1']);
const fixtureBmc = startFixtureBmc;

// The fixture serves plain http on loopback: the credentials say they may go there (redfish-origin.test.ts checks the refusal).
const access = BmcCredentials.fromText(
  'vendor:\n  username: root\n  password: calvin\n  allowPlainHttp: true\n',
  'fixture credentials',
).resolve('vendor');
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
      {
        Name: 'Inlet Temp',
        PhysicalContext: 'Intake',
        ReadingCelsius: 24,
        UpperThresholdNonCritical: 38,
        UpperThresholdCritical: 42,
      },
      { Name: 'Broken', ReadingCelsius: 'N/A' },
    ],
    Fans: [{ Name: 'Fan1', Reading: 5000, ReadingUnits: 'RPM', Status: { Health: 'OK' } }],
  };
  older[`${CH}/Power`] = {
    PowerControl: [{ PowerConsumedWatts: 298 }],
    PowerSupplies: [
      { Name: 'PS1', Status: { Health: 'OK', State: 'Enabled' } },
      { Name: 'PS2', Status: { Health: 'OK', State: 'Enabled' } },
    ],
    Redundancy: [{ Name: 'PSU Redundancy', Mode: 'N+m', Status: { Health: 'OK', State: 'Enabled' } }],
  };
  const bmc2 = await fixtureBmc(older, { user: 'root', password: 'calvin' });
  try {
    const r = await client(bmc2.url).read();
    expect(r.sources).toEqual({ thermal: 'Thermal', power: 'Power' });
    expect(r.temperatures.map((t) => t.name)).toEqual(['Inlet Temp']);
    expect(r.gaps).toEqual([
      'Temperatures[1] ignored: ReadingCelsius: Invalid input: expected number, received string',
    ]);
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
    await expect(client(bmc.url).read()).rejects.toMatchObject({
      kind: 'garbage',
      message: expect.stringMatching(/GET \/redfish\/v1\/Systems\/1: PowerState: /),
    });
  } finally {
    await bmc.close();
  }
  const html = newerBmc();
  html[SYS] = '<html>login</html>';
  const bmc2 = await fixtureBmc(html, { user: 'root', password: 'calvin' });
  try {
    await expect(client(bmc2.url).read()).rejects.toMatchObject({
      kind: 'garbage',
      message: expect.stringMatching(/did not answer JSON/),
    });
  } finally {
    await bmc2.close();
  }
});

test('credentials files: errors name the entry and field and never echo a secret', () => {
  expect(() => BmcCredentials.fromText('lab:\n  username: a\n', 'c.yaml')).toThrow(
    /^c\.yaml: lab\.password: set exactly one of password and passwordFile$/,
  );
  expect(() => BmcCredentials.fromText('lab:\n  username: a\n  password: s3cret\n  auth: digest\n', 'c.yaml')).toThrow(
    /lab\.auth/,
  );
  expect(() => BmcCredentials.fromText('lab:\n  username: a\n  password: s3cret\n  extra: 1\n', 'c.yaml')).not.toThrow(
    /s3cret/,
  );
  expect(() => BmcCredentials.fromText('lab:\n  username: a\n  passwordFile: /nonexistent/x\n', 'c.yaml')).toThrow(
    /lab\.passwordFile: cannot read \/nonexistent\/x \(ENOENT\)/,
  );
  expect(() => BmcCredentials.fromText('{{', 'c.yaml')).toThrow(/^c\.yaml: not YAML/);
});

test('TLS: a self-signed BMC is refused without its CA, read with the CA bundle, and read with insecure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const bmc = await fixtureBmc(newerBmc(), { user: 'root', password: 'calvin' }, 0, {
    cert,
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
  });
  const file = (tls: string) => `v:\n  username: root\n  password: calvin\n  tls: ${tls}\n`;
  const withTls = (tls: string) =>
    new RedfishClient({ address: bmc.url, systemId: null, ...BmcCredentials.fromText(file(tls), 'c').resolve('v') });
  try {
    await expect(withTls('{}').readPowerState()).rejects.toMatchObject({
      kind: 'unreachable',
      message: expect.stringMatching(/TLS: .*set the CA bundle/),
    });
    expect(await withTls(`{ caFile: ${join(dir, 'cert.pem')} }`).readPowerState()).toBe('on');
    expect(await withTls('{ insecure: true }').readPowerState()).toBe('on');
  } finally {
    await bmc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
