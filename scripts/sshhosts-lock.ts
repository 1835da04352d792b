/**
 * The lock on a checkout's SSH test hosts (test/sshhosts/hosts.sh), shared by the tests
 * (test/support/sshhosts.ts) and the benchmark (bench/compliance-ssh.ts): whoever holds it from before it
 * starts the hosts until after it stops them is alone on them, so no one stops, rekeys or resets the hosts
 * under another. A directory with the holder's pid; a lock whose holder is gone is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The lock of the checkout at `projectRoot` (SHIPSHAPE_SSHHOSTS_DIR and SHIPSHAPE_SSHHOSTS_PORT_BASE as hosts.sh takes them). */
export function sshHostsLockPath(projectRoot: string): string {
  return join(
    process.env.SHIPSHAPE_SSHHOSTS_DIR ?? join(projectRoot, '.data', 'sshhosts'),
    `tests-${process.env.SHIPSHAPE_SSHHOSTS_PORT_BASE ?? '22221'}.lock`,
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Wait until this process holds the lock at `lock` (up to `timeoutMs`, looking every `pollMs`), then return the release. */
export async function takeSshHostsLock(lock: string, timeoutMs: number, pollMs: number): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  mkdirSync(join(lock, '..'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    } catch {
      // being written, or just released
    }
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) rmSync(lock, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`the SSH test hosts stayed locked by process ${holder} (${lock})`);
    await new Promise((ok) => setTimeout(ok, pollMs));
  }
}
