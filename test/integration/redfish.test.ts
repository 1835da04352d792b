/**
 * The Redfish client against a real Redfish service: the sushy-tools
 * emulator (fake system driver), started by this test. Power, thermal and
 * health are read; resets change the observed power state; credentials are
 * required and never leave the worker; a sweep reads emulated BMCs through
 * the whole pipeline into the API.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BmcCredentials } from '../../providers/redfish/credentials';
import { BmcError } from '../../providers/bmc';
import { RedfishClient } from '../../providers/redfish/client';
import { syncInventory } from '../../activities/inventory';
import { pointBmcAt } from '../../providers/simulated/admin';
import type { telemetrySweepWorkflow } from '../../workflows/telemetry';
import { createTestEnv, type TestEnv } from '../support/env';
import { http } from '../support/http';
import { startRedfishEmulator, type RunningRedfishEmulator } from '../support/redfish-emulator';

const USER = 'shipshape';
const PASSWORD = `pw-${randomUUID()}`;
let emulator: RunningRedfishEmulator;
let env: TestEnv;

// sushy-tools serves plain http on loopback, so these entries say their credentials may go over it (allowPlainHttp);
// 'strict' is the default, which refuses.
const credentials = BmcCredentials.fromText(
  `lab:\n  username: ${USER}\n  password: ${PASSWORD}\n  timeoutSeconds: 10\n  allowPlainHttp: true\n` +
    `wrong:\n  username: ${USER}\n  password: not-it\n  auth: basic\n  allowPlainHttp: true\n` +
    `strict:\n  username: ${USER}\n  password: ${PASSWORD}\n  auth: basic\n`,
  'test credentials',
);

beforeAll(async () => {
  emulator = await startRedfishEmulator({
    systems: [{ id: 'node-1' }, { id: 'node-2' }, { id: 'node-3', powerState: 'Off' }],
    auth: { username: USER, password: PASSWORD },
    powerTransitionSeconds: 1,
  });
  env = await createTestEnv({
    fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 1 },
    bmcCredentials: credentials,
  });
}, 60_000);
afterAll(async () => {
  await env?.close();
  await emulator?.stop();
});

const client = (systemId: string, ref: string | null = 'lab') =>
  new RedfishClient({ address: emulator.url, systemId, ...credentials.resolve(ref) });

test('reads power, thermal, health and firmware; tolerates what the emulator does not have', async () => {
  const r = await client('node-1').read();
  expect(r.power).toBe('on');
  expect(r.health).toBe('ok');
  expect(r.sources.thermal).toBe('Thermal');
  expect(r.temperatures.find((t) => t.context === 'Intake')).toMatchObject({
    celsius: expect.any(Number),
    upperCritical: expect.any(Number),
  });
  expect(r.fans.length).toBeGreaterThan(0);
  expect(r.bmcFirmware).toEqual(expect.any(String));
  // sushy-tools has no Power resource and no SEL: reported as gaps, not failures.
  expect(r.gaps).toEqual(expect.arrayContaining(['power', 'SEL']));
  expect(r.psuRedundancy).toBe('unknown');
  expect((await client('node-3').read()).power).toBe('off');
});

test('credentials are required: none, or a wrong password, is an auth error naming the BMC and resource', async () => {
  const anonymous = new RedfishClient({
    address: emulator.url,
    systemId: 'node-1',
    credentials: null,
    tls: {},
    timeoutMs: 5000,
  });
  await expect(anonymous.read()).rejects.toMatchObject({
    kind: 'auth',
    message: expect.stringMatching(/GET \/redfish\/v1\/Systems\/node-1 refused \(HTTP 401\)/),
  });
  const wrong = client('node-1', 'wrong');
  const err = await wrong.read().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BmcError);
  expect((err as BmcError).message).not.toContain('not-it');
  expect(() => credentials.resolve('missing')).toThrow(/no BMC credentials named "missing"/);
});

test('credentials whose entry does not allow plain http are not sent to the http:// emulator: refused, and it receives nothing', async () => {
  const logged = () => readFileSync(emulator.logFile, 'utf8');
  const before = logged();
  await expect(client('node-1', 'strict').read()).rejects.toMatchObject({
    kind: 'refused',
    message: expect.stringMatching(/not sent over plain http; .*allowPlainHttp: true/),
  });
  await expect(client('node-2', 'strict').reset('ForceOff')).rejects.toMatchObject({ kind: 'refused' });
  await new Promise((ok) => setTimeout(ok, 200)); // the emulator logs a request when it has answered it
  expect(logged()).toBe(before);
  expect(await client('node-2').readPowerState()).toBe('on'); // and the emulator logs what does reach it
  await new Promise((ok) => setTimeout(ok, 200));
  expect(logged()).not.toBe(before);
});

test('a reset changes the observed power state, polled until the target: ForceOff, On, and a power cycle', async () => {
  const bmc = client('node-2');
  expect(await bmc.resetAndWait('ForceOff', 20_000, 250)).toEqual({ used: 'ForceOff', power: 'off' });
  expect(await bmc.readPowerState()).toBe('off');
  expect(await bmc.resetAndWait('On', 20_000, 250)).toEqual({ used: 'On', power: 'on' });
  // The emulator lists PowerCycle but answers 501: the client falls back to ForceRestart, seen Off then On.
  const seen: string[] = [];
  const watching = (async () => {
    for (let i = 0; i < 40; i++) {
      seen.push(await bmc.readPowerState());
      await new Promise((ok) => setTimeout(ok, 100));
    }
  })();
  expect(await bmc.resetAndWait('power-cycle', 20_000, 250)).toEqual({ used: 'ForceRestart', power: 'on' });
  await watching;
  expect(seen).toContain('off');
  expect(seen.at(-1)).toBe('on');
  await expect(bmc.reset('Nmi' as never)).rejects.toThrow(/POST .*ResetType Nmi\) answered HTTP 501|not allowed/);
});

test('a sweep reads emulated BMCs into the API, with the credentials reference and never the secret', async () => {
  for (const [i, host] of ['cmp-a-01', 'cmp-a-02', 'cmp-a-03'].entries()) {
    await pointBmcAt(env.db, host, { address: emulator.url, systemId: `node-${i + 1}`, credentialsRef: 'lab' });
  }
  await syncInventory(env.db, env.provider);
  await env.startWorker();
  const summary = await env.client.workflow.execute<typeof telemetrySweepWorkflow>('telemetrySweepWorkflow', {
    taskQueue: env.taskQueue,
    workflowId: `${env.workflowIdPrefix}sweep-${randomUUID()}`,
    args: [{}],
  });
  expect(summary).toMatchObject({ hosts: 3 });
  const viewer = await env.token('victor', 'viewer');
  const host = (await http('GET', `${env.apiUrl}/v1/hosts/cmp-a-01`, viewer)).body;
  expect(host).toMatchObject({
    bmcReachable: true,
    bmc: { address: emulator.url, credentialsRef: 'lab', error: null },
  });
  expect(host.temperatures.some((t: { context: string }) => t.context === 'Intake')).toBe(true);
  expect(JSON.stringify(host)).not.toContain(PASSWORD);
  const { rows } = await env.db.query('SELECT bmc::text AS b FROM host_snapshots');
  expect(rows.every((r) => !r.b.includes(PASSWORD))).toBe(true);
});
