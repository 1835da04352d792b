/**
 * Credentials stay on the BMC they belong to. Every path after the service
 * root comes from the BMC's own answers; a hostile or misconfigured BMC that
 * points a link at another origin (here: another loopback port, which records
 * whatever reaches it) gets a refusal naming the resource and the link, and
 * the other origin receives nothing: no password, no Authorization, no token.
 * And credentials do not go over plain http unless their entry allows it.
 *
 * The fixture BMC serves plain http on loopback, so the credentials used
 * against it set allowPlainHttp: true, except where that is what is tested.
 */
import { BmcCredentials } from '../../providers/redfish/credentials';
import { RedfishClient } from '../../providers/redfish/client';
import { linkOnOrigin } from '../../providers/http';
import { newerBmcService, startFixtureBmc, type Resources } from '../../bench/redfish-fixture';
import { startElsewhere, type Elsewhere } from '../support/elsewhere';

const SYS = '/redfish/v1/Systems/1';
const CH = '/redfish/v1/Chassis/1';
const AUTH = { user: 'root', password: 'calvin-origin-test' };
const credentialsFile = (extra: string) =>
  `vendor:\n  username: ${AUTH.user}\n  password: ${AUTH.password}\n  timeoutSeconds: 5\n${extra}`;
const plainHttpAllowed = BmcCredentials.fromText(credentialsFile('  allowPlainHttp: true\n'), 'c').resolve('vendor');
const client = (url: string, access = plainHttpAllowed) =>
  new RedfishClient({ address: url, systemId: null, ...access });

let elsewhere: Elsewhere;
beforeEach(async () => {
  elsewhere = await startElsewhere();
});
afterEach(async () => {
  await elsewhere.close();
});

const at = (r: Resources, path: string) => r[path] as Record<string, any>;

/** [what the BMC points elsewhere, the resource and field the refusal names, how the link is bent, what is asked]. */
const hostile: Array<[string, string, (r: Resources, away: string) => string, 'read' | 'reset']> = [
  [
    "the unauthenticated root's Links.Sessions (where the password is POSTed)",
    '/redfish/v1/ Links.Sessions',
    (r, away) => (at(r, '/redfish/v1/').Links.Sessions['@odata.id'] = `${away}/redfish/v1/SessionService/Sessions`),
    'read',
  ],
  [
    'a member of the systems collection (@odata.id)',
    '/redfish/v1/Systems Members[0]',
    (r, away) => (at(r, '/redfish/v1/Systems').Members[0]['@odata.id'] = `${away}${SYS}`),
    'read',
  ],
  [
    "the system's chassis link, protocol-relative",
    `${SYS} Links.Chassis[0]`,
    (r, away) => (at(r, SYS).Links.Chassis[0]['@odata.id'] = `${away.replace('http:', '')}${CH}`),
    'read',
  ],
  [
    "the chassis's ThermalSubsystem",
    `${CH} ThermalSubsystem`,
    (r, away) => (at(r, CH).ThermalSubsystem['@odata.id'] = `${away}${CH}/ThermalSubsystem`),
    'read',
  ],
  [
    "the older chassis's Thermal",
    `${CH} Thermal`,
    (r, away) => {
      r[CH] = { Thermal: { '@odata.id': `${away}${CH}/Thermal` } };
      return `${away}${CH}/Thermal`;
    },
    'read',
  ],
  [
    "a temperature's DataSourceUri",
    `${CH}/ThermalSubsystem/ThermalMetrics TemperatureReadingsCelsius[1].DataSourceUri`,
    (r, away) =>
      (at(r, `${CH}/ThermalSubsystem/ThermalMetrics`).TemperatureReadingsCelsius[1].DataSourceUri =
        `${away}${CH}/Sensors/CPU1`),
    'read',
  ],
  [
    'a fan listed only by its link',
    `${CH}/ThermalSubsystem/Fans Members[1]`,
    (r, away) =>
      (at(r, `${CH}/ThermalSubsystem/Fans`).Members[1]['@odata.id'] = `${away}${CH}/ThermalSubsystem/Fans/2`),
    'read',
  ],
  [
    "the reset action's target",
    `${SYS} Actions.#ComputerSystem.Reset.target`,
    (r, away) => (at(r, SYS).Actions['#ComputerSystem.Reset'].target = `${away}${SYS}/Actions/ComputerSystem.Reset`),
    'reset',
  ],
];

test.each(hostile)(
  'a BMC that points %s at another origin is refused, naming the resource and the link; nothing reaches the other origin',
  async (_what, resource, bend, ask) => {
    const resources = newerBmcService(['1']);
    const link = bend(resources, elsewhere.url);
    const bmc = await startFixtureBmc(resources, AUTH);
    try {
      const c = client(bmc.url);
      const outcome = ask === 'read' ? c.read() : c.reset('ForceRestart');
      await expect(outcome).rejects.toMatchObject({
        kind: 'refused',
        message: `${resource} link: ${link} is not on this BMC (${bmc.url}); not followed, nothing sent`,
      });
      expect(elsewhere.received).toEqual([]);
    } finally {
      await bmc.close();
    }
  },
);

test('credentials are not sent over plain http unless their entry says allowPlainHttp: true; refused, nothing reaches the BMC', async () => {
  const bmc = await startFixtureBmc(newerBmcService(['1']), AUTH);
  try {
    const strict = BmcCredentials.fromText(credentialsFile(''), 'c').resolve('vendor');
    await expect(client(bmc.url, strict).readPowerState()).rejects.toMatchObject({
      kind: 'refused',
      message: `${bmc.url}: BMC credentials are not sent over plain http; use https, or set allowPlainHttp: true in this BMC's credentials entry`,
    });
    await expect(client(bmc.url, strict).reset('ForceRestart')).rejects.toMatchObject({ kind: 'refused' });
    expect(bmc.requests()).toBe(0);
    expect(bmc.logins()).toBe(0);
    expect(await client(bmc.url, plainHttpAllowed).readPowerState()).toBe('on');
    expect(bmc.logins()).toBe(1);
  } finally {
    await bmc.close();
  }
});

test('credentials files: allowPlainHttp must be a boolean; the error names the entry and field, never the password', () => {
  const bad = () => BmcCredentials.fromText(credentialsFile('  allowPlainHttp: "yes"\n'), 'c.yaml');
  expect(bad).toThrow(/^c\.yaml: vendor\.allowPlainHttp: .*expected boolean/);
  expect(bad).not.toThrow(new RegExp(AUTH.password));
});

const BASE = new URL('https://10.0.0.5/');
test.each([
  ['an absolute path', '/redfish/v1/Systems/1', 'https://10.0.0.5/redfish/v1/Systems/1'],
  ['a path relative to the base', 'redfish/v1/Chassis', 'https://10.0.0.5/redfish/v1/Chassis'],
  ['the same origin written with its default port', 'https://10.0.0.5:443/redfish/v1/', 'https://10.0.0.5/redfish/v1/'],
  [
    'the scheme in capitals, with a query',
    'HTTPS://10.0.0.5/redfish/v1/?$top=5',
    'https://10.0.0.5/redfish/v1/?$top=5',
  ],
  ['another port', 'https://10.0.0.5:8443/redfish/v1/', null],
  ['another scheme (plain http)', 'http://10.0.0.5/redfish/v1/', null],
  ['another host', 'https://evil.example/redfish/v1/', null],
  ['a host that starts like the BMC', 'https://10.0.0.5.evil.example/redfish/v1/', null],
  ['a protocol-relative link', '//evil.example/redfish/v1/', null],
  ['a backslashed protocol-relative link', '/\\evil.example/redfish/v1/', null],
  ['user information in the link', 'https://admin:pw@10.0.0.5/redfish/v1/', null],
  ['another scheme altogether', 'javascript:alert(1)', null],
  ['a link that is not a URL', 'https://[::1', null],
])('linkOnOrigin: %s', (_what, ref, expected) => {
  expect(linkOnOrigin(ref, BASE)?.href ?? null).toBe(expected);
});
