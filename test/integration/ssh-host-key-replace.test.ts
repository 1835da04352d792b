/**
 * Replacing a host's pinned SSH key through the API (a rebuilt host shows a
 * new key): POST /v1/hosts/{host}/ssh-host-key, admin only, with why, audited
 * with who and why; and `shipshape host ssh-key replace|forget`. Against the
 * real SSH test hosts: with a wrong key pinned a scan reads nothing from the
 * host; after the right fingerprint is pinned the scan reads it; after the pin
 * is forgotten the next scan pins what the host shows.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAuditLog } from '../../db/audit-log';
import { upsertInventory } from '../../db/hosts';
import { upsertSshEndpoints } from '../../db/ssh-endpoints';
import { findPinnedHostKey, pinHostKeyFromInventory } from '../../db/ssh-host-keys';
import { SshExecutor } from '../../providers/ssh/session';
import { complianceActivities, runScan } from '../support/compliance';
import { createTestEnv, type TestEnv } from '../support/env';
import { http } from '../support/http';
import {
  fleetRootCredentials,
  lockSshHosts,
  requireRootForSshHosts,
  type SshHostsEnv,
  startSshHosts,
  stopSshHosts,
} from '../support/sshhosts';

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const HOST = 'ssh-1';
const url = (host = HOST) => `${env.apiUrl}/v1/hosts/${host}/ssh-host-key`;

let env: TestEnv;
let sshHosts: SshHostsEnv;
let releaseHosts: (() => void) | undefined;
let admin: string;
let operator: string;
let viewer: string;
const executor = new SshExecutor();

const fingerprintOf = (name: string) => sshHosts.hosts.find((h) => h.name === name)!.hostKeyFingerprint;

beforeAll(async () => {
  requireRootForSshHosts();
  releaseHosts = await lockSshHosts();
  sshHosts = startSshHosts();
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 1, serversPerHost: 0 } });
  await upsertInventory(env.db, [{ id: HOST, zone: 'zone-a', roles: ['compute'], bmc: null }], 'simulated');
  const h = sshHosts.hosts.find((x) => x.name === HOST)!;
  await upsertSshEndpoints(env.db, [{ host: HOST, address: h.address, port: h.port, credentialsRef: 'fleet-root' }]);
  const sshCredentials = fleetRootCredentials(sshHosts);
  await env.startWorker(
    complianceActivities(env, {
      sshCredentials,
      profilesDir: join(__dirname, '../../policies/compliance'),
      sshExecutor: executor,
    }),
  );
  admin = await env.token('ada', 'admin');
  operator = await env.token('olivia', 'operator');
  viewer = await env.token('victor', 'viewer');
}, 600_000);

afterAll(async () => {
  await env?.close();
  stopSshHosts(releaseHosts);
});

/** Scan ssh-1's os-baseline through the API; the summary. */
async function scan(): Promise<any> {
  const result = await runScan(
    env,
    { operator, viewer },
    { hosts: [HOST], profiles: ['os-baseline'] },
    { timeoutMs: 40_000 },
  );
  expect(result.status).toBe('completed');
  return result.summary;
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: mkdtempSync(join(tmpdir(), 'shipshape-cli-home-')),
          SHIPSHAPE_URL: env.apiUrl,
          SHIPSHAPE_TOKEN: admin,
        },
      },
      (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
        }),
    ),
  );
}

describe('POST /v1/hosts/{host}/ssh-host-key', () => {
  it('is an admin action: an operator is refused (403) and nothing changes', async () => {
    const r = await http('POST', url(), operator, {
      fingerprint: fingerprintOf('ssh-2'),
      keyType: 'ssh-ed25519',
      reason: 'rebuilt',
    });
    expect(r.status).toBe(403);
    expect(await findPinnedHostKey(env.db, HOST)).toBeNull();
  });

  it.each([
    ['no reason', { fingerprint: 'SHA256:' + 'A'.repeat(43), keyType: 'ssh-ed25519' }, 'body.reason', 'is required'],
    ['a blank reason', { forget: true, reason: '   ' }, 'body.reason', 'is required'],
    [
      'a fingerprint not as ssh-keygen prints it',
      { fingerprint: 'MD5:ab:cd', keyType: 'ssh-ed25519', reason: 'x' },
      'body.fingerprint',
      'SHA256',
    ],
    ['neither a key nor forget', { reason: 'rebuilt' }, 'body.fingerprint', 'is required'],
    [
      'both a key and forget',
      { forget: true, fingerprint: 'SHA256:' + 'A'.repeat(43), reason: 'x' },
      'body.fingerprint',
      'not both',
    ],
  ])('refuses %s with 400 naming the field', async (_name, body, field, reason) => {
    const r = await http('POST', url(), admin, body);
    expect(r.status).toBe(400);
    expect(r.body.error.details.fields).toEqual(
      expect.arrayContaining([{ field, reason: expect.stringContaining(reason) }]),
    );
  });

  it('answers 404 for a host the inventory does not know', async () => {
    const r = await http('POST', url('nope-1'), admin, { forget: true, reason: 'cleanup' });
    expect(r.status).toBe(404);
  });

  describe('a rebuilt host', () => {
    it('with a key pinned that it no longer shows, a scan reads nothing from it', async () => {
      // The key before the rebuild: stated by an admin (here another host's, which ssh-1 does not show).
      const pinned = await http('POST', url(), admin, {
        fingerprint: fingerprintOf('ssh-2'),
        keyType: 'ssh-ed25519',
        reason: 'key from the old install',
      });
      expect(pinned.status).toBe(200);
      const before = executor.connectionsOpened;
      const summary = await scan();
      expect(summary.unreachable).toEqual([{ host: HOST, error: expect.stringContaining(`host key of ${HOST}`) }]);
      expect(executor.connectionsOpened).toBe(before);
    }, 60_000);

    it('after an admin pins the new fingerprint, with why, a scan reads it', async () => {
      const r = await http('POST', url(), admin, {
        fingerprint: fingerprintOf(HOST),
        keyType: 'ssh-ed25519',
        reason: 'ssh-1 reinstalled (CHG-42); key read on its console',
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        host: HOST,
        before: { fingerprint: fingerprintOf('ssh-2'), source: 'person' },
        after: { fingerprint: fingerprintOf(HOST), keyType: 'ssh-ed25519', source: 'person' },
        warning: null,
      });
      const summary = await scan();
      expect(summary).toMatchObject({ scanned: 1, unreachable: [], failed: [] });
      // Read this time: /etc/shadow's mode is what the host has, not an error about its key.
      const findings = await http(
        'GET',
        `${env.apiUrl}/v1/compliance/findings?host=${HOST}&rule=os.shadow-mode`,
        viewer,
      );
      expect(findings.body.findings).toEqual([
        expect.objectContaining({ state: 'pass', observed: '/etc/shadow: mode 0640, owner root, group shadow' }),
      ]);
      const detail = await http('GET', `${env.apiUrl}/v1/hosts/${HOST}`, viewer);
      expect(detail.body.sshHostKey).toMatchObject({ fingerprint: fingerprintOf(HOST), source: 'person' });
    }, 60_000);

    it('records who replaced the key and why in the audit log, with the keys before and after', async () => {
      const log = await readAuditLog(env.db, { limit: 1000 });
      const replaced = log.filter((e) => e.action === 'ssh host key replaced');
      expect(replaced.at(-1)).toMatchObject({
        actorKind: 'person',
        actor: 'ada',
        host: HOST,
        reason: 'ssh-1 reinstalled (CHG-42); key read on its console',
        before: expect.objectContaining({ fingerprint: fingerprintOf('ssh-2') }),
        after: expect.objectContaining({ fingerprint: fingerprintOf(HOST) }),
      });
      // The refused attempts changed nothing and left no entry: only the admin's two.
      expect(replaced).toHaveLength(2);
    });

    it('`shipshape host ssh-key forget` drops the pin, audited; the next scan pins what the host shows', async () => {
      expect(existsSync(CLI)).toBe(true);
      const run = await cli(['host', 'ssh-key', 'forget', HOST, '--reason', 'rebuilt again; re-pin on contact']);
      expect(run).toMatchObject({ code: 0 });
      expect(run.stdout).toContain('none: the next scan pins the key the host shows');
      expect(await findPinnedHostKey(env.db, HOST)).toBeNull();
      const log = await readAuditLog(env.db, { limit: 1000 });
      expect(log.filter((e) => e.action === 'ssh host key forgotten')).toEqual([
        expect.objectContaining({ actor: 'ada', host: HOST, reason: 'rebuilt again; re-pin on contact', after: null }),
      ]);
      const summary = await scan();
      expect(summary.unreachable).toEqual([]);
      expect(await findPinnedHostKey(env.db, HOST)).toMatchObject({
        fingerprint: fingerprintOf(HOST),
        source: 'first-contact',
      });
    }, 60_000);

    it('`shipshape host ssh-key replace` pins a stated key and prints it', async () => {
      const run = await cli([
        'host',
        'ssh-key',
        'replace',
        HOST,
        '--fingerprint',
        fingerprintOf(HOST),
        '--reason',
        'confirmed on the console',
      ]);
      expect(run).toMatchObject({ code: 0 });
      expect(run.stdout).toContain(`${fingerprintOf(HOST)} (ssh-ed25519, person)`);
      const missing = await cli(['host', 'ssh-key', 'replace', HOST, '--fingerprint', fingerprintOf(HOST)]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('--reason');
    });

    it('warns when the inventory file stated the old key: the next worker start would pin it again', async () => {
      await pinHostKeyFromInventory(env.db, {
        host: HOST,
        fingerprint: fingerprintOf('ssh-3'),
        keyType: 'ssh-ed25519',
      });
      const r = await http('POST', url(), admin, {
        fingerprint: fingerprintOf(HOST),
        keyType: 'ssh-ed25519',
        reason: 'the file is out of date',
      });
      expect(r.status).toBe(200);
      expect(r.body.warning).toContain('the inventory file states ssh-1');
    });
  });
});
