/**
 * The OpenStack provider against the project's own test cloud (Keystone,
 * Placement, Nova with three fake computes, Glance, Neutron API, Ironic with
 * fake-hardware), through Shipshape's own API, on the real Temporal dev
 * server and PostgreSQL. The cloud is started by this file (about a minute
 * warm) and runs in the suite's second phase, after the rest, so its load
 * does not slow the other tests.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Worker } from '@temporalio/worker';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { loadCloudConfig, type CloudConfig } from '../../providers/openstack/cloud-config';
import { OpenStackError, OpenStackSession } from '../../providers/openstack/session';
import { OpenStackProvider } from '../../providers/openstack/provider';
import { syncInventory } from '../../activities/inventory';
import { createTestEnv, testPolicy, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';
import { spawnWorkerProcess } from '../support/worker-process';
import { startTestCloud, type TestCloud } from './cloud';

const IRONIC = { 'X-OpenStack-Ironic-API-Version': '1.46' };
const NOVA = { 'X-OpenStack-Nova-API-Version': '2.90' };

let cloud: TestCloud;
let config: CloudConfig;
/** The test's own session, for setting the scene and checking what Nova and Ironic say. */
let admin: OpenStackSession;
let env: TestEnv;
let operator: string;
const children: ChildProcess[] = [];

const POLICY = testPolicy('host-down', ['HostDown'], {
  confirm: ['power'],
  drain: { emptyTimeoutSeconds: 180 },
  ladder: [{ action: 'power-cycle', timeoutSeconds: 120, fixWithinSeconds: 30 }],
  verify: { attempts: 3, intervalSeconds: 1 },
});
/**
 * Evacuation with the default checks (host health, power, nova-compute), the
 * ones the README tells operators to use: while Shipshape's fence is on,
 * nova-compute reads down whether or not it came back. A real host may take
 * minutes to boot; two minutes covers the test cloud's restart of nova-compute.
 */
const EVACUATION_POLICY = testPolicy('host-down-evacuate', ['HostDownEvacuate'], {
  ...POLICY.policy,
  name: 'host-down-evacuate',
  confirm: undefined,
  ladder: [{ action: 'power-cycle', timeoutSeconds: 120, fixWithinSeconds: 120 }],
  drain: { emptyTimeoutSeconds: 180, evacuate: 'when-host-down' },
});
const COLD_POLICY = testPolicy('host-down-cold', ['HostDownCold'], {
  ...POLICY.policy,
  name: 'host-down-cold',
  drain: { emptyTimeoutSeconds: 180, coldMigrationFallback: true },
});

beforeAll(async () => {
  cloud = await startTestCloud(
    process.env.SHIPSHAPE_TEST_CLOUD_DIR
      ? {
          stateDir: process.env.SHIPSHAPE_TEST_CLOUD_DIR,
          portBase: Number(process.env.SHIPSHAPE_TEST_CLOUD_PORT_BASE ?? 23300),
        }
      : {},
  );
  config = loadCloudConfig({ OS_CLOUD: cloud.cloudName, OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml });
  admin = new OpenStackSession(config);
  // Each fake compute is also an Ironic node: that is where its power is.
  for (const [i, node] of cloud.ironicNodes.entries()) {
    await admin.request('baremetal', 'PATCH', `/v1/nodes/${node.uuid}`, {
      headers: IRONIC,
      body: [{ op: 'add', path: '/extra/shipshape_host', value: cloud.computeHosts[i] }],
    });
  }
  env = await createTestEnv({
    provider: () => new OpenStackProvider(config),
    policies: [POLICY, COLD_POLICY, EVACUATION_POLICY],
  });
  await syncInventory(env.db, env.provider);
  operator = await env.token('monitoring', 'operator');
}, 600_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await env?.close();
  await cloud?.stop();
}, 120_000);

// ---- helpers: what Nova and Ironic say ------------------------------------

async function serversOn(host: string): Promise<Array<{ id: string; status: string }>> {
  const { body } = await admin.request('compute', 'GET', `/servers/detail?all_tenants=1&host=${host}`, {
    headers: NOVA,
  });
  return (body as { servers: Array<{ id: string; status: string; 'OS-EXT-SRV-ATTR:host': string }> }).servers
    .filter((s) => s['OS-EXT-SRV-ATTR:host'] === host)
    .map((s) => ({ id: s.id, status: s.status }));
}
async function serverHost(id: string): Promise<string> {
  const { body } = await admin.request('compute', 'GET', `/servers/${id}`, { headers: NOVA });
  return (body as { server: { 'OS-EXT-SRV-ATTR:host': string } }).server['OS-EXT-SRV-ATTR:host'];
}
async function liveMigrations(id: string): Promise<Array<{ status: string }>> {
  const { body } = await admin.request(
    'compute',
    'GET',
    `/os-migrations?instance_uuid=${id}&migration_type=live-migration`,
    { headers: NOVA },
  );
  return (body as { migrations: Array<{ status: string }> }).migrations;
}
async function computeService(host: string): Promise<{ id: string; status: string; disabled_reason: string | null }> {
  const { body } = await admin.request('compute', 'GET', `/os-services?binary=nova-compute&host=${host}`, {
    headers: NOVA,
  });
  return (body as { services: Array<{ id: string; status: string; disabled_reason: string | null }> }).services[0]!;
}
async function setService(host: string, status: 'enabled' | 'disabled', reason?: string): Promise<void> {
  const svc = await computeService(host);
  await admin.request('compute', 'PUT', `/os-services/${svc.id}`, {
    headers: NOVA,
    body: { status, ...(reason ? { disabled_reason: reason } : {}) },
  });
}
const nodeOf = (host: string) => cloud.ironicNodes[cloud.computeHosts.indexOf(host)]!;
async function nodePower(host: string): Promise<string | null> {
  const { body } = await admin.request('baremetal', 'GET', `/v1/nodes/${nodeOf(host).uuid}`, { headers: IRONIC });
  return (body as { power_state: string | null }).power_state;
}
/** The host crashed: its BMC reports it off. (The fake nova-compute keeps running, so its servers can still move.) */
async function powerOff(host: string): Promise<void> {
  await admin.request('baremetal', 'PUT', `/v1/nodes/${nodeOf(host).uuid}/states/power`, {
    headers: IRONIC,
    body: { target: 'power off' },
  });
  await eventually(`${host} off`, async () => ((await nodePower(host)) === 'power off' ? true : undefined), 60_000);
}
/** Record every change of a value while a remediation runs. */
function sample<T>(read: () => Promise<T>): { changes: T[]; stop(): void } {
  const changes: T[] = [];
  let on = true;
  void (async () => {
    while (on) {
      const v = await read().catch(() => undefined);
      if (v !== undefined && JSON.stringify(v) !== JSON.stringify(changes.at(-1))) changes.push(v);
      await new Promise((ok) => setTimeout(ok, 200));
    }
  })();
  return { changes, stop: () => void (on = false) };
}
/** Stop an in-process worker and wait until it has, so the next one alone takes the task queue. */
async function stopped(worker: Worker): Promise<void> {
  worker.shutdown();
  await eventually('the worker to stop', async () => (worker.getState() === 'STOPPED' ? true : undefined), 60_000);
}
const remediation = async (id: string) => (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;
const inPhase = (id: string, phases: string[], timeoutMs = 240_000) =>
  eventually(
    `${id} in ${phases.join(' or ')}`,
    async () => {
      const r = await remediation(id);
      return phases.includes(r.phase) ? r : undefined;
    },
    timeoutMs,
  );

// ---- the scenarios -----------------------------------------------------------

test('an alert for a compute host: disabled with the reason, every server live-migrated, Ironic power cycle, verified, enabled again', async () => {
  const worker = await env.startWorker();
  const host = 'compute-1';
  const before = await serversOn(host);
  expect(before.length).toBeGreaterThan(0);
  await powerOff(host);
  const power = sample(() => nodePower(host));
  const service = sample(async () => (await computeService(host)).disabled_reason);

  const started = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host));
  expect(started.body).toMatchObject({ outcome: 'started' });
  const done = await inPhase(started.body.remediationId, ['returned', 'awaiting-operator']);
  power.stop();
  service.stop();
  expect({ phase: done.phase, handOff: done.handOff }).toEqual({ phase: 'returned', handOff: null });

  for (const s of before) {
    expect(await serverHost(s.id)).not.toBe(host);
    expect((await liveMigrations(s.id)).map((m) => m.status)).toEqual(['completed']);
  }
  expect(await serversOn(host)).toEqual([]);
  expect(power.changes).toEqual(['power off', 'power on']);
  expect(service.changes[0]).toBeNull();
  expect(service.changes).toContainEqual(expect.stringMatching(/^shipshape: remediation /));
  expect(await computeService(host)).toMatchObject({ status: 'enabled', disabled_reason: null });

  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${started.body.remediationId}`, operator))
    .body.entries as Array<{ action: string }>;
  const actions = audit.map((a) => a.action);
  let last = -1;
  for (const action of [
    'remediation started',
    'problem confirmed',
    'drain started',
    'compute service disabled',
    'server moved',
    'repair started',
    'power-cycle',
    'verification started',
    'verification passed',
    'remediation returned',
  ]) {
    const at = actions.indexOf(action, last + 1);
    expect({ action, found: at > last }).toEqual({ action, found: true });
    last = at;
  }
  await stopped(worker);
}, 300_000);

test('a migration that cannot succeed (every other compute disabled) hands off with the servers still where they were, and why', async () => {
  const worker = await env.startWorker();
  const host = 'compute-2';
  const others = cloud.computeHosts.filter((h) => h !== host);
  for (const h of others) await setService(h, 'disabled', 'test: no room anywhere else');
  const before = await serversOn(host);
  expect(before.length).toBeGreaterThan(0);
  await powerOff(host);
  try {
    const started = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host));
    const handedOff = await inPhase(started.body.remediationId, ['awaiting-operator', 'returned']);
    expect(handedOff.phase).toBe('awaiting-operator');
    expect(handedOff.handOff.reason).toMatch(/could not be moved off compute-2: .*(No valid host|ended error)/i);
    const after = await serversOn(host);
    expect(after.map((s) => s.id).sort()).toEqual(before.map((s) => s.id).sort());
    expect(after.every((s) => s.status === 'ACTIVE')).toBe(true);
    expect((await computeService(host)).disabled_reason).toMatch(/^shipshape: /);
    // The operator takes it from here: cancel, and put the cloud back as it was.
    await http('POST', `${env.apiUrl}/v1/remediations/${started.body.remediationId}/cancel`, operator, {
      comment: 'test over',
    });
    await inPhase(started.body.remediationId, ['cancelled']);
  } finally {
    for (const h of [...others, host]) await setService(h, 'enabled');
    await admin.request('baremetal', 'PUT', `/v1/nodes/${nodeOf(host).uuid}/states/power`, {
      headers: IRONIC,
      body: { target: 'power on' },
    });
    await stopped(worker);
  }
}, 300_000);

test('a worker killed during a live migration is replaced: no second migration request, and the remediation completes', async () => {
  const host = 'compute-3';
  const before = await serversOn(host);
  expect(before.length).toBeGreaterThan(0);
  // Servers that came here in an earlier test already have a live migration on record.
  const earlier = new Map(
    await Promise.all(before.map(async (s) => [s.id, (await liveMigrations(s.id)).length] as const)),
  );
  await powerOff(host);
  // An earlier test left compute-2 out of service in Shipshape's view (cancelled after its drain); with the
  // shipped guards, one host of three out of service holds the zone. This test is about the worker, not guards.
  const guardsFile = join(mkdtempSync(join(tmpdir(), 'shipshape-guards-')), 'guards.yaml');
  writeFileSync(
    guardsFile,
    'maxConcurrentPerZone: { percent: 100 }\nmaxConcurrentFleet: { percent: 100 }\nmaxOutOfServicePerZone: { percent: 100 }\n' +
      'rateLimit: { starts: 1000, windowMinutes: 1 }\ncooldownMinutes: 0\nmaxAttempts: { count: 1000, windowMinutes: 1 }\n' +
      'breaker: { percent: 100, windowMinutes: 0.001 }\npollSeconds: 1\n',
  );
  const startWorkerProcess = () => {
    const child = spawnWorkerProcess(env, {
      SHIPSHAPE_PROVIDER: 'openstack',
      SHIPSHAPE_GUARDS_FILE: guardsFile,
      OS_CLOUD: cloud.cloudName,
      OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml,
    });
    children.push(child);
    return child;
  };
  const first = startWorkerProcess();
  const started = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host));
  expect(started.body).toMatchObject({ outcome: 'started' });
  await eventually(
    'a live migration in flight',
    async () => {
      for (const s of before)
        if ((await liveMigrations(s.id)).some((m) => !['completed', 'error', 'failed'].includes(m.status))) return true;
      return undefined;
    },
    120_000,
  );
  first.kill('SIGKILL');
  await new Promise((ok) => first.once('exit', ok));
  startWorkerProcess();

  const done = await inPhase(started.body.remediationId, ['returned', 'awaiting-operator']);
  expect(done.phase).toBe('returned');
  for (const s of before) {
    const all = await liveMigrations(s.id);
    expect({ server: s.id, new: all.length - (earlier.get(s.id) ?? 0) }).toEqual({ server: s.id, new: 1 });
    expect(all.every((m) => m.status === 'completed')).toBe(true);
    expect(await serverHost(s.id)).not.toBe(host);
  }
  for (const c of children) c.kill('SIGTERM');
}, 300_000);

test("a stopped server cannot be live-migrated: with the policy's cold-migration fallback it is migrated cold and confirmed", async () => {
  const worker = await env.startWorker();
  const host = 'compute-2';
  const before = await serversOn(host);
  expect(before.length).toBeGreaterThan(1);
  const stoppedServer = before[0]!.id;
  const liveBefore = (await liveMigrations(stoppedServer)).length;
  await admin.request('compute', 'POST', `/servers/${stoppedServer}/action`, {
    headers: NOVA,
    body: { 'os-stop': null },
  });
  await eventually(
    'the server stopped',
    async () => ((await serversOn(host)).find((s) => s.id === stoppedServer)?.status === 'SHUTOFF' ? true : undefined),
    60_000,
  );
  await powerOff(host);
  try {
    const started = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host, 'HostDownCold'));
    expect(started.body).toMatchObject({ outcome: 'started' });
    const done = await inPhase(started.body.remediationId, ['returned', 'awaiting-operator']);
    expect(done.phase).toBe('returned');
    expect(await serversOn(host)).toEqual([]);
    expect(await serverHost(stoppedServer)).not.toBe(host);
    const { body } = await admin.request(
      'compute',
      'GET',
      `/os-migrations?instance_uuid=${stoppedServer}&migration_type=migration`,
      { headers: NOVA },
    );
    expect((body as { migrations: Array<{ status: string }> }).migrations.map((m) => m.status)).toEqual(['confirmed']);
    expect((await liveMigrations(stoppedServer)).length).toBe(liveBefore); // refused, so never recorded
    const audit = (
      await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${started.body.remediationId}`, operator)
    ).body.entries as Array<{ action: string; reason: string }>;
    expect(audit.find((a) => a.action === 'live migration failed')?.reason).toMatch(
      /live migration of .* refused \(HTTP 409\)/,
    );
  } finally {
    await stopped(worker);
  }
}, 300_000);

test('a host that is down is evacuated once a person approves: fenced, servers rebuilt elsewhere, power cycled, fence lifted once nova-compute restarts, returned', async () => {
  const worker = await env.startWorker();
  const counts = await Promise.all(cloud.computeHosts.map(async (h) => [h, (await serversOn(h)).length] as const));
  const host = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  const before = await serversOn(host);
  expect(before.length).toBeGreaterThan(0);
  await powerOff(host);
  const approver = await env.token('alice', 'approver');
  try {
    const started = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host, 'HostDownEvacuate'));
    expect(started.body).toMatchObject({ outcome: 'started' });
    const asking = await inPhase(started.body.remediationId, ['awaiting-approval'], 60_000);
    expect(asking.poolState).toBe('in-service');
    expect(await serversOn(host)).toHaveLength(before.length); // nothing touched before the approval
    expect(
      (
        await http('POST', `${env.apiUrl}/v1/remediations/${started.body.remediationId}/approve`, approver, {
          comment: 'rack PDU dead; evacuate',
        })
      ).status,
    ).toBe(200);
    // The physical world: when Ironic powers the host on, it boots and its nova-compute starts again.
    await eventually(
      'the evacuation to be over',
      async () => ((await serversOn(host)).length === 0 ? true : undefined),
      180_000,
    );
    await eventually(
      `${host} powered on`,
      async () => ((await nodePower(host)) === 'power on' ? true : undefined),
      180_000,
    );
    await cloud.restartCompute(host);
    const done = await inPhase(started.body.remediationId, ['returned', 'awaiting-operator']);
    expect({ phase: done.phase, handOff: done.handOff }).toEqual({ phase: 'returned', handOff: null });
    for (const s of before) {
      expect(await serverHost(s.id)).not.toBe(host);
      const { body } = await admin.request(
        'compute',
        'GET',
        `/os-migrations?instance_uuid=${s.id}&migration_type=evacuation`,
        { headers: NOVA },
      );
      // 'done' once rebuilt elsewhere; 'completed' once the host's nova-compute has restarted and cleaned up.
      expect((body as { migrations: Array<{ status: string }> }).migrations.map((m) => m.status)).toEqual([
        'completed',
      ]);
    }
    const { body } = await admin.request('compute', 'GET', `/os-services?binary=nova-compute&host=${host}`, {
      headers: NOVA,
    });
    expect((body as { services: Array<{ forced_down: boolean; status: string }> }).services[0]).toMatchObject({
      forced_down: false,
      status: 'enabled',
    });
    const actions = (
      (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${started.body.remediationId}`, operator)).body
        .entries as Array<{ action: string }>
    ).map((a) => a.action);
    // Nova refuses to lift the fence until the host's nova-compute has restarted; Shipshape lifts it before returning the host.
    expect(actions).toEqual(
      expect.arrayContaining([
        'approved',
        'host fenced',
        'fence kept',
        'power-cycle',
        'fence lifted',
        'remediation returned',
      ]),
    );
    expect(actions.indexOf('host fenced')).toBeLessThan(actions.indexOf('fence kept'));
    expect(actions.indexOf('power-cycle')).toBeLessThan(actions.indexOf('fence lifted'));
  } finally {
    await stopped(worker);
  }
}, 300_000);

test('a node a person puts in Ironic maintenance while Shipshape drains it gets no power action: Shipshape stands down, naming the maintenance', async () => {
  const worker = await env.startWorker();
  const counts = await Promise.all(cloud.computeHosts.map(async (h) => [h, (await serversOn(h)).length] as const));
  const host = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  expect((await serversOn(host)).length).toBeGreaterThan(0);
  await powerOff(host);
  const node = nodeOf(host).uuid;
  try {
    const started = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host));
    await inPhase(started.body.remediationId, ['draining'], 60_000);
    await admin.request('baremetal', 'PUT', `/v1/nodes/${node}/maintenance`, {
      headers: IRONIC,
      body: { reason: 'replacing a DIMM' },
    });
    const done = await inPhase(started.body.remediationId, ['stood-down', 'returned', 'awaiting-operator']);
    expect(done.phase).toBe('stood-down');
    expect(done.outcome.reason).toMatch(/maintenance outside Shipshape \("replacing a DIMM"\)/);
    expect(done.poolState).toBe('out-of-service');
    expect(await nodePower(host)).toBe('power off'); // never power-cycled
    const actions = (
      (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${started.body.remediationId}`, operator)).body
        .entries as Array<{ action: string }>
    ).map((a) => a.action);
    expect(actions).not.toContain('power-cycle');
  } finally {
    await admin.request('baremetal', 'DELETE', `/v1/nodes/${node}/maintenance`, { headers: IRONIC });
    await admin.request('baremetal', 'PUT', `/v1/nodes/${node}/states/power`, {
      headers: IRONIC,
      body: { target: 'power on' },
    });
    await setService(host, 'enabled');
    await stopped(worker);
  }
}, 300_000);

// ---- the session: tokens, retries, malformed answers ---------------------

/** A proxy in front of Nova that misbehaves on the requests `misbehave` picks. */
type Misbehaviour =
  | { status: number; body: string; headers?: Record<string, string> }
  | { delayMs: number }
  | 'rewrite'
  | null;
async function novaProxy(
  misbehave: (path: string, n: number, method: string) => Misbehaviour,
  rewrite?: (body: string) => string,
) {
  const target = new URL(cloud.endpoints.compute!);
  let n = 0;
  const server: Server = createServer(async (req, res) => {
    const act = misbehave(req.url ?? '', ++n, req.method ?? 'GET');
    if (act && typeof act === 'object' && 'delayMs' in act) {
      await new Promise((ok) => setTimeout(ok, act.delayMs));
      if (res.destroyed) return; // the client gave up waiting
    } else if (act && act !== 'rewrite') {
      res.writeHead(act.status, { 'content-type': 'application/json', ...act.headers }).end(act.body);
      return;
    }
    const up = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const out = act === 'rewrite' && rewrite ? rewrite(body) : body;
          const headers = { ...r.headers, 'content-length': String(Buffer.byteLength(out)) };
          res.writeHead(r.statusCode ?? 502, headers).end(out);
        });
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}${target.pathname}`;
  return { base, requests: () => n, close: () => new Promise((ok) => server.close(ok)) };
}

test('a token the cloud no longer accepts mid-run is replaced: re-authentication, no failure', async () => {
  const session = new OpenStackSession(config);
  const provider = new OpenStackProvider(session);
  expect((await provider.listHosts()).map((h) => h.id)).toEqual(cloud.computeHosts);
  expect(session.logins).toBe(1);
  // The token expires (or is rotated) under the session's feet: Nova answers 401 to it.
  // (Revoking it in Keystone would not do: Nova's auth middleware caches validated tokens for minutes.)
  const held = (session as unknown as { token: { value: string } }).token;
  held.value = `${held.value.slice(0, -8)}expired0`;
  expect((await provider.readHostState('compute-1')).compute.enabled).toBe(true);
  expect(session.logins).toBe(2);
});

test('an application credential logs in as well as a password', async () => {
  const { body: users } = await admin.request('identity', 'GET', `/users?name=${cloud.username}`);
  const userId = (users as { users: Array<{ id: string }> }).users[0]!.id;
  const { body } = await admin.request('identity', 'POST', `/users/${userId}/application_credentials`, {
    body: { application_credential: { name: `shipshape-test-${Date.now()}`, description: 'Shipshape provider test' } },
  });
  const credential = (body as { application_credential: { id: string; secret: string } }).application_credential;
  const session = new OpenStackSession({
    ...config,
    auth: { type: 'application-credential', id: credential.id, secret: credential.secret },
  });
  const hosts = await new OpenStackProvider(session).listHosts();
  expect(hosts.map((h) => h.id)).toEqual(cloud.computeHosts);
  expect(session.logins).toBe(1);
  await admin.request('identity', 'DELETE', `/users/${userId}/application_credentials/${credential.id}`);
});

test('Nova answering 503 is retried (Retry-After honoured), then fails clearly when it keeps answering 503', async () => {
  const flaky = await novaProxy((path, n) =>
    path.includes('os-services') && n <= 2
      ? { status: 503, body: '{"message":"busy"}', headers: { 'Retry-After': '1' } }
      : null,
  );
  try {
    const provider = new OpenStackProvider({ ...config, endpointOverrides: { compute: flaky.base } });
    expect((await provider.readHostState('compute-1')).host).toBe('compute-1');
  } finally {
    await flaky.close();
  }
  const down = await novaProxy(() => ({ status: 503, body: '{"computeFault":{"message":"Service Unavailable"}}' }));
  try {
    const provider = new OpenStackProvider(
      new OpenStackSession({ ...config, endpointOverrides: { compute: down.base } }, async () => undefined),
    );
    const err = await provider.readHostState('compute-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenStackError);
    expect(err).toMatchObject({ status: 503, retryable: true });
    expect((err as Error).message).toMatch(
      /^compute: GET \/.* answered HTTP 503 after 4 attempts: Service Unavailable/,
    );
  } finally {
    await down.close();
  }
});

test('a service update Nova answers slowly (as for a host that has just died) is waited for beyond api_timeout; reads keep theirs', async () => {
  // Nova took 38–40 s to disable the service of a dead host; here api_timeout is 2 s and Nova takes 3.5 s.
  const slow = await novaProxy((path, _n, method) =>
    method === 'PUT' && path.includes('os-services') ? { delayMs: 3_500 } : null,
  );
  try {
    const provider = new OpenStackProvider({ ...config, timeoutMs: 2_000, endpointOverrides: { compute: slow.base } });
    await provider.disableCompute('compute-1', 'shipshape: slow nova');
    expect(await computeService('compute-1')).toMatchObject({
      status: 'disabled',
      disabled_reason: 'shipshape: slow nova',
    });
    await provider.enableCompute('compute-1');
    expect((await computeService('compute-1')).status).toBe('enabled');
  } finally {
    await slow.close();
    await setService('compute-1', 'enabled');
  }
  const hung = await novaProxy((path) => (path.includes('os-hypervisors') ? { delayMs: 3_500 } : null));
  try {
    const provider = new OpenStackProvider(
      new OpenStackSession(
        { ...config, timeoutMs: 2_000, endpointOverrides: { compute: hung.base } },
        async () => undefined,
      ),
    );
    await expect(provider.readHostState('compute-1')).rejects.toThrow(OpenStackError);
  } finally {
    await hung.close();
  }
});

test('a malformed Nova answer is a typed, non-retryable error naming the field', async () => {
  const garbling = await novaProxy(
    (path) => (path.includes('os-services') ? 'rewrite' : null),
    (body) => body.replace(/"state": ?"up"/, '"state": 42'),
  );
  try {
    const provider = new OpenStackProvider({ ...config, endpointOverrides: { compute: garbling.base } });
    const err = await provider.readHostState('compute-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenStackError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toMatch(/malformed answer: services\.0\.state: /);
  } finally {
    await garbling.close();
  }
});

test('inventory, state and utilisation: hosts with zones from Nova, servers across projects, Placement capacity', async () => {
  const provider = env.provider as OpenStackProvider;
  const hosts = await provider.listHosts();
  expect(hosts.map((h) => [h.id, h.zone, h.roles])).toEqual(cloud.computeHosts.map((h) => [h, 'nova', ['compute']]));
  const u = await provider.readUtilisation('compute-1');
  expect(u.vcpus.total).toBeGreaterThan(0);
  expect(u.ramMiB.total).toBeGreaterThan(0);
  expect(u.agents).toEqual([{ binary: 'nova-compute', role: 'compute', up: true, enabled: true }]);
  const servers = (await Promise.all(cloud.computeHosts.map((h) => provider.listServersOnHost(h)))).flat();
  expect(servers).toHaveLength(cloud.servers.length);
  await expect(provider.readHostState('no-such-host')).rejects.toThrow(/no nova-compute service on host no-such-host/);
  // A host aggregate tagged shipshape_zone maps its hosts to that zone, over the availability zone.
  const { body: created } = await admin.request('compute', 'POST', '/os-aggregates', {
    headers: NOVA,
    body: { aggregate: { name: `rack-${Date.now()}` } },
  });
  const aggregateId = (created as { aggregate: { id: number } }).aggregate.id;
  await admin.request('compute', 'POST', `/os-aggregates/${aggregateId}/action`, {
    headers: NOVA,
    body: { add_host: { host: 'compute-2' } },
  });
  await admin.request('compute', 'POST', `/os-aggregates/${aggregateId}/action`, {
    headers: NOVA,
    body: { set_metadata: { metadata: { shipshape_zone: 'rack-7' } } },
  });
  try {
    expect((await provider.listHosts()).map((h) => [h.id, h.zone])).toEqual([
      ['compute-1', 'nova'],
      ['compute-2', 'rack-7'],
      ['compute-3', 'nova'],
    ]);
  } finally {
    await admin.request('compute', 'POST', `/os-aggregates/${aggregateId}/action`, {
      headers: NOVA,
      body: { remove_host: { host: 'compute-2' } },
    });
    await admin.request('compute', 'DELETE', `/os-aggregates/${aggregateId}`, { headers: NOVA });
  }
  // Disabling twice with the same reason sends nothing the second time.
  await provider.disableCompute('compute-1', 'shipshape: test');
  const once = await computeService('compute-1');
  await provider.disableCompute('compute-1', 'shipshape: test');
  expect(await computeService('compute-1')).toEqual(once);
  await provider.enableCompute('compute-1');
  expect((await computeService('compute-1')).status).toBe('enabled');
});

test("the next links real Ironic and Nova give are on the catalog's endpoints and are followed; a node's extra names its own BMC credentials", async () => {
  // Pagination: a page of one, then its next link, checked by the same rule the provider applies.
  const first = (await admin.request('baremetal', 'GET', '/v1/nodes?limit=1', { headers: IRONIC })).body as {
    nodes: Array<{ uuid: string }>;
    next?: string;
  };
  expect(first.next).toEqual(expect.any(String));
  const second = await admin.request('baremetal', 'GET', (await admin.link('baremetal', first.next!, 'next')).href, {
    headers: IRONIC,
  });
  expect((second.body as { nodes: Array<{ uuid: string }> }).nodes[0]?.uuid).not.toBe(first.nodes[0]?.uuid);
  const servers = (await admin.request('compute', 'GET', '/servers/detail?all_tenants=1&limit=1', { headers: NOVA }))
    .body as { servers_links?: Array<{ rel: string; href: string }> };
  const next = servers.servers_links?.find((l) => l.rel === 'next')?.href;
  expect(next).toEqual(expect.any(String));
  await expect(admin.link('compute', next!, 'next')).resolves.toBeInstanceOf(URL);

  // A Redfish BMC in driver_info on two nodes; one names its own credentials entry.
  const [own, shared] = cloud.ironicNodes;
  const patch = (uuid: string, ops: unknown[]) =>
    admin.request('baremetal', 'PATCH', `/v1/nodes/${uuid}`, { headers: IRONIC, body: ops });
  await patch(own!.uuid, [
    { op: 'add', path: '/driver_info/redfish_address', value: 'https://10.0.0.11' },
    { op: 'add', path: '/extra/shipshape_bmc_credentials', value: 'rack-7' },
  ]);
  await patch(shared!.uuid, [{ op: 'add', path: '/driver_info/redfish_address', value: 'https://10.0.0.12' }]);
  try {
    const hosts = await new OpenStackProvider(config, { bmcCredentialsRef: 'fleet' }).listHosts();
    expect(hosts.map((h) => [h.id, h.bmc])).toEqual([
      ['compute-1', { address: 'https://10.0.0.11', credentialsRef: 'rack-7', systemId: null }],
      ['compute-2', { address: 'https://10.0.0.12', credentialsRef: 'fleet', systemId: null }],
      ['compute-3', null],
    ]);
  } finally {
    await patch(own!.uuid, [
      { op: 'remove', path: '/driver_info/redfish_address' },
      { op: 'remove', path: '/extra/shipshape_bmc_credentials' },
    ]);
    await patch(shared!.uuid, [{ op: 'remove', path: '/driver_info/redfish_address' }]);
  }
});
