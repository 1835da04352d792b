/**
 * Commands on a host over SSH: one connection per host for all of a scan's
 * commands, the host's key checked against its pin before anything is sent,
 * every command with a timeout and an output cap.
 *
 *   await withSshSession(target, access, pin, async (session) => {
 *     const r = await session.run('dpkg-query -W openssh-server', { timeoutMs: 5000 });
 *   });
 *
 * Errors are `SshError`s with a `kind` (what failed) and a message naming
 * the host and the address, never a key or a passphrase. Commands are not
 * secret: an error may quote one, so a command must not carry a secret.
 */
import { Client, type ClientChannel, type ConnectConfig, type VerifyCallback } from 'ssh2';
import type { SshAccess } from './credentials';
import { fingerprintOf, hostKeyAlgorithmsFor, keyTypeOf, type HostKey, type HostKeyPin } from './host-key';

/** What failed. `host-key`: the host showed another key than its pin, and nothing was sent. */
export type SshFailure =
  | 'refused'
  | 'unreachable'
  | 'timeout'
  | 'auth'
  | 'host-key'
  | 'command-timeout'
  | 'closed'
  | 'protocol';

export class SshError extends Error {
  constructor(
    readonly kind: SshFailure,
    readonly host: string,
    message: string,
  ) {
    super(message);
    this.name = 'SshError';
  }
}

export interface SshTarget {
  /** The host's name in the inventory (what errors and pins name). */
  host: string;
  address: string;
  port: number;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Per stream (stdout, stderr): bytes kept; the rest is read and dropped, and `truncated` says so. */
  maxOutputBytes?: number;
}

export interface CommandResult {
  /** null when the command ended by a signal. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
}

export interface SshSession {
  readonly host: string;
  /** The key the host showed, and whether this connection pinned it (first contact). */
  readonly hostKey: HostKey & { firstContact: boolean };
  readonly commandsRun: number;
  run(command: string, options?: RunOptions): Promise<CommandResult>;
}

export interface SshExecutorOptions {
  /** TCP connect, SSH handshake and authentication together. */
  connectTimeoutMs?: number;
  defaultTimeoutMs?: number;
  defaultMaxOutputBytes?: number;
  /** Commands in flight at once on one connection (OpenSSH allows 10 sessions per connection). */
  maxConcurrentCommands?: number;
  /**
   * Run each command under the host's `timeout -s KILL` (coreutils), so that a command past its timeout is
   * killed on the host with its whole process group. Without it, the provider asks sshd to signal the
   * command, which OpenSSH does only for sessions under privilege separation (not for root's), and a
   * command that ignores its closed channel keeps running. Default true; false for hosts without coreutils.
   */
  killOnHost?: boolean;
}

/**
 * The host kills a command this long after its timeout: the provider's own timer has reported the timeout
 * by then, so a command the host killed is never mistaken for one that ended (exit 137).
 */
const HOST_KILL_GRACE_MS = 300;
const CHANNEL_OPEN_ATTEMPTS = 5;

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  defaultTimeoutMs: 30_000,
  defaultMaxOutputBytes: 1024 * 1024,
  maxConcurrentCommands: 4,
  killOnHost: true,
};

/** Runs scans' commands over SSH, one connection per session; counts what it opened (for tests and the benchmark). */
export class SshExecutor {
  private readonly options: typeof DEFAULTS;
  connectionsOpened = 0;

  constructor(options: SshExecutorOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Open one connection, run `fn` with it, close it (also when `fn` throws). */
  async withSession<T>(
    target: SshTarget,
    access: SshAccess,
    pin: HostKeyPin,
    fn: (session: SshSession) => Promise<T>,
  ): Promise<T> {
    const connection = await this.connect(target, access, pin);
    try {
      return await fn(connection.session);
    } finally {
      await connection.close();
    }
  }

  private connect(target: SshTarget, access: SshAccess, pin: HostKeyPin): Promise<Connection> {
    const where = `${target.host} (${target.address}:${target.port})`;
    const client = new Client();
    let pinned: HostKey | null = pin.expected;
    let seen: (HostKey & { firstContact: boolean }) | null = null;
    let refusal: SshError | null = null;

    const hostVerifier = (key: Buffer, verify: VerifyCallback): void => {
      const shown: HostKey = { fingerprint: fingerprintOf(key), keyType: keyTypeOf(key) };
      if (pinned) {
        if (shown.fingerprint === pinned.fingerprint) {
          seen ??= { ...shown, firstContact: false };
          verify(true);
          return;
        }
        refusal = new SshError(
          'host-key',
          target.host,
          `host key of ${where} changed: pinned ${pinned.fingerprint} (${pinned.keyType}), ` +
            `shown ${shown.fingerprint} (${shown.keyType}); nothing was sent`,
        );
        verify(false);
        return;
      }
      if (!pin.onFirstContact) {
        refusal = new SshError(
          'host-key',
          target.host,
          `no host key pinned for ${where} and none may be recorded; shown ${shown.fingerprint}`,
        );
        verify(false);
        return;
      }
      Promise.resolve()
        .then(() => pin.onFirstContact!(shown))
        .then(
          (recorded) => {
            if (recorded.fingerprint !== shown.fingerprint) {
              refusal = new SshError(
                'host-key',
                target.host,
                `host key of ${where} was pinned meanwhile as ${recorded.fingerprint} (${recorded.keyType}), ` +
                  `shown ${shown.fingerprint} (${shown.keyType}); nothing was sent`,
              );
              verify(false);
              return;
            }
            pinned = recorded;
            seen = { ...shown, firstContact: true };
            verify(true);
          },
          (err: unknown) => {
            refusal = new SshError(
              'host-key',
              target.host,
              `the host key of ${where} could not be recorded on first contact: ${(err as Error).message}`,
            );
            verify(false);
          },
        );
    };

    const algorithms = pin.expected ? hostKeyAlgorithmsFor(pin.expected.keyType) : undefined;
    const config: ConnectConfig = {
      host: target.address,
      port: target.port,
      username: access.username,
      privateKey: access.privateKey(),
      passphrase: access.passphrase(),
      readyTimeout: this.options.connectTimeoutMs,
      hostVerifier,
      // Only the key: no agent, no keyboard-interactive or password prompts.
      tryKeyboard: false,
      ...(algorithms ? { algorithms: { serverHostKey: algorithms as never } } : {}),
    };

    return new Promise<Connection>((resolve, reject) => {
      let ready = false;
      let failed = false;
      // 'on', not 'once': ssh2 may report a second error (the socket lost) after the first; only the first counts.
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (ready || failed) return;
        failed = true;
        client.end();
        reject(refusal ?? describeConnectError(err, target, where, access, pin, this.options.connectTimeoutMs));
      });
      client.once('close', () => {
        if (!ready) reject(refusal ?? new SshError('closed', target.host, `${where} closed the connection`));
      });
      client.once('ready', () => {
        ready = true;
        // Without it, Nagle's algorithm holds each small packet until the last is acknowledged, and the host
        // delays its ACKs: a command run after another took ~60 ms instead of ~16 ms (bench/compliance-ssh.ts).
        client.setNoDelay(true);
        this.connectionsOpened += 1;
        resolve(new Connection(client, target, where, seen!, this.options));
      });
      try {
        client.connect(config);
      } catch (err) {
        // ssh2 throws synchronously on a key it cannot parse; the message names the format, not the key.
        reject(
          new SshError('auth', target.host, `credentials "${access.name}" for ${where}: ${(err as Error).message}`),
        );
      }
    });
  }
}

function describeConnectError(
  err: Error & { level?: string; code?: string },
  target: SshTarget,
  where: string,
  access: SshAccess,
  pin: HostKeyPin,
  timeoutMs: number,
): SshError {
  switch (err.code) {
    case 'ECONNREFUSED':
      return new SshError('refused', target.host, `${where} refused the connection (nothing listens on that port)`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SshError('unreachable', target.host, `${where} cannot be reached (${err.code})`);
    case 'ECONNRESET':
      return new SshError('closed', target.host, `${where} reset the connection during the handshake`);
  }
  // Only the pinned key's type is offered: a host without a key of that type cannot be the pinned host.
  if (pin.expected && /host key/i.test(err.message))
    return new SshError(
      'host-key',
      target.host,
      `${where} shows no ${pin.expected.keyType} host key, the type pinned (${pin.expected.fingerprint}); nothing was sent`,
    );
  if (err.level === 'client-timeout')
    return new SshError('timeout', target.host, `${where}: no SSH handshake and login within ${timeoutMs} ms`);
  if (err.level === 'client-authentication')
    return new SshError(
      'auth',
      target.host,
      `${where} refused the login of ${access.username} with the key of credentials "${access.name}"`,
    );
  return new SshError('protocol', target.host, `${where}: ${err.message}`);
}

/** A command's channel, with its exit status once the host sent it. */
interface OpenedChannel {
  channel: ClientChannel;
  exit: { code: number | null; signal: string | null } | null;
}

/** One open connection: runs commands on channels of it, at most a few at a time. */
class Connection {
  private closed = false;
  private closedReason: string | null = null;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly openChannels = new Set<ClientChannel>();
  commandsRun = 0;
  readonly session: SshSession;

  constructor(
    private readonly client: Client,
    private readonly target: SshTarget,
    private readonly where: string,
    hostKey: HostKey & { firstContact: boolean },
    private readonly options: typeof DEFAULTS,
  ) {
    client.on('error', (err) => {
      this.closedReason = err.message;
    });
    client.on('close', () => {
      this.closed = true;
      for (const channel of this.openChannels) channel.destroy();
    });
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const connection = this;
    this.session = {
      host: target.host,
      hostKey,
      get commandsRun() {
        return connection.commandsRun;
      },
      run: (command, runOptions) => this.run(command, runOptions),
    };
  }

  async run(command: string, runOptions: RunOptions = {}): Promise<CommandResult> {
    await this.slot();
    try {
      if (this.closed) throw this.closedError(command);
      this.commandsRun += 1;
      return await this.exec(command, {
        timeoutMs: runOptions.timeoutMs ?? this.options.defaultTimeoutMs,
        maxOutputBytes: runOptions.maxOutputBytes ?? this.options.defaultMaxOutputBytes,
      });
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }

  private async slot(): Promise<void> {
    if (this.running < this.options.maxConcurrentCommands) {
      this.running += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
  }

  private closedError(command: string): SshError {
    return new SshError(
      'closed',
      this.target.host,
      `${this.where}: the connection closed before ${quote(command)} finished` +
        (this.closedReason ? ` (${this.closedReason})` : ''),
    );
  }

  /**
   * A channel for the command. sshd refuses a new session while it still counts closing ones against
   * MaxSessions (10): such a refusal is retried a few times, briefly.
   */
  private async openChannel(remote: string, command: string): Promise<OpenedChannel> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await new Promise<OpenedChannel>((resolve, reject) =>
          this.client.exec(remote, (err, channel) => {
            if (err) return reject(err);
            // The exit status is listened for here, synchronously: a quick command's whole answer (data, exit
            // status, close) can arrive in the same read as the channel's opening, and an 'exit' emitted before
            // the caller resumes from `await` would be lost (seen under load: exit code null for `stat`).
            const opened: OpenedChannel = { channel, exit: null };
            channel.on('exit', (code: number | null, signalName?: string) => {
              opened.exit = { code: typeof code === 'number' ? code : null, signal: signalName ?? null };
            });
            resolve(opened);
          }),
        );
      } catch (err) {
        if (this.closed) throw this.closedError(command);
        const message = (err as Error).message;
        if (attempt >= CHANNEL_OPEN_ATTEMPTS || !/open failure/i.test(message))
          throw new SshError('protocol', this.target.host, `${this.where}: cannot start ${quote(command)}: ${message}`);
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  private async exec(command: string, limits: Required<RunOptions>): Promise<CommandResult> {
    const started = performance.now();
    const remote = this.options.killOnHost
      ? `timeout -s KILL ${((limits.timeoutMs + HOST_KILL_GRACE_MS) / 1000).toFixed(1)} sh -c ${shellQuote(command)}`
      : command;
    const opened = await this.openChannel(remote, command);
    const channel = opened.channel;
    return new Promise<CommandResult>((resolve, reject) => {
      this.openChannels.add(channel);
      const stdout = new Capped(limits.maxOutputBytes);
      const stderr = new Capped(limits.maxOutputBytes);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        // Reported now, whatever the host does: the host's `timeout` kills the command (killOnHost), a signal
        // asks sshd to (privilege-separated sessions only), and closing the channel frees it. The connection
        // stays usable for the next command.
        try {
          channel.signal('KILL');
        } catch {
          // a channel already closing
        }
        channel.close();
        reject(
          new SshError(
            'command-timeout',
            this.target.host,
            `${quote(command)} on ${this.where} ran past its timeout of ${limits.timeoutMs} ms and was stopped`,
          ),
        );
      }, limits.timeoutMs);
      channel.on('data', (chunk: Buffer) => stdout.add(chunk));
      channel.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));
      channel.on('close', () => {
        const exitCode = opened.exit?.code ?? null;
        const signal = opened.exit?.signal ?? null;
        clearTimeout(timer);
        this.openChannels.delete(channel);
        const durationMs = Math.round(performance.now() - started);
        if (timedOut) return; // rejected already
        if (this.closed && exitCode === null && signal === null) {
          reject(this.closedError(command));
          return;
        }
        resolve({
          exitCode,
          signal,
          stdout: stdout.text(),
          stderr: stderr.text(),
          truncated: stdout.truncated || stderr.truncated,
          durationMs,
        });
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, 2000);
      this.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.end();
    });
  }
}

/** Output kept up to a number of bytes; the rest is counted and dropped. */
class Capped {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  add(chunk: Buffer): void {
    const room = this.max - this.kept;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.kept += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** A POSIX shell word holding `text` as it is. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function quote(command: string): string {
  return JSON.stringify(command.length > 120 ? `${command.slice(0, 117)}...` : command);
}

const defaultExecutor = new SshExecutor();

/** One connection to the host for everything `fn` runs (see SshExecutor.withSession). */
export function withSshSession<T>(
  target: SshTarget,
  access: SshAccess,
  pin: HostKeyPin,
  fn: (session: SshSession) => Promise<T>,
): Promise<T> {
  return defaultExecutor.withSession(target, access, pin, fn);
}
