/**
 * Compliance rules of kind `redfish` read live from real Redfish BMCs: the
 * sushy-tools emulator (test/support/redfish-emulator.ts), its fake driver
 * given a BIOS (version and attributes) and secure boot per system. A scan
 * started through the API reads each host's BMC with the worker's
 * credentials, because the sweep's snapshot has no model, BIOS attributes or
 * secure boot; firmware, a BIOS attribute and secure boot pass or fail for the
 * reason the emulated systems differ, a BMC without a BIOS resource is an
 * error naming it, and a BMC that does not answer makes every redfish rule
 * an `error` naming why while the scan completes.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syncInventory } from '../../activities/inventory';
import { BmcCredentials } from '../../providers/redfish/credentials';
import { pointBmcAt } from '../../providers/simulated/admin';
import { SshCredentials } from '../../providers/ssh/credentials';
import { freePort } from '../../scripts/services';
import { complianceActivities, findingsByRule, runScan, type ScanView } from '../support/compliance';
import { createTestEnv, type TestEnv } from '../support/env';
import { http } from '../support/http';
import { startRedfishEmulator, type RunningRedfishEmulator } from '../support/redfish-emulator';

const USER = 'shipshape';
const PASSWORD = `pw-${randomUUID()}`;
const credentials = BmcCredentials.fromText(
  `lab:\n  username: ${USER}\n  password: ${PASSWORD}\n  auth: basic\n  timeoutSeconds: 3\n  allowPlainHttp: true\n`,
  'test credentials',
);

/** sushy's chassis is a "3500RX" and its manager's firmware "1.00"; the systems' BIOS is what the test gives them. */
const PROFILE = `
name: lab-hardware
version: '1'
prefix: lab
description: The emulated BMCs against allowed firmware, a BIOS setting and secure boot.
rules:
  - id: lab.bios-version
    title: BIOS version allowed
    severity: warning
    rationale: tested firmware only
    kind: redfish
    check: { type: firmware, component: bios, allowed: { 3500RX: ['2.4.1'] }, unlistedModels: fail }
  - id: lab.bmc-firmware
    title: BMC firmware allowed
    severity: warning
    rationale: tested firmware only
    kind: redfish
    check: { type: firmware, component: bmc, allowed: { 3500RX: ['1.00'] }, unlistedModels: fail }
  - id: lab.bmc-firmware-new
    title: BMC firmware is the new release
    severity: info
    rationale: the fleet is moving to 2.00
    kind: redfish
    check: { type: firmware, component: bmc, allowed: { 3500RX: ['2.00'] }, unlistedModels: fail }
  - id: lab.virtualization
    title: CPU virtualization is on
    severity: critical
    rationale: a hypervisor needs VT-x
    kind: redfish
    check: { type: bios-attribute, attribute: ProcVirtualization, expected: Enabled }
  - id: lab.secure-boot
    title: Secure boot is on
    severity: warning
    rationale: signed boot chain
    kind: redfish
    check: { type: secure-boot, enabled: true }
  - id: lab.psu
    title: Power supplies are redundant
    severity: critical
    rationale: one feed can go
    kind: redfish
    check: { type: psu-redundancy }
`;

let emulator: RunningRedfishEmulator;
let env: TestEnv;
let profilesDir: string;
let operator: string;
let viewer: string;

beforeAll(async () => {
  emulator = await startRedfishEmulator({
    systems: [
      {
        id: 'node-good',
        biosVersion: '2.4.1',
        biosAttributes: { ProcVirtualization: 'Enabled', BootMode: 'Uefi', NumCores: 32 },
        secureBoot: true,
      },
      {
        id: 'node-bad',
        biosVersion: '2.3.0',
        biosAttributes: { ProcVirtualization: 'Disabled', BootMode: 'Uefi', NumCores: 32 },
        secureBoot: false,
      },
      { id: 'node-plain' },
    ],
    auth: { username: USER, password: PASSWORD },
  });
  profilesDir = mkdtempSync(join(tmpdir(), 'shipshape-profiles-'));
  writeFileSync(join(profilesDir, 'lab-hardware.yaml'), PROFILE);
  env = await createTestEnv({
    fleet: { zones: ['zone-a'], hostsPerZone: 4, serversPerHost: 0 },
    bmcCredentials: credentials,
  });
  const nobody = `http://127.0.0.1:${await freePort()}`; // nothing listens there
  const bmcs = [
    ['cmp-a-01', emulator.url, 'node-good'],
    ['cmp-a-02', emulator.url, 'node-bad'],
    ['cmp-a-03', emulator.url, 'node-plain'],
    ['cmp-a-04', nobody, 'node-x'],
  ] as const;
  for (const [host, address, systemId] of bmcs)
    await pointBmcAt(env.db, host, { address, systemId, credentialsRef: 'lab' });
  await syncInventory(env.db, env.provider);
  await env.startWorker(complianceActivities(env, { sshCredentials: SshCredentials.empty(), profilesDir }));
  operator = await env.token('olivia', 'operator');
  viewer = await env.token('victor', 'viewer');
}, 120_000);

afterAll(async () => {
  await env?.close();
  await emulator?.stop();
  if (profilesDir) rmSync(profilesDir, { recursive: true, force: true });
});

const scan = (hosts: string[]) => runScan(env, { operator, viewer }, { hosts, profiles: ['lab-hardware'] });
const findingsOf = (host: string) => findingsByRule(env, viewer, host);

describe('a scan of hosts whose BMCs are sushy-tools emulators, read live', () => {
  let result: ScanView;
  beforeAll(async () => {
    result = await scan(['cmp-a-01', 'cmp-a-02', 'cmp-a-03', 'cmp-a-04']);
  }, 90_000);

  it('completes, every host scanned, the unreachable BMC failing no part of it', () => {
    expect(result).toMatchObject({ status: 'completed', error: null });
    expect(result.summary).toMatchObject({ hosts: 4, scanned: 4, failed: [] });
  });

  it('passes the host whose firmware, BIOS setting and secure boot are as the profile asks', async () => {
    const f = await findingsOf('cmp-a-01');
    expect(f['lab.bios-version']).toMatchObject({ state: 'pass', observed: '3500RX: BIOS 2.4.1' });
    expect(f['lab.bmc-firmware']).toMatchObject({ state: 'pass', observed: '3500RX: BMC firmware 1.00' });
    expect(f['lab.virtualization']).toMatchObject({ state: 'pass', observed: 'ProcVirtualization = Enabled' });
    expect(f['lab.secure-boot']).toMatchObject({ state: 'pass', observed: 'secure boot enabled' });
  });

  it('fails firmware that is not allowed for the model, naming the version and the allowed ones', async () => {
    const bad = await findingsOf('cmp-a-02');
    expect(bad['lab.bios-version']).toMatchObject({
      state: 'fail',
      reason: 'BIOS 2.3.0 is not allowed for 3500RX (allowed: 2.4.1)',
    });
    const good = await findingsOf('cmp-a-01');
    expect(good['lab.bmc-firmware-new']).toMatchObject({
      state: 'fail',
      reason: 'BMC firmware 1.00 is not allowed for 3500RX (allowed: 2.00)',
    });
  });

  it('fails a BIOS attribute with the value the BIOS holds, and secure boot that is off', async () => {
    const bad = await findingsOf('cmp-a-02');
    expect(bad['lab.virtualization']).toMatchObject({
      state: 'fail',
      reason: 'ProcVirtualization is Disabled, not Enabled',
    });
    expect(bad['lab.secure-boot']).toMatchObject({ state: 'fail', observed: 'secure boot disabled' });
  });

  it('gives a BMC without a BIOS resource an error naming it, and judges what it does have', async () => {
    const plain = await findingsOf('cmp-a-03');
    expect(plain['lab.virtualization']).toMatchObject({
      state: 'error',
      reason: expect.stringMatching(
        /GET \/redfish\/v1\/Systems\/node-plain: the system links no Bios resource \(live of /,
      ),
    });
    expect(plain['lab.bios-version']).toMatchObject({
      state: 'error',
      reason: expect.stringContaining('the system has no BiosVersion'),
    });
    expect(plain['lab.bmc-firmware']).toMatchObject({ state: 'pass' });
    expect(plain['lab.secure-boot']).toMatchObject({ state: 'fail', observed: 'secure boot disabled' });
  });

  it('gives power supply redundancy an error: the emulator has no Power resource', async () => {
    const f = await findingsOf('cmp-a-01');
    expect(f['lab.psu']).toMatchObject({
      state: 'error',
      reason: expect.stringContaining('has no Power or PowerSubsystem resource'),
    });
  });

  it('makes every redfish rule of a host whose BMC does not answer an error with the reason', async () => {
    const f = await findingsOf('cmp-a-04');
    expect(Object.keys(f)).toHaveLength(6);
    for (const finding of Object.values(f)) {
      expect(finding.state).toBe('error');
      expect(finding.reason).toMatch(/^BMC not read: .*(ECONNREFUSED|refused|unreachable|connect)/i);
    }
  });

  it('never shows the BMC password', async () => {
    const all = await http('GET', `${env.apiUrl}/v1/compliance/findings`, viewer);
    expect(JSON.stringify(all.body)).not.toContain(PASSWORD);
  });
});

test('a BIOS setting changed on the BMC is seen by the next scan (read live, not from a stale snapshot)', async () => {
  const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const patched = await fetch(`${emulator.url}/redfish/v1/Systems/node-bad/BIOS/Settings`, {
    method: 'PATCH',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ Attributes: { ProcVirtualization: 'Enabled' } }),
  });
  expect(patched.status).toBe(204);
  const secure = await fetch(`${emulator.url}/redfish/v1/Systems/node-bad/SecureBoot`, {
    method: 'PATCH',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ SecureBootEnable: true }),
  });
  expect(secure.status).toBe(204);
  expect(await scan(['cmp-a-02'])).toMatchObject({ status: 'completed' });
  const f = await findingsOf('cmp-a-02');
  expect(f['lab.virtualization']).toMatchObject({ state: 'pass', observed: 'ProcVirtualization = Enabled' });
  expect(f['lab.secure-boot']).toMatchObject({ state: 'pass' });
}, 90_000);
