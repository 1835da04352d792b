/**
 * A compliance scan end to end against the real SSH test hosts
 * (test/sshhosts/hosts.sh): started through HTTP, run as a workflow on a
 * worker with the real activities, each host read over one SSH connection,
 * judged by the shipped profiles and recorded as findings that differ per
 * host for the reason the hosts differ. A host whose pinned key is not the
 * one it shows gets `error` findings naming the host-key problem, and nothing
 * is sent to it, while the others are judged.
 */
import { join } from 'node:path';
import { readAuditLog } from '../../db/audit-log';
import { upsertInventory } from '../../db/hosts';
import { findPinnedHostKey, pinHostKeyFromInventory } from '../../db/ssh-host-keys';
import { upsertSshEndpoints } from '../../db/ssh-endpoints';
import { SshExecutor } from '../../providers/ssh/session';
import { complianceActivities, findingsByRule, waitForScan as waitForScanOf } from '../support/compliance';
import { createTestEnv, type TestEnv } from '../support/env';
import { http } from '../support/http';
import {
  acceptedLogins as acceptedLoginsOf,
  fleetRootCredentials,
  lockSshHosts,
  requireRootForSshHosts,
  type SshHostsEnv,
  startSshHosts,
  stopSshHosts,
} from '../support/sshhosts';

let releaseHosts: (() => void) | undefined;

let env: TestEnv;
let sshHosts: SshHostsEnv;
let operator: string;
let viewer: string;
const executor = new SshExecutor();

const sshHost = (name: string) => sshHosts.hosts.find((h) => h.name === name)!;
/** Logins the host's sshd accepted so far. */
const acceptedLogins = (name: string) => acceptedLoginsOf(sshHosts, name);

const waitForScan = (scanId: string) => waitForScanOf(env, viewer, scanId, { timeoutMs: 40_000 });
const findingsOf = async (host: string) => new Map(Object.entries(await findingsByRule(env, viewer, host)));

beforeAll(async () => {
  requireRootForSshHosts();
  releaseHosts = await lockSshHosts(); // one test file at a time on this checkout's hosts
  sshHosts = startSshHosts();
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 1, serversPerHost: 0 } });
  // The three SSH hosts as Shipshape hosts, and a fourth name for ssh-2 whose pinned key is ssh-1's.
  const names = ['ssh-1', 'ssh-2', 'ssh-3', 'ssh-2-impostor'];
  await upsertInventory(
    env.db,
    names.map((id) => ({ id, zone: 'zone-a', roles: ['compute'], bmc: null })),
    'simulated',
  );
  await upsertSshEndpoints(env.db, [
    ...['ssh-1', 'ssh-2', 'ssh-3'].map((h) => ({
      host: h,
      address: sshHost(h).address,
      port: sshHost(h).port,
      credentialsRef: 'fleet-root',
    })),
    {
      host: 'ssh-2-impostor',
      address: sshHost('ssh-2').address,
      port: sshHost('ssh-2').port,
      credentialsRef: 'fleet-root',
    },
  ]);
  await pinHostKeyFromInventory(env.db, {
    host: 'ssh-2-impostor',
    fingerprint: sshHost('ssh-1').hostKeyFingerprint,
    keyType: 'ssh-ed25519',
  });
  const sshCredentials = fleetRootCredentials(sshHosts);
  await env.startWorker(
    complianceActivities(env, {
      sshCredentials,
      profilesDir: join(__dirname, '../../policies/compliance'),
      sshExecutor: executor,
    }),
  );
  operator = await env.token('olivia', 'operator');
  viewer = await env.token('victor', 'viewer');
}, 600_000);

afterAll(async () => {
  await env?.close();
  stopSshHosts(releaseHosts);
});

describe('a scan of the SSH test hosts started through the API', () => {
  let summary: any;
  let loginsBefore: Record<string, number>;

  beforeAll(async () => {
    loginsBefore = Object.fromEntries(['ssh-1', 'ssh-2', 'ssh-3'].map((h) => [h, acceptedLogins(h)]));
    const started = await http('POST', `${env.apiUrl}/v1/compliance/scans`, operator, {
      hosts: ['ssh-1', 'ssh-2', 'ssh-3', 'ssh-2-impostor'],
    });
    expect(started.status).toBe(202);
    const scan = await waitForScan(started.body.scanId);
    expect(scan).toMatchObject({ status: 'completed', error: null });
    summary = scan.summary;
  }, 60_000);

  it('completes with every host scanned, the impostor as unreachable, none failed', () => {
    expect(summary).toMatchObject({ hosts: 4, scanned: 4, unknown: [], failed: [] });
    expect(summary.unreachable).toEqual([
      { host: 'ssh-2-impostor', error: expect.stringContaining('host key of ssh-2-impostor') },
    ]);
  });

  it('opens one SSH connection per reachable host, and none is accepted for the wrong key', () => {
    expect(executor.connectionsOpened).toBe(3);
    // ssh-2 is behind two inventory names: only its own scan logged in.
    expect(['ssh-1', 'ssh-2', 'ssh-3'].map((h) => acceptedLogins(h) - loginsBefore[h]!)).toEqual([1, 1, 1]);
  });

  it('records the key each host showed on first contact', async () => {
    for (const h of ['ssh-1', 'ssh-2', 'ssh-3'])
      expect(await findPinnedHostKey(env.db, h)).toMatchObject({
        fingerprint: sshHost(h).hostKeyFingerprint,
        source: 'first-contact',
      });
  });

  it('fails /etc/shadow and the world-writable rule on ssh-3 only, for the modes it holds', async () => {
    const [one, two, three] = await Promise.all(['ssh-1', 'ssh-2', 'ssh-3'].map(findingsOf));
    for (const f of [one!, two!]) {
      expect(f.get('os.shadow-mode')).toMatchObject({
        state: 'pass',
        observed: '/etc/shadow: mode 0640, owner root, group shadow',
      });
      expect(f.get('os.etc-no-world-writable')?.state).toBe('pass');
    }
    expect(three!.get('os.shadow-mode')).toMatchObject({
      state: 'fail',
      observed: '/etc/shadow: mode 0644, owner root, group shadow',
    });
    expect(three!.get('os.etc-no-world-writable')).toMatchObject({
      state: 'fail',
      observed: expect.stringContaining('/etc/shipshape-test/world-writable.conf'),
    });
  });

  it('judges the sshd settings as each host has them: password login on ssh-2 fails, root login yes on ssh-2', async () => {
    const [one, two] = await Promise.all(['ssh-1', 'ssh-2'].map(findingsOf));
    expect(one!.get('os.ssh-password-login-off')?.state).toBe('pass');
    expect(two!.get('os.ssh-password-login-off')).toMatchObject({
      state: 'fail',
      observed: expect.stringMatching(/yes/i),
    });
    expect(two!.get('os.ssh-root-login-off')).toMatchObject({ state: 'fail', observed: expect.stringMatching(/yes/i) });
    // prohibit-password is not "no": the rule allows only no.
    expect(one!.get('os.ssh-root-login-off')).toMatchObject({
      state: 'fail',
      observed: expect.stringMatching(/prohibit-password/i),
    });
  });

  it('gives the host whose key is not its pin an error on every SSH rule, naming the host-key problem', async () => {
    const impostor = await findingsOf('ssh-2-impostor');
    const os = [...impostor.values()].filter((f) => f.profile === 'os-baseline');
    expect(os.length).toBeGreaterThan(5);
    for (const f of os) {
      expect(f.state).toBe('error');
      expect(f.reason).toContain(`host key of ssh-2-impostor (127.0.0.1:${sshHost('ssh-2').port}) changed`);
      expect(f.reason).toContain(`pinned ${sshHost('ssh-1').hostKeyFingerprint}`);
    }
  });

  it('judges BMC rules of a host with no BMC as error, and cloud rules of a host the cloud does not know', async () => {
    const one = await findingsOf('ssh-1');
    const hw = [...one.values()].filter((f) => f.profile === 'hardware-baseline');
    expect(hw.length).toBeGreaterThan(0);
    expect(
      hw.every((f) => f.state === 'error' && f.reason.includes('ssh-1 has no BMC endpoint in the inventory')),
    ).toBe(true);
    // The SSH hosts are not in the (simulated) cloud: no nova-compute service, no aggregate, no hypervisor.
    expect(one.get('compute.nova-compute-enabled-up')).toMatchObject({
      state: 'fail',
      reason: 'the host has no nova-compute service',
    });
    expect(one.get('compute.one-aggregate')).toMatchObject({
      state: 'fail',
      reason: expect.stringContaining('in no aggregate'),
    });
    expect(one.get('compute.hypervisor-fleet-version')).toMatchObject({
      state: 'error',
      reason: expect.stringContaining('no hypervisor version'),
    });
  });

  it('audits who started the scan', async () => {
    const log = await readAuditLog(env.db, { limit: 1000 });
    expect(log.filter((e) => e.action === 'compliance scan started')).toEqual([
      expect.objectContaining({ actorKind: 'person', actor: 'olivia' }),
    ]);
  });
});

describe('starting a scan', () => {
  it('refuses hosts the inventory does not know, naming them', async () => {
    const r = await http('POST', `${env.apiUrl}/v1/compliance/scans`, operator, { hosts: ['ssh-1', 'nope-9'] });
    expect(r.status).toBe(422);
    expect(r.body.error.message).toBe('body.hosts: not in the inventory: nope-9');
  });

  it('is an operator action: a viewer may not', async () => {
    const r = await http('POST', `${env.apiUrl}/v1/compliance/scans`, viewer, { hosts: ['ssh-1'] });
    expect(r.status).toBe(403);
  });

  it('fails the scan, naming the profile, when a profile is unknown', async () => {
    const started = await http('POST', `${env.apiUrl}/v1/compliance/scans`, operator, {
      hosts: ['ssh-1'],
      profiles: ['no-such-profile'],
    });
    expect(started.status).toBe(202);
    const scan = await waitForScan(started.body.scanId);
    expect(scan.status).toBe('failed');
    expect(scan.error).toContain('no compliance profile named no-such-profile');
  }, 45_000);

  it('is in the OpenAPI document with its status route', async () => {
    const doc = await http('GET', `${env.apiUrl}/openapi.json`, null);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/compliance/scans', '/v1/compliance/scans/{id}']),
    );
  });

  it('answers 404 for a scan that does not exist', async () => {
    const r = await http('GET', `${env.apiUrl}/v1/compliance/scans/00000000-0000-4000-8000-000000000000`, viewer);
    expect(r.status).toBe(404);
  });
});
