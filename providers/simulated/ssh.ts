/**
 * Simulated hosts over "SSH": an `SshExecutor` whose sessions answer from a
 * picture of each host (packages, files, file modes, services, commands)
 * instead of a network connection. The scans run through it unchanged, so the
 * demo and the fleet-scale benchmark scan a thousand hosts without sshd.
 *
 * Like the real executor it checks the host's key against its pin first (each
 * simulated host has a key of its own, derived from its name): a wrong pin
 * refuses the host and nothing is "sent"; no pin records the key shown.
 *
 * Answers are deterministic per host, so a host's findings are the same from
 * scan to scan. `demoHost` is the demo fleet's picture: a compliant Debian 12
 * host with drifts chosen by a hash of the host's name, so findings differ per
 * host for reasons one can read (root login on, /etc/shadow 0644, ...).
 */
import { createHash } from 'node:crypto';
import type { SshAccess } from '../ssh/credentials';
import type { HostKey, HostKeyPin } from '../ssh/host-key';
import {
  SshError,
  SshExecutor,
  type CommandResult,
  type RunOptions,
  type SshSession,
  type SshTarget,
} from '../ssh/session';

/** What one command gives on a simulated host. */
export interface SimulatedOutput {
  exitCode: number;
  stdout?: string;
  stderr?: string;
}

/** A simulated host as its commands see it. Anything not listed does not exist. */
export interface SimulatedHostPicture {
  /** Package name → installed version. */
  packages: Record<string, string>;
  /** Path → content (what `cat -- path` prints). */
  files: Record<string, string>;
  /** Path → `<octal mode> <owner> <group>` (what `stat -c '%a %U %G'` prints). */
  modes: Record<string, string>;
  /** Unit → its states. */
  services: Record<string, { active: string; enabled: string }>;
  /** Any other command, by its exact text. Unknown commands exit 127. */
  commands: Record<string, SimulatedOutput>;
}

export interface SimulatedSshOptions {
  /** The picture of each host, by its inventory name (called once per session). */
  hostPicture: (host: string) => SimulatedHostPicture;
  /** Each command's simulated round trip (default 2 ms: a command over a LAN SSH connection). */
  latencyMs?: number;
  /** Connection set-up (handshake, login; default 20 ms). */
  connectMs?: number;
  /** A host's key, when it is not the one derived from its name (a rebuilt host). */
  hostKey?: (host: string) => HostKey;
  /** Told of every command run, after its answer: a simulated fleet whose hosts change (a fix applied). */
  onCommand?: (host: string, command: string) => void;
  maxConcurrentCommands?: number;
}

/** The simulated key of a host: an ed25519 fingerprint derived from its name. */
export function simulatedHostKey(host: string, generation = 0): HostKey {
  const digest = createHash('sha256').update(`simulated-ssh-host-key:${host}:${generation}`).digest('base64');
  return { fingerprint: `SHA256:${digest.replace(/=+$/, '')}`, keyType: 'ssh-ed25519' };
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((ok) => setTimeout(ok, ms)) : Promise.resolve());

/** The real executor's interface, answered by pictures of hosts. */
export class SimulatedSshExecutor extends SshExecutor {
  private readonly sim: Required<Omit<SimulatedSshOptions, 'hostKey' | 'onCommand'>> &
    Pick<SimulatedSshOptions, 'hostKey' | 'onCommand'>;
  commandsRun = 0;

  constructor(options: SimulatedSshOptions) {
    super();
    this.sim = { latencyMs: 2, connectMs: 20, maxConcurrentCommands: 4, ...options };
  }

  override async withSession<T>(
    target: SshTarget,
    _access: SshAccess,
    pin: HostKeyPin,
    fn: (session: SshSession) => Promise<T>,
  ): Promise<T> {
    const where = `${target.host} (${target.address}:${target.port})`;
    await sleep(this.sim.connectMs);
    const shown = this.sim.hostKey?.(target.host) ?? simulatedHostKey(target.host);
    let firstContact = false;
    if (pin.expected) {
      if (pin.expected.fingerprint !== shown.fingerprint)
        throw new SshError(
          'host-key',
          target.host,
          `host key of ${where} changed: pinned ${pin.expected.fingerprint} (${pin.expected.keyType}), ` +
            `shown ${shown.fingerprint} (${shown.keyType}); nothing was sent`,
        );
    } else {
      if (!pin.onFirstContact)
        throw new SshError(
          'host-key',
          target.host,
          `no host key pinned for ${where} and none may be recorded; shown ${shown.fingerprint}`,
        );
      const recorded = await pin.onFirstContact(shown);
      if (recorded.fingerprint !== shown.fingerprint)
        throw new SshError(
          'host-key',
          target.host,
          `host key of ${where} was pinned meanwhile as ${recorded.fingerprint}; nothing was sent`,
        );
      firstContact = true;
    }
    this.connectionsOpened += 1;
    const picture = this.sim.hostPicture(target.host);
    let running = 0;
    let commandsRun = 0;
    const waiting: Array<() => void> = [];
    const run = async (command: string, _options?: RunOptions): Promise<CommandResult> => {
      // At most a few commands in flight on one connection, as on the real one.
      if (running >= this.sim.maxConcurrentCommands) await new Promise<void>((ok) => waiting.push(ok));
      running += 1;
      try {
        const started = performance.now();
        await sleep(this.sim.latencyMs);
        commandsRun += 1;
        this.commandsRun += 1;
        const out = answer(picture, command);
        this.sim.onCommand?.(target.host, command);
        return {
          exitCode: out.exitCode,
          signal: null,
          stdout: out.stdout ?? '',
          stderr: out.stderr ?? '',
          truncated: false,
          durationMs: Math.round(performance.now() - started),
        };
      } finally {
        running -= 1;
        waiting.shift()?.();
      }
    };
    return fn({
      host: target.host,
      hostKey: { ...shown, firstContact },
      get commandsRun() {
        return commandsRun;
      },
      run,
    });
  }
}

/** A shell word as the scans quote it ('...' with '\'' for each quote), read back. */
const WORD = `'((?:[^']|'\\\\'')*)'`;
const unquote = (w: string) => w.replace(/'\\''/g, "'");
const PACKAGE = new RegExp(`^dpkg-query -W -f '\\$\\{Status\\}\\\\t\\$\\{Version\\}\\\\n' ${WORD}$`);
const CAT = new RegExp(`^cat -- ${WORD}$`);
const STAT = new RegExp(`^stat -c '%a %U %G' -- ${WORD}$`);
const SYSTEMCTL = new RegExp(`^systemctl (is-active|is-enabled) -- ${WORD}$`);

/** What `command` gives on the pictured host. */
export function answer(picture: SimulatedHostPicture, command: string): SimulatedOutput {
  const known = picture.commands[command];
  if (known) return known;
  let m = PACKAGE.exec(command);
  if (m) {
    const pkg = unquote(m[1]!);
    const version = picture.packages[pkg];
    return version === undefined
      ? { exitCode: 1, stderr: `dpkg-query: no packages found matching ${pkg}\n` }
      : { exitCode: 0, stdout: `install ok installed\t${version}\n` };
  }
  m = CAT.exec(command);
  if (m) {
    const path = unquote(m[1]!);
    const content = picture.files[path];
    return content === undefined
      ? { exitCode: 1, stderr: `cat: ${path}: No such file or directory\n` }
      : { exitCode: 0, stdout: content };
  }
  m = STAT.exec(command);
  if (m) {
    const path = unquote(m[1]!);
    const mode = picture.modes[path];
    return mode === undefined
      ? { exitCode: 1, stderr: `stat: cannot statx '${path}': No such file or directory\n` }
      : { exitCode: 0, stdout: `${mode}\n` };
  }
  m = SYSTEMCTL.exec(command);
  if (m) {
    const unit = picture.services[unquote(m[2]!)];
    if (m[1] === 'is-active') {
      const state = unit?.active ?? 'inactive';
      return { exitCode: state === 'active' ? 0 : 3, stdout: `${state}\n` };
    }
    const state = unit?.enabled ?? 'not-found';
    return state === 'not-found'
      ? { exitCode: 1, stderr: `Failed to get unit file state for ${m[2]}: No such file or directory\n` }
      : { exitCode: state === 'enabled' || state === 'static' ? 0 : 1, stdout: `${state}\n` };
  }
  return { exitCode: 127, stderr: `sh: 1: ${command.split(' ')[0]}: not found\n` };
}

// ---- The demo fleet's hosts: Debian 12 as the shipped os-baseline profile reads it ----

const SSHD_CONFIG_COMMAND = 'cat /etc/ssh/sshd_config.d/*.conf 2>/dev/null; cat /etc/ssh/sshd_config';
const TIME_SYNC_COMMAND =
  'timedatectl show -p NTPSynchronized --value 2>/dev/null | grep -qx yes || systemctl is-active --quiet systemd-timesyncd chrony chronyd ntp ntpsec openntpd 2>/dev/null';
const APT_SOURCES_COMMAND =
  'cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null';
const WORLD_WRITABLE_COMMAND = 'find /etc -xdev -perm -0002 ! -type l -print 2>/dev/null';

const APT_SOURCES = [
  'Types: deb',
  'URIs: http://deb.debian.org/debian',
  'Suites: bookworm bookworm-updates',
  'Components: main',
  '',
  'Types: deb',
  'URIs: http://deb.debian.org/debian-security',
  'Suites: bookworm-security',
  'Components: main',
  '',
].join('\n');

/** A Debian 12 host that passes every rule of os-baseline. */
export function compliantDebianHost(): SimulatedHostPicture {
  const sshd = 'Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\nUsePAM yes\n';
  return {
    packages: { 'openssh-server': '1:9.2p1-2+deb12u3', 'systemd-timesyncd': '252.31-1~deb12u1' },
    files: { '/etc/ssh/sshd_config': sshd },
    modes: { '/etc/shadow': '640 root shadow', '/etc/passwd': '644 root root' },
    services: {
      ssh: { active: 'active', enabled: 'enabled' },
      'systemd-timesyncd': { active: 'active', enabled: 'enabled' },
    },
    commands: {
      [SSHD_CONFIG_COMMAND]: { exitCode: 0, stdout: sshd },
      [TIME_SYNC_COMMAND]: { exitCode: 0 },
      [APT_SOURCES_COMMAND]: { exitCode: 0, stdout: APT_SOURCES },
      [WORLD_WRITABLE_COMMAND]: { exitCode: 0, stdout: '' },
    },
  };
}

/** One way a host drifts from the baseline, what it does to the picture, and the command that fixes it. */
interface Drift {
  name: string;
  /** About one host in `oneIn` has it. */
  oneIn: number;
  apply(p: SimulatedHostPicture): void;
  /** The fix of the os-baseline rule it fails (policies/compliance/os-baseline.yaml), exactly as written there. */
  fix?: string;
}

const DRIFTS: Drift[] = [
  {
    name: 'root-login',
    oneIn: 4,
    apply: (p) => {
      const sshd = 'PermitRootLogin yes\nPasswordAuthentication no\n';
      p.commands[SSHD_CONFIG_COMMAND] = { exitCode: 0, stdout: sshd };
    },
    fix: 'printf "PermitRootLogin no\\n" > /etc/ssh/sshd_config.d/00-shipshape-root.conf && systemctl reload ssh',
  },
  {
    name: 'password-login',
    oneIn: 6,
    apply: (p) => {
      const before = p.commands[SSHD_CONFIG_COMMAND]?.stdout ?? '';
      p.commands[SSHD_CONFIG_COMMAND] = {
        exitCode: 0,
        stdout: `PasswordAuthentication yes\n${before}`,
      };
    },
    fix: 'printf "PasswordAuthentication no\\n" > /etc/ssh/sshd_config.d/00-shipshape-password.conf && systemctl reload ssh',
  },
  {
    name: 'shadow-mode',
    oneIn: 8,
    apply: (p) => void (p.modes['/etc/shadow'] = '644 root shadow'),
    fix: 'chown root:shadow /etc/shadow && chmod 0640 /etc/shadow',
  },
  {
    name: 'old-openssh',
    oneIn: 5,
    apply: (p) => void (p.packages['openssh-server'] = '1:9.2p1-2+deb12u2'),
    fix: 'DEBIAN_FRONTEND=noninteractive apt-get install -y --only-upgrade openssh-server',
  },
  {
    name: 'no-time-sync',
    oneIn: 7,
    apply: (p) => void (p.commands[TIME_SYNC_COMMAND] = { exitCode: 1 }),
    fix: 'systemctl enable --now systemd-timesyncd',
  },
  {
    name: 'no-security-source',
    oneIn: 9,
    apply: (p) =>
      void (p.commands[APT_SOURCES_COMMAND] = {
        exitCode: 0,
        stdout: 'deb http://deb.debian.org/debian bookworm main\n',
      }),
  },
  {
    name: 'world-writable',
    oneIn: 10,
    apply: (p) => void (p.commands[WORLD_WRITABLE_COMMAND] = { exitCode: 0, stdout: '/etc/cron.d/backup-legacy\n' }),
    fix: 'find /etc -xdev -perm -0002 ! -type l -exec chmod o-w {} +',
  },
];

/** A number in [0, n) from a host's name and a salt: the same every time. */
export function hostHash(host: string, salt: string, n: number): number {
  return createHash('sha256').update(`${salt}:${host}`).digest().readUInt32BE(0) % n;
}

/** The drifts a demo host has (by name), chosen by a hash of its name. */
export function demoHostDrifts(host: string): string[] {
  return DRIFTS.filter((d) => hostHash(host, d.name, d.oneIn) === 0).map((d) => d.name);
}

/** The demo fleet's picture of a host: the compliant baseline with its drifts (none ever fixed). */
export function demoHost(host: string): SimulatedHostPicture {
  return new SimulatedDebianFleet().picture(host);
}

/**
 * The demo fleet with memory: each host has its drifts until the fix of one runs on it (the command of the
 * os-baseline rule's fix), after which it has that drift no more. Give `picture` and `ran` to the executor:
 *
 *   new SimulatedSshExecutor({ hostPicture: (h) => fleet.picture(h), onCommand: (h, c) => fleet.ran(h, c) })
 */
export class SimulatedDebianFleet {
  private readonly fixed = new Set<string>();

  picture(host: string): SimulatedHostPicture {
    const picture = compliantDebianHost();
    for (const d of DRIFTS) {
      if (d.fix) picture.commands[d.fix] = { exitCode: 0 };
      if (hostHash(host, d.name, d.oneIn) === 0 && !this.fixed.has(`${host}/${d.name}`)) d.apply(picture);
    }
    return picture;
  }

  ran(host: string, command: string): void {
    for (const d of DRIFTS) if (d.fix === command) this.fixed.add(`${host}/${d.name}`);
  }
}
