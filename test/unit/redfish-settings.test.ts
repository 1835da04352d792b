/**
 * The Redfish client's live read for compliance rules (`readSettings`) on
 * DMTF-shaped fixtures served on loopback: ComputerSystem Model and
 * BiosVersion, the Bios resource's Attributes, SecureBoot's SecureBootEnable,
 * the manager's FirmwareVersion, PowerSubsystem redundancy. Only the parts
 * asked for are read; a part that is missing or malformed is that field's
 * problem, naming the resource and the field, and the others still count.
 * (The sushy-tools emulator covers firmware, BIOS attributes and secure boot
 * end to end in test/integration/compliance-redfish.test.ts.)
 */
import { newerBmcService, startFixtureBmc, type Resources } from '../../bench/redfish-fixture';
import { REDFISH_FIELDS } from '../../domain/compliance-platform';
import { BmcCredentials } from '../../providers/redfish/credentials';
import { RedfishClient } from '../../providers/redfish/client';

const SYS = '/redfish/v1/Systems/1';
const access = BmcCredentials.fromText(
  'vendor:\n  username: root\n  password: calvin\n  allowPlainHttp: true\n',
  'fixture credentials',
).resolve('vendor');
const client = (url: string) => new RedfishClient({ address: url, systemId: null, ...access });

/** A recent rack server's BMC with the resources compliance reads. */
function server(change: (r: Resources) => void = () => {}): Resources {
  const r = newerBmcService(['1']);
  const system = r[SYS] as Record<string, unknown>;
  system.Model = 'PowerEdge R650';
  system.Bios = { '@odata.id': `${SYS}/Bios` };
  system.SecureBoot = { '@odata.id': `${SYS}/SecureBoot` };
  r[`${SYS}/Bios`] = {
    Id: 'Bios',
    Attributes: {
      ProcVirtualization: 'Enabled',
      SriovGlobalEnable: 'Disabled',
      NumLock: true,
      MemFrequency: 3200,
      X: null,
    },
  };
  r[`${SYS}/SecureBoot`] = { SecureBootEnable: true, SecureBootCurrentBoot: 'Enabled', SecureBootMode: 'DeployedMode' };
  change(r);
  return r;
}

async function withBmc<T>(resources: Resources, run: (url: string, requests: () => number) => Promise<T>): Promise<T> {
  const bmc = await startFixtureBmc(resources, { user: 'root', password: 'calvin' });
  try {
    return await run(bmc.url, bmc.requests);
  } finally {
    await bmc.close();
  }
}

test('reads every field from the DMTF resources: model, BIOS version and attributes, secure boot, BMC firmware, PSU redundancy', async () => {
  await withBmc(server(), async (url) => {
    expect(await client(url).readSettings(REDFISH_FIELDS)).toEqual({
      model: 'PowerEdge R650',
      biosVersion: 'U46 v2.90',
      bmcFirmware: 'iDRAC 7.10.30.00',
      // A null attribute value is no value: left out.
      biosAttributes: {
        ProcVirtualization: 'Enabled',
        SriovGlobalEnable: 'Disabled',
        NumLock: true,
        MemFrequency: 3200,
      },
      secureBoot: true,
      psuRedundancy: 'lost',
      problems: {},
    });
  });
});

test('reads only the parts the rules need: secure boot alone is the root, the system and SecureBoot', async () => {
  await withBmc(server(), async (url, requests) => {
    const before = requests();
    const r = await client(url).readSettings(['secureBoot']);
    expect(r).toMatchObject({ secureBoot: true, model: null, biosAttributes: null, bmcFirmware: null });
    // Session login (root, POST), root, Systems collection, the system, SecureBoot.
    expect(requests() - before).toBeLessThanOrEqual(6);
  });
});

test('takes the chassis Model when the system has none', async () => {
  const resources = server((r) => {
    delete (r[SYS] as Record<string, unknown>).Model;
    (r['/redfish/v1/Chassis/1'] as Record<string, unknown>).Model = 'ProLiant DL360 Gen10 Plus';
  });
  await withBmc(resources, async (url) => {
    expect((await client(url).readSettings(['model'])).model).toBe('ProLiant DL360 Gen10 Plus');
  });
});

test.each([
  [
    'SecureBootEnable that is not a boolean',
    (r: Resources) => ((r[`${SYS}/SecureBoot`] as Record<string, unknown>).SecureBootEnable = 'yes'),
    'secureBoot',
    /GET \/redfish\/v1\/Systems\/1\/SecureBoot: SecureBootEnable: .*expected boolean/i,
  ],
  [
    'a SecureBoot resource without SecureBootEnable',
    (r: Resources) => (r[`${SYS}/SecureBoot`] = { SecureBootCurrentBoot: 'Enabled' }),
    'secureBoot',
    /SecureBootEnable/,
  ],
  [
    'a Model that is a number',
    (r: Resources) => ((r[SYS] as Record<string, unknown>).Model = 650),
    'model',
    /GET \/redfish\/v1\/Systems\/1: Model: .*expected string/i,
  ],
  [
    'Attributes that are a list',
    (r: Resources) => (r[`${SYS}/Bios`] = { Attributes: ['ProcVirtualization=Enabled'] }),
    'biosAttributes',
    /GET \/redfish\/v1\/Systems\/1\/Bios: Attributes: /,
  ],
  [
    'an attribute value that is an object',
    (r: Resources) => (r[`${SYS}/Bios`] = { Attributes: { ProcVirtualization: { value: 'Enabled' } } }),
    'biosAttributes',
    /Attributes\.ProcVirtualization/,
  ],
  [
    'a Bios link that is not a link',
    (r: Resources) => ((r[SYS] as Record<string, unknown>).Bios = '/redfish/v1/Systems/1/Bios'),
    'biosAttributes',
    /GET \/redfish\/v1\/Systems\/1: Bios: /,
  ],
  [
    'a Bios resource the BMC does not have (404)',
    (r: Resources) => delete r[`${SYS}/Bios`],
    'biosAttributes',
    /GET \/redfish\/v1\/Systems\/1\/Bios \(Bios\) answered HTTP 404/,
  ],
  [
    'no SecureBoot link on the system',
    (r: Resources) => delete (r[SYS] as Record<string, unknown>).SecureBoot,
    'secureBoot',
    /the system links no SecureBoot resource/,
  ],
  [
    'a manager without FirmwareVersion',
    (r: Resources) => (r['/redfish/v1/Managers/1'] = {}),
    'bmcFirmware',
    /the manager has no FirmwareVersion/,
  ],
])('%s is a problem of that field only, naming it; the other fields are read', async (_, garble, field, message) => {
  await withBmc(server(garble), async (url) => {
    const r = await client(url).readSettings(REDFISH_FIELDS);
    expect(r.problems).toEqual({ [field]: expect.stringMatching(message) });
    expect(r).toMatchObject({ biosVersion: 'U46 v2.90', psuRedundancy: 'lost' });
  });
});

test('a system resource that is garbage fails the whole read, naming the field', async () => {
  const resources = server((r) => ((r[SYS] as Record<string, unknown>).BiosVersion = 290));
  await withBmc(resources, async (url) => {
    await expect(client(url).readSettings(['secureBoot'])).rejects.toMatchObject({
      kind: 'garbage',
      message: expect.stringMatching(/GET \/redfish\/v1\/Systems\/1: BiosVersion: /),
    });
  });
});

test('a BMC that does not answer fails the read as unreachable', async () => {
  const bmc = await startFixtureBmc(server(), { user: 'root', password: 'calvin' });
  const url = bmc.url;
  await bmc.close();
  await expect(client(url).readSettings(['secureBoot'])).rejects.toMatchObject({ kind: 'unreachable' });
});
