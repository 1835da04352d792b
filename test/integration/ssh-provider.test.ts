/**
 * The SSH provider against the project's real test hosts (test/sshhosts/hosts.sh:
 * three Debian 12 root filesystems, each with its own dpkg database and its own
 * sshd in its own mount, PID and UTS namespace on a loopback port). The hosts
 * are built once (cached in .data/sshhosts) and started by this file.
 *
 * One connection carries all of a session's commands; each host answers from
 * its own root filesystem; a command past its timeout is stopped and reported;
 * output past the cap is cut; host keys are pinned (first contact records,
 * a changed key is refused with nothing sent); unreachable hosts and wrong
 * keys fail clearly and without the key.
 */
import { createServer, type Server } from 'node:net';
import { inspect } from 'node:util';
import { utils } from 'ssh2';
import { syncInventoryFile } from '../../activities/inventory';
import { parseInventoryFile } from '../../config/inventory-file';
import { createPool, type Db } from '../../db/pool';
import { findPinnedHostKey, recordFirstContactKey } from '../../db/ssh-host-keys';
import { findSshEndpoint, upsertSshEndpoints } from '../../db/ssh-endpoints';
import { SshCredentials } from '../../providers/ssh/credentials';
import type { HostKey, HostKeyPin } from '../../providers/ssh/host-key';
import { SshError, SshExecutor, type SshTarget } from '../../providers/ssh/session';
import { createTestDatabase } from '../support/env';
import {
  acceptedLogins as acceptedLoginsOf,
  lockSshHosts,
  requireRootForSshHosts,
  sshHostsScript,
  type SshHostsEnv,
  startSshHosts,
  stopSshHosts,
} from '../support/sshhosts';

let releaseHosts: (() => void) | undefined;

let hosts: SshHostsEnv;
let db: Db;
let credentials: SshCredentials;
const wrongKey = utils.generateKeyPairSync('ed25519');

const host = (name: string) => hosts.hosts.find((h) => h.name === name)!;
const target = (name: string): SshTarget => ({ host: name, address: host(name).address, port: host(name).port });
const pinned = (name: string): HostKeyPin => ({
  expected: { fingerprint: host(name).hostKeyFingerprint, keyType: 'ssh-ed25519' },
});
/** Logins the host's sshd accepted so far. */
const acceptedLogins = (name: string) => acceptedLoginsOf(hosts, name);

beforeAll(async () => {
  requireRootForSshHosts();
  releaseHosts = await lockSshHosts(); // one test file at a time on this checkout's hosts
  hosts = startSshHosts();
  credentials = SshCredentials.fromText(
    `test:\n  username: root\n  privateKeyFile: ${hosts.privateKeyPath}\n` +
      `wrong:\n  username: root\n  privateKeyEnv: WRONG_SSH_KEY\n`,
    'test credentials',
    { WRONG_SSH_KEY: wrongKey.private },
  );
  db = createPool((await createTestDatabase()).url, 4);
}, 600_000);

afterAll(async () => {
  await db?.end();
  stopSshHosts(releaseHosts);
});

describe('one connection per host', () => {
  it('runs several commands over one connection, and the host sees one login and one connection', async () => {
    const executor = new SshExecutor();
    const before = acceptedLogins('ssh-1');
    const outputs = await executor.withSession(
      target('ssh-1'),
      credentials.resolve('test'),
      pinned('ssh-1'),
      async (s) => {
        const results = [];
        for (const command of ['hostname', 'id -u', 'uname -s', 'cat /etc/debian_version'])
          results.push(await s.run(command, { timeoutMs: 5000 }));
        // Server side, from inside the host's PID namespace: one sshd session process for root (this connection).
        results.push(await s.run("pgrep -c -f '^sshd: root'", { timeoutMs: 5000 }));
        expect(s.commandsRun).toBe(5);
        return results;
      },
    );
    expect(outputs.map((r) => r.stdout.trim())).toEqual(['ssh-1', '0', 'Linux', expect.stringMatching(/^12\./), '1']);
    expect(outputs.every((r) => r.exitCode === 0 && !r.truncated)).toBe(true);
    expect(executor.connectionsOpened).toBe(1);
    expect(acceptedLogins('ssh-1') - before).toBe(1);
  });

  it('runs commands side by side on the one connection', async () => {
    const executor = new SshExecutor({ maxConcurrentCommands: 4 });
    const started = Date.now();
    const results = await executor.withSession(target('ssh-1'), credentials.resolve('test'), pinned('ssh-1'), (s) =>
      Promise.all([1, 2, 3, 4, 5, 6].map((n) => s.run(`sleep 0.5; echo ${n}`, { timeoutMs: 5000 }))),
    );
    expect(results.map((r) => r.stdout.trim())).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(executor.connectionsOpened).toBe(1);
    expect(Date.now() - started).toBeLessThan(2900); // two rounds of four, not six in a row
  });
});

describe('each host answers from its own root filesystem', () => {
  it.each([
    // sshd -T prints prohibit-password by its older name
    ['ssh-1', '1.2', '640', 'without-password'],
    ['ssh-2', '1.0', '640', 'yes'],
    ['ssh-3', '1.1', '644', 'without-password'],
  ])(
    '%s: its dpkg database has shipshape-test-agent %s; /etc/shadow %s; PermitRootLogin %s',
    async (name, version, shadow, rootLogin) => {
      const answers = await new SshExecutor().withSession(
        target(name),
        credentials.resolve('test'),
        pinned(name),
        async (s) => ({
          hostname: (await s.run('hostname')).stdout.trim(),
          agent: (await s.run("dpkg-query -W -f='${Version}' shipshape-test-agent")).stdout,
          shadow: (await s.run('stat -c %a /etc/shadow')).stdout.trim(),
          rootLogin: (await s.run('sshd -T 2>/dev/null | awk \'$1 == "permitrootlogin" { print $2 }\'')).stdout.trim(),
          worldWritable: (await s.run('find /etc -xdev -type f -perm -0002')).stdout.trim(),
          pid1: (await s.run('cat /proc/1/comm')).stdout.trim(),
        }),
      );
      expect(answers).toEqual({
        hostname: name,
        agent: version,
        shadow,
        rootLogin,
        worldWritable: name === 'ssh-3' ? '/etc/shipshape-test/world-writable.conf' : '',
        pid1: 'sshd', // its own PID namespace: its sshd is PID 1
      });
    },
  );

  it('reports a failing command with its exit code and stderr', async () => {
    const r = await new SshExecutor().withSession(target('ssh-2'), credentials.resolve('test'), pinned('ssh-2'), (s) =>
      s.run('dpkg-query -W no-such-package'),
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/no packages found matching no-such-package/);
  });
});

describe('limits', () => {
  it('stops a command past its timeout, names it, and keeps the connection for the next command', async () => {
    const executor = new SshExecutor();
    await executor.withSession(target('ssh-2'), credentials.resolve('test'), pinned('ssh-2'), async (s) => {
      const started = Date.now();
      const err = await s.run('sleep 37', { timeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SshError);
      expect(err).toMatchObject({ kind: 'command-timeout', host: 'ssh-2' });
      expect((err as Error).message).toMatch(/"sleep 37" on ssh-2 .* ran past its timeout of 500 ms/);
      expect(Date.now() - started).toBeLessThan(3000);
      expect((await s.run('echo still-here')).stdout).toBe('still-here\n');
      // The command is killed on the host (by coreutils' timeout, 0.3 s after the provider's), not left running.
      let left = 0;
      for (let i = 0; i < 20; i++) {
        left = (await s.run('pgrep -x sleep')).exitCode === 0 ? 1 : 0;
        if (!left) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(left).toBe(0);
    });
    expect(executor.connectionsOpened).toBe(1);
  });

  it('cuts output past the cap and marks it truncated', async () => {
    const r = await new SshExecutor().withSession(target('ssh-1'), credentials.resolve('test'), pinned('ssh-1'), (s) =>
      s.run("head -c 200000 /dev/zero | tr '\\0' x; echo err >&2", { maxOutputBytes: 1000 }),
    );
    expect(r).toMatchObject({ exitCode: 0, truncated: true, stderr: 'err\n' });
    expect(r.stdout).toBe('x'.repeat(1000));
  });
});

describe('host keys are pinned', () => {
  it('records the key on first contact, then expects it', async () => {
    const recorded: HostKey[] = [];
    const firstContact: HostKeyPin = {
      expected: null,
      onFirstContact: async (seen) => {
        recorded.push(seen);
        return recordFirstContactKey(db, { host: 'ssh-3', ...seen });
      },
    };
    const first = await new SshExecutor().withSession(
      target('ssh-3'),
      credentials.resolve('test'),
      firstContact,
      async (s) => ({
        key: s.hostKey,
        out: (await s.run('hostname')).stdout.trim(),
      }),
    );
    expect(first).toEqual({
      key: { fingerprint: host('ssh-3').hostKeyFingerprint, keyType: 'ssh-ed25519', firstContact: true },
      out: 'ssh-3',
    });
    expect(await findPinnedHostKey(db, 'ssh-3')).toMatchObject({
      fingerprint: host('ssh-3').hostKeyFingerprint,
      keyType: 'ssh-ed25519',
      source: 'first-contact',
    });
    const pin = (await findPinnedHostKey(db, 'ssh-3'))!;
    const again = await new SshExecutor().withSession(
      target('ssh-3'),
      credentials.resolve('test'),
      { expected: pin, onFirstContact: firstContact.onFirstContact },
      async (s) => s.hostKey,
    );
    expect(again.firstContact).toBe(false);
    expect(recorded).toHaveLength(1);
  });

  it('refuses a host whose key is not the pinned one, naming the host and both keys, and sends nothing', async () => {
    const wrong = { fingerprint: host('ssh-2').hostKeyFingerprint, keyType: 'ssh-ed25519' };
    const before = acceptedLogins('ssh-1');
    const fn = jest.fn();
    const err = await new SshExecutor()
      .withSession(target('ssh-1'), credentials.resolve('test'), { expected: wrong }, fn)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'host-key', host: 'ssh-1' });
    expect((err as Error).message).toContain(`pinned ${wrong.fingerprint}`);
    expect((err as Error).message).toContain(`shown ${host('ssh-1').hostKeyFingerprint}`);
    expect((err as Error).message).toMatch(
      new RegExp(`^host key of ssh-1 \\(127\\.0\\.0\\.1:${host('ssh-1').port}\\) changed: .*nothing was sent$`),
    );
    expect(fn).not.toHaveBeenCalled();
    expect(acceptedLogins('ssh-1')).toBe(before); // no login: the key was refused before authentication
  });

  it('refuses a host whose key changed since first contact (its host keys regenerated)', async () => {
    const old = (await findPinnedHostKey(db, 'ssh-3')) ?? {
      fingerprint: host('ssh-3').hostKeyFingerprint,
      keyType: 'ssh-ed25519',
    };
    sshHostsScript('rekey', 'ssh-3');
    const now = (JSON.parse(sshHostsScript('env')) as SshHostsEnv).hosts.find((h) => h.name === 'ssh-3')!;
    expect(now.hostKeyFingerprint).not.toBe(old.fingerprint);
    const before = acceptedLogins('ssh-3');
    const recordAgain = jest.fn();
    const fn = jest.fn();
    const err = await new SshExecutor()
      .withSession(target('ssh-3'), credentials.resolve('test'), { expected: old, onFirstContact: recordAgain }, fn)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'host-key', host: 'ssh-3' });
    expect((err as Error).message).toContain(old.fingerprint);
    expect((err as Error).message).toContain(now.hostKeyFingerprint);
    expect(fn).not.toHaveBeenCalled();
    expect(recordAgain).not.toHaveBeenCalled(); // a changed key is never silently accepted as a new first contact
    expect(acceptedLogins('ssh-3')).toBe(before);
    hosts = JSON.parse(sshHostsScript('env')) as SshHostsEnv;
  });
});

describe('failures say what failed, without secrets', () => {
  it('a port nothing listens on is "refused", naming host and address', async () => {
    // A port that was free a moment ago: bound, then closed.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const err = await new SshExecutor()
      .withSession(
        { host: 'ssh-9', address: '127.0.0.1', port },
        credentials.resolve('test'),
        pinned('ssh-1'),
        jest.fn(),
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'refused', host: 'ssh-9' });
    expect((err as Error).message).toBe(
      `ssh-9 (127.0.0.1:${port}) refused the connection (nothing listens on that port)`,
    );
  });

  it('a host that accepts but never speaks SSH is a "timeout" within the connect timeout', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const err = await new SshExecutor({ connectTimeoutMs: 700 })
        .withSession(
          { host: 'mute', address: '127.0.0.1', port },
          credentials.resolve('test'),
          pinned('ssh-1'),
          jest.fn(),
        )
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'timeout', host: 'mute' });
      expect((err as Error).message).toMatch(/no SSH handshake and login within 700 ms/);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      silent.close();
    }
  });

  it('a key the host does not accept is an "auth" error that names the credentials, not the key', async () => {
    const access = credentials.resolve('wrong');
    const err = await new SshExecutor()
      .withSession(target('ssh-2'), access, pinned('ssh-2'), jest.fn())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'auth', host: 'ssh-2' });
    expect((err as Error).message).toBe(
      `ssh-2 (127.0.0.1:${host('ssh-2').port}) refused the login of root with the key of credentials "wrong"`,
    );
    const keyBody = wrongKey.private.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
    for (const shown of [
      (err as Error).message,
      JSON.stringify(err),
      inspect(err),
      inspect(access),
      JSON.stringify(access),
    ])
      for (const line of keyBody) expect(shown).not.toContain(line);
  });
});

describe('endpoints from the inventory file', () => {
  it('connects to a host through the endpoint and the host key the inventory file states', async () => {
    const inventory = parseInventoryFile(
      `hosts:\n  ssh-2:\n    ssh:\n      address: 127.0.0.1\n      port: ${host('ssh-2').port}\n      credentials: test\n` +
        `      hostKey:\n        fingerprint: ${host('ssh-2').hostKeyFingerprint}\n        type: ssh-ed25519\n`,
      'inventory.yaml',
    );
    await upsertSshEndpoints(db, [{ host: 'gone-01', address: '192.0.2.1', port: 22, credentialsRef: 'test' }]);
    expect(await syncInventoryFile(db, inventory)).toBe(1);
    expect(await findSshEndpoint(db, 'gone-01')).toBeNull(); // the file is the whole truth for endpoints
    const endpoint = (await findSshEndpoint(db, 'ssh-2'))!;
    const pin = (await findPinnedHostKey(db, 'ssh-2'))!;
    expect(pin.source).toBe('inventory');
    const out = await new SshExecutor().withSession(
      { host: 'ssh-2', address: endpoint.address, port: endpoint.port },
      credentials.resolve(endpoint.credentialsRef),
      { expected: pin },
      async (s) => (await s.run('hostname')).stdout.trim(),
    );
    expect(out).toBe('ssh-2');
  });
});
