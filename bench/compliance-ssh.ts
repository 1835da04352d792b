/**
 * The compliance scan over real SSH: the test hosts of test/sshhosts/hosts.sh
 * (three Debian 12 sshd's on loopback), read by the real SshExecutor.
 *
 *  - checks per second per host over one connection, with 1, 4 and 16
 *    commands in flight (OpenSSH allows 10 sessions per connection: past 10 a
 *    channel's opening is refused and retried);
 *  - the three hosts at once, one connection each;
 *  - the whole os-baseline profile on one host through the real activity
 *    scanHostCompliance (one connection, findings stored in PostgreSQL).
 *
 * The hosts are shared with the tests of this checkout: the benchmark holds
 * the tests' lock (scripts/sshhosts-lock.ts, which test/support/sshhosts.ts
 * takes too) from before it starts them until it stops them.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createComplianceActivities, type HostScanResult } from '../activities/compliance';
import { upsertInventory } from '../db/hosts';
import { createPool } from '../db/pool';
import { upsertSshEndpoints } from '../db/ssh-endpoints';
import { planHostScan } from '../domain/compliance';
import { loadProfiles } from '../policies/compliance-loader';
import { SshCredentials } from '../providers/ssh/credentials';
import { SshExecutor } from '../providers/ssh/session';
import { PROJECT_ROOT } from '../scripts/services';
import { sshHostsLockPath, takeSshHostsLock } from '../scripts/sshhosts-lock';

interface SshHostsEnv {
  privateKeyPath: string;
  hosts: { name: string; address: string; port: number; hostKeyFingerprint: string }[];
}

const SCRIPT = join(PROJECT_ROOT, 'test', 'sshhosts', 'hosts.sh');
const PROFILES_DIR = join(PROJECT_ROOT, 'policies', 'compliance');

/** The tests' lock on the SSH hosts (test/support/sshhosts.ts `lockSshHosts`: the same lock). */
const lockSshHosts = (timeoutMs = 600_000) => takeSshHostsLock(sshHostsLockPath(PROJECT_ROOT), timeoutMs, 500);

const hostsScript = (...args: string[]) =>
  execFileSync('bash', [SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });

export interface SshBenchRow {
  what: string;
  checks: number;
  seconds: number;
}

/** Run the real-SSH measurements; needs root (the test hosts) and a database URL for the activity's run. */
export async function runSshBench(databaseUrl: string, log: (line: string) => void): Promise<SshBenchRow[]> {
  const release = await lockSshHosts();
  try {
    hostsScript('start');
    const env = JSON.parse(hostsScript('env')) as SshHostsEnv;
    const credentials = SshCredentials.fromText(
      `fleet-root:\n  username: root\n  privateKeyFile: ${env.privateKeyPath}\n`,
      'bench credentials',
    );
    const access = credentials.resolve('fleet-root');
    // The commands of the os-baseline profile, repeated to make a run of 120 checks.
    const profiles = loadProfiles(PROFILES_DIR).filter((p) => p.name === 'os-baseline');
    const commands = planHostScan(profiles, { host: 'ssh-1', roles: ['compute'], zone: null, labels: {} }).sshCommands;
    const run = Array.from({ length: 120 }, (_, i) => commands[i % commands.length]!);
    const rows: SshBenchRow[] = [];

    const readHost = async (executor: SshExecutor, name: string): Promise<number> => {
      const h = env.hosts.find((x) => x.name === name)!;
      return executor.withSession(
        { host: h.name, address: h.address, port: h.port },
        access,
        { expected: { fingerprint: h.hostKeyFingerprint, keyType: 'ssh-ed25519' } },
        async (session) => {
          const results = await Promise.all(run.map((c) => session.run(c, { timeoutMs: 30_000 })));
          if (results.some((r) => r.exitCode === null)) throw new Error(`${name}: a command did not finish`);
          return results.length;
        },
      );
    };

    for (const concurrency of [1, 4, 16]) {
      const executor = new SshExecutor({ maxConcurrentCommands: concurrency });
      await readHost(executor, 'ssh-1'); // warm: the host's page cache, sshd's first fork
      const t = performance.now();
      const checks = await readHost(executor, 'ssh-1');
      rows.push({
        what: `ssh-1, one connection, ${concurrency} in flight`,
        checks,
        seconds: (performance.now() - t) / 1000,
      });
      log(`[compliance-ssh] ${rows.at(-1)!.what}: ${(checks / rows.at(-1)!.seconds).toFixed(0)} checks/s`);
    }
    const executor = new SshExecutor({ maxConcurrentCommands: 4 });
    const t = performance.now();
    const counts = await Promise.all(env.hosts.map((h) => readHost(executor, h.name)));
    rows.push({
      what: `3 hosts at once, one connection each, 4 in flight`,
      checks: counts.reduce((a, b) => a + b, 0),
      seconds: (performance.now() - t) / 1000,
    });

    // The whole profile through the real activity: plan, one connection, judge, one transaction.
    const db = createPool(databaseUrl, 4);
    try {
      await upsertInventory(db, [{ id: 'ssh-1', zone: 'zone-a', roles: ['compute'], bmc: null }], 'simulated');
      const h = env.hosts.find((x) => x.name === 'ssh-1')!;
      await upsertSshEndpoints(db, [{ host: 'ssh-1', address: h.address, port: h.port, credentialsRef: 'fleet-root' }]);
      const activities = createComplianceActivities({ db, sshCredentials: credentials, profilesDir: PROFILES_DIR });
      const mock = new MockActivityEnvironment();
      for (const label of ['first contact', 'pinned']) {
        const t0 = performance.now();
        const r: HostScanResult = await mock.run(activities.scanHostCompliance, {
          host: 'ssh-1',
          profiles: ['os-baseline'],
        });
        if (r.sshError) throw new Error(`ssh-1 was not read: ${r.sshError}`);
        const n = Object.values(r.counts).reduce((a, b) => a + b, 0);
        rows.push({
          what: `os-baseline on ssh-1 via scanHostCompliance (${label}; ${commands.length} commands)`,
          checks: n,
          seconds: (performance.now() - t0) / 1000,
        });
      }
    } finally {
      await db.end();
    }
    return rows;
  } finally {
    try {
      hostsScript('stop');
    } finally {
      release();
    }
  }
}
