/**
 * The SSH test hosts for tests: the script, what it prints, and a lock.
 *
 * The SSH test hosts are one set per checkout (test/sshhosts/hosts.sh): a test file that uses them holds
 * this lock from before it starts them until after it stops them, so two such files in one jest run (two
 * workers) never stop, rekey or reset the hosts under each other (scripts/sshhosts-lock.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshCredentials } from '../../providers/ssh/credentials';
import { sshHostsLockPath, takeSshHostsLock } from '../../scripts/sshhosts-lock';

const LOCK = sshHostsLockPath(join(__dirname, '../..'));

/** Wait until this process holds the hosts (up to `timeoutMs`), then return the release. */
export function lockSshHosts(timeoutMs = 300_000): Promise<() => void> {
  return takeSshHostsLock(LOCK, timeoutMs, 200);
}

/** Throw unless this process is root: the SSH test hosts need it. */
export function requireRootForSshHosts(): void {
  if (process.getuid?.() !== 0)
    throw new Error('the SSH test hosts need root (debootstrap, chroot, namespaces): run the tests as root');
}

/** Start the SSH test hosts (building them first when needed: about a minute, once; hold the lock); what `hosts.sh env` prints. */
export function startSshHosts(): SshHostsEnv {
  sshHostsScript('start');
  return JSON.parse(sshHostsScript('env')) as SshHostsEnv;
}

/** Stop the SSH test hosts, then release the lock (when held) whether or not they stopped. */
export function stopSshHosts(release: (() => void) | undefined): void {
  try {
    sshHostsScript('stop');
  } finally {
    release?.();
  }
}

/** SSH credentials of one entry, `fleet-root`: root with the hosts' client key. */
export function fleetRootCredentials(hosts: SshHostsEnv): SshCredentials {
  return SshCredentials.fromText(
    `fleet-root:\n  username: root\n  privateKeyFile: ${hosts.privateKeyPath}\n`,
    'test credentials',
  );
}

/** What `hosts.sh env` prints: the hosts, the client key, each host's sshd log and host keys. */
export interface SshHostsEnv {
  user: string;
  privateKeyPath: string;
  hosts: {
    name: string;
    address: string;
    port: number;
    log: string;
    agentVersion: string;
    hostKeyFingerprint: string;
    hostKeys: Record<string, string>;
  }[];
}

const SCRIPT = join(__dirname, '../sshhosts/hosts.sh');

/** Run test/sshhosts/hosts.sh; a failure says which command and ends with the script's last output. */
export function sshHostsScript(...args: string[]): string {
  try {
    return execFileSync('bash', [SCRIPT, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 600_000,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`test/sshhosts/hosts.sh ${args.join(' ')} failed:\n${(e.stderr ?? e.message).slice(-3000)}`);
  }
}

/** Logins a host's sshd accepted so far (its log, from -e). */
export function acceptedLogins(hosts: SshHostsEnv, name: string): number {
  const log = hosts.hosts.find((h) => h.name === name)!.log;
  return (readFileSync(log, 'utf8').match(/Accepted publickey for root/g) ?? []).length;
}
