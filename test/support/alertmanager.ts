/**
 * A real Prometheus Alertmanager for integration tests, so the webhook is
 * exercised as Alertmanager really sends it (grouping, resolved notifications,
 * bearer credentials) rather than as a test imagines it. Each call starts its
 * own process on free loopback ports, with its own config and storage in a
 * temporary folder and clustering off; `stop()` ends that process by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** What Alertmanager's API v2 accepts at `POST /api/v2/alerts`. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  /** In the past: the alert is resolved. Left out: it fires until `resolve_timeout` (5 min). */
  endsAt?: string;
  generatorURL?: string;
}

/** An alert as Alertmanager holds it (`GET /api/v2/alerts`), with the fingerprint it sends on. */
export interface GettableAlert extends Required<Pick<PostableAlert, 'labels' | 'annotations' | 'startsAt' | 'endsAt'>> {
  fingerprint: string;
  status: { state: 'active' | 'suppressed' | 'unprocessed' };
}

export interface AlertmanagerOptions {
  /** Where the receiver posts: Shipshape's Alertmanager webhook. */
  webhookUrl: string;
  /** Sent as `Authorization: Bearer <token>`, read from a file as in a real deployment. */
  bearerToken: string;
  /** The receiver's name; Shipshape records signals as `alertmanager/<receiver>`. */
  receiver?: string;
  groupBy?: string[];
  /** Short waits by default, so a test sees notifications within a second or two. */
  groupWait?: string;
  groupInterval?: string;
}

export interface RunningAlertmanager {
  url: string;
  pid: number;
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  alerts(): Promise<GettableAlert[]>;
  /** The last lines Alertmanager logged, for a failing test's message. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/** `ALERTMANAGER_BIN`, else Debian's `prometheus-alertmanager` or upstream's `alertmanager` on PATH. */
export function findAlertmanager(): string {
  const fromEnv = process.env.ALERTMANAGER_BIN;
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new Error(`ALERTMANAGER_BIN is ${fromEnv}, which does not exist`);
  }
  const dirs = (process.env.PATH ?? '').split(delimiter).concat('/usr/bin', '/usr/local/bin');
  for (const name of ['prometheus-alertmanager', 'alertmanager']) {
    for (const dir of dirs) {
      if (dir && existsSync(join(dir, name))) return join(dir, name);
    }
  }
  throw new Error(
    "Prometheus Alertmanager is not installed: run scripts/setup.sh (it installs Debian's prometheus-alertmanager " +
      'without starting its service), or set ALERTMANAGER_BIN to an alertmanager binary',
  );
}

export function alertmanagerConfig(options: AlertmanagerOptions, credentialsFile: string): string {
  const receiver = options.receiver ?? 'shipshape';
  // JSON is YAML, and JSON.stringify quotes every value safely.
  return `${JSON.stringify(
    {
      route: {
        receiver,
        group_by: options.groupBy ?? ['alertname', 'instance'],
        group_wait: options.groupWait ?? '1s',
        group_interval: options.groupInterval ?? '1s',
        // Long enough that a still-firing group is never re-sent during a test.
        repeat_interval: '1h',
      },
      receivers: [
        {
          name: receiver,
          webhook_configs: [
            {
              url: options.webhookUrl,
              send_resolved: true,
              http_config: { authorization: { type: 'Bearer', credentials_file: credentialsFile } },
            },
          ],
        },
      ],
    },
    null,
    2,
  )}\n`;
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Why the process is gone (exit code, signal, or failure to start), or null while it runs. */
function gone(child: ChildProcess & { spawnError?: Error }): string | null {
  if (child.spawnError) return child.spawnError.message;
  return child.exitCode !== null || child.signalCode !== null ? String(child.exitCode ?? child.signalCode) : null;
}

async function waitUntilReady(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const why = gone(child);
    if (why !== null) throw new Error(`Alertmanager exited (${why}) before it was ready:\n${tail(logFile, 20)}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Alertmanager was not ready at ${url} within ${READY_TIMEOUT_MS / 1000}s:\n${tail(logFile, 20)}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || gone(child) !== null) return;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  // ChildProcess.kill signals this process's PID only, and is a no-op once it has exited.
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** Start Alertmanager with one webhook receiver and wait until `/-/ready` answers. */
export async function startAlertmanager(options: AlertmanagerOptions): Promise<RunningAlertmanager> {
  const bin = findAlertmanager();
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-alertmanager-'));
  const credentialsFile = join(dir, 'shipshape-token');
  writeFileSync(credentialsFile, options.bearerToken, { mode: 0o600 });
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(configFile, alertmanagerConfig(options, credentialsFile));

  const logFile = join(dir, 'alertmanager.log');
  // The free port can be taken between our probe and Alertmanager's bind: try again on another.
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    const log = openSync(logFile, 'a');
    const child = spawn(
      bin,
      [
        `--config.file=${configFile}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        `--web.external-url=${url}`,
        // Empty turns clustering (gossip on :9094) off: one test's Alertmanager must not find another's.
        '--cluster.listen-address=',
        '--log.level=debug',
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    child.once('error', (err) => Object.assign(child, { spawnError: err }));
    try {
      await waitUntilReady(url, child, logFile);
    } catch (err) {
      await stopProcess(child);
      if (attempt < 3 && /address already in use/.test(tail(logFile, 5))) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }

    return {
      url,
      pid: child.pid!,
      async postAlerts(alerts) {
        const res = await fetch(`${url}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(alerts),
        });
        if (!res.ok) throw new Error(`Alertmanager refused the alerts: ${res.status} ${await res.text()}`);
      },
      async alerts() {
        const res = await fetch(`${url}/api/v2/alerts`);
        if (!res.ok) throw new Error(`Alertmanager could not list alerts: ${res.status} ${await res.text()}`);
        return (await res.json()) as GettableAlert[];
      },
      logTail: (lines = 20) => tail(logFile, lines),
      async stop() {
        await stopProcess(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
