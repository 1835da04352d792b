/**
 * A real Redfish BMC for tests: sushy-tools' emulator with its fake system
 * driver (no libvirt, no nova), one process per call, on a loopback port.
 *
 * What it emulates: Systems (PowerState, static Status), the
 * ComputerSystem.Reset action (On, ForceOn, ForceOff, GracefulShutdown,
 * GracefulRestart, ForceRestart; others answer 501), one Manager per system
 * (FirmwareVersion "1.00"), one Chassis (Model "3500RX") with a static
 * Thermal, SecureBoot (SecureBootEnable as configured, PATCHable). Not
 * emulated: Power/PowerSubsystem/ThermalSubsystem, LogServices (SEL), Memory,
 * Processors, SessionService (basic auth only), TLS 1.3, a system Model.
 *
 * The fake driver keeps no BIOS: this harness gives it one (`get_bios`,
 * `set_bios`, `reset_bios`, `get_versions`, from the system's `biosVersion`
 * and `biosAttributes` below), so sushy's own routes serve
 * `Systems/<id>/BIOS` (Attributes, PATCHable through BIOS/Settings) and the
 * system's BiosVersion. A system given neither has no BIOS, as before.
 *
 * The emulator is installed by hand into `.tools/venv`:
 *   python3 -m venv .tools/venv && .tools/venv/bin/pip install sushy-tools==2.2.0
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { freePort, portIsFree } from '../../scripts/services';

const here = resolve(__dirname, '../..');
/** The repository root, whether this runs from source (test/support) or compiled (dist/test/support). */
const PROJECT_ROOT = basename(here) === 'dist' ? dirname(here) : here;
const VENV = join(PROJECT_ROOT, '.tools', 'venv');
const PYTHON = join(VENV, 'bin', 'python');
const SUSHY_EMULATOR = join(VENV, 'bin', 'sushy-emulator');

/** Every system sits in this one chassis; sushy addresses chassis by UUID. */
export const EMULATED_CHASSIS_ID = '6a1f7e0c-5b2d-4c8e-9f3a-0d4b2e6c8a10';

export type EmulatedPowerState = 'On' | 'Off';

export interface EmulatedSystem {
  /** The Redfish Id, used in `/redfish/v1/Systems/<id>` and `/redfish/v1/Managers/<id>`. */
  id: string;
  /** Defaults to the id. Requests by name are answered with a 307 to the id. */
  name?: string;
  /** Defaults to 'On', as a fleet host usually is (sushy's own default is 'Off'). */
  powerState?: EmulatedPowerState;
  /** The system's BiosVersion (none by default). */
  biosVersion?: string;
  /** The Bios resource's Attributes (no Bios resource by default). */
  biosAttributes?: Record<string, string | number | boolean>;
  /** SecureBootEnable (sushy's default: false). */
  secureBoot?: boolean;
}

export interface RedfishEmulatorOptions {
  systems: EmulatedSystem[];
  /** Turns on HTTP basic auth for everything but `/redfish/v1`. Sessions are not emulated. */
  auth?: { username: string; password: string };
  /** A loopback port; by default a free one is picked. */
  port?: number;
  /**
   * How long a reset takes to land. By default the emulator's own behaviour:
   * a random delay of up to 11 s. Given a number, every reset lands within that
   * many seconds (0: on the next read), which keeps tests fast and repeatable.
   * Either way a restart shows Off at once and On when it lands, and a reset
   * sent before the previous one landed can be lost (see the fake driver).
   */
  powerTransitionSeconds?: number;
  /** How long to wait for the emulator to answer; 30 s by default. */
  startTimeoutMs?: number;
}

export interface RunningRedfishEmulator {
  /** e.g. `http://127.0.0.1:41234`, without a trailing slash. */
  url: string;
  systemIds: string[];
  chassisId: string;
  pid: number;
  /** The emulator's own log (one line per request), for a failing test to show. */
  logFile: string;
  /** Ends the process and removes its files; safe to call twice. */
  stop(): Promise<void>;
}

/** Whether sushy-tools is installed where this harness looks for it. */
export function isRedfishEmulatorInstalled(): boolean {
  return existsSync(SUSHY_EMULATOR) && existsSync(PYTHON);
}

/** The message a test should give when the emulator is missing. */
export const REDFISH_EMULATOR_MISSING = `sushy-tools is not installed at ${VENV}; run: python3 -m venv .tools/venv && .tools/venv/bin/pip install sushy-tools==2.2.0`;

export async function startRedfishEmulator(options: RedfishEmulatorOptions): Promise<RunningRedfishEmulator> {
  if (!isRedfishEmulatorInstalled()) throw new Error(REDFISH_EMULATOR_MISSING);
  checkOptions(options);
  const port = options.port ?? (await freePort());
  // A server already on a given port would answer the readiness probe in the emulator's place.
  if (options.port !== undefined && !(await portIsFree(port))) throw new Error(`port ${port} is already in use`);

  const dir = mkdtempSync(join(scratchRoot(), 'shipshape-redfish-'));
  const configFile = join(dir, 'emulator.conf.py');
  const logFile = join(dir, 'emulator.log');
  let child: ChildProcess;
  try {
    writeFileSync(
      configFile,
      emulatorConfig(options.systems, port, dir, options.auth && writeAuthFile(dir, options.auth)),
    );
    child = spawnEmulator(configFile, logFile, options.powerTransitionSeconds);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(child, dir);
  try {
    await waitUntilServing(url, child, logFile, options);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    systemIds: options.systems.map((s) => s.id),
    chassisId: EMULATED_CHASSIS_ID,
    pid: child.pid!,
    logFile,
    stop,
  };
}

/**
 * The fake driver keeps its state in SQLite and opens a connection per read;
 * on tmpfs a thousand systems are ready about twice as fast as on disk.
 */
function scratchRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

function checkOptions(options: RedfishEmulatorOptions): void {
  checkSystems(options.systems);
  const { auth, powerTransitionSeconds: delay } = options;
  if (auth && (!auth.username || auth.username.includes(':')))
    throw new Error('auth username must be non-empty and have no colon');
  if (delay !== undefined && (!Number.isInteger(delay) || delay < 0))
    throw new Error('powerTransitionSeconds must be a whole number of seconds, 0 or more');
}

/** Ids end up in URLs and names in a lookup table, so both must be plain and unique. */
function checkSystems(systems: EmulatedSystem[]): void {
  if (systems.length === 0) throw new Error('the emulator needs at least one system');
  const plain = /^[A-Za-z0-9._~-]+$/;
  const seen = new Set<string>();
  for (const s of systems) {
    for (const key of [s.id, s.name ?? s.id]) {
      if (!plain.test(key)) throw new Error(`system id or name "${key}" must match ${plain}`);
    }
    if (seen.has(s.id)) throw new Error(`system id "${s.id}" is given twice`);
    seen.add(s.id);
  }
  const names = systems.map((s) => s.name ?? s.id);
  if (new Set(names).size !== names.length) throw new Error('system names must be unique');
}

/**
 * sushy reads its config as a Python file. The fake driver keys systems by
 * `uuid`, which needs no UUID format and becomes the Redfish Id. The state dir
 * must be private: sushy's default (/tmp/sushy-emulator) is shared by every
 * emulator on the machine and outlives it.
 */
function emulatorConfig(
  systems: EmulatedSystem[],
  port: number,
  stateDir: string,
  authFile: string | undefined,
): string {
  const fakeSystems = systems.map((s, i) => ({
    uuid: s.id,
    name: s.name ?? s.id,
    power_state: s.powerState ?? 'On',
    nics: [{ mac: macFor(i) }],
    ...(s.biosVersion !== undefined ? { bios_version: s.biosVersion } : {}),
    ...(s.biosAttributes !== undefined ? { bios_attributes: s.biosAttributes } : {}),
    ...(s.secureBoot !== undefined ? { secure_boot: s.secureBoot } : {}),
  }));
  const chassis = [{ Id: 'Chassis-1', Name: 'Chassis-1', UUID: EMULATED_CHASSIS_ID }];
  // A JSON string literal is also a valid Python string literal.
  const py = (value: unknown): string => `json.loads(${JSON.stringify(JSON.stringify(value))})`;
  return [
    'import json',
    `SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'`,
    `SUSHY_EMULATOR_LISTEN_PORT = ${port}`,
    `SUSHY_EMULATOR_STATE_DIR = ${py(stateDir)}`,
    'SUSHY_EMULATOR_FAKE_DRIVER = True',
    `SUSHY_EMULATOR_FAKE_SYSTEMS = ${py(fakeSystems)}`,
    `SUSHY_EMULATOR_CHASSIS = ${py(chassis)}`,
    ...(authFile ? [`SUSHY_EMULATOR_AUTH_FILE = ${py(authFile)}`] : []),
    '',
  ].join('\n');
}

function macFor(index: number): string {
  const octets = [(index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff];
  return ['52', '54', '00', ...octets.map((o) => o.toString(16).padStart(2, '0'))].join(':');
}

/**
 * An htpasswd file; sushy accepts bcrypt entries only. Cost 4, the lowest:
 * sushy checks the password on every request, and at the usual cost 12 that
 * alone holds it to about 3 requests a second.
 */
function writeAuthFile(dir: string, auth: { username: string; password: string }): string {
  const hash = execFileSync(
    PYTHON,
    ['-c', 'import bcrypt, sys; print(bcrypt.hashpw(sys.stdin.buffer.read(), bcrypt.gensalt(4)).decode())'],
    {
      input: auth.password,
      encoding: 'utf8',
    },
  ).trim();
  const file = join(dir, 'htpasswd');
  writeFileSync(file, `${auth.username}:${hash}\n`, { mode: 0o600 });
  return file;
}

/**
 * The fake driver delays a reset by `random.randint(1, 11)` seconds; to make
 * the delay fixed, run the emulator from a launcher that replaces that call.
 */
function spawnEmulator(configFile: string, logFile: string, powerTransitionSeconds: number | undefined): ChildProcess {
  const [command, args] = [PYTHON, ['-c', launcher(powerTransitionSeconds), '--config', configFile]];
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, {
      stdio: ['ignore', log, log],
      // sushy also loads the file named here, at import: make it ours, not one from the caller's shell.
      env: { ...process.env, SUSHY_EMULATOR_CONFIG: configFile, PYTHONUNBUFFERED: '1' },
    });
    // Without a listener a failed spawn would crash the test process; the readiness wait reports it instead.
    child.once('error', (err) => writeFileSync(logFile, `spawn ${command} failed: ${err.message}\n`, { flag: 'a' }));
    return child;
  } finally {
    closeSync(log);
  }
}

function hasEnded(child: ChildProcess): boolean {
  return child.pid === undefined || child.exitCode !== null || child.signalCode !== null;
}

/**
 * sushy's own entry point, with the fake driver given a BIOS kept in the system's state (see the header),
 * and, given `powerTransitionSeconds`, a fixed reset delay in place of `random.randint(1, 11)`.
 */
function launcher(powerTransitionSeconds: number | undefined): string {
  return [
    'import sys, types',
    'from sushy_tools import error',
    'from sushy_tools.emulator.resources.systems import fakedriver',
    'def _state(self, identity, key):',
    '    value = self._get(identity).get(key)',
    '    if value is None:',
    "        raise error.NotSupportedError(f'no {key} configured for this fake system')",
    '    return value',
    "fakedriver.FakeDriver.get_bios = lambda self, identity: dict(_state(self, identity, 'bios_attributes'))",
    'def _set_bios(self, identity, attributes):',
    "    bios = dict(_state(self, identity, 'bios_attributes'))",
    '    bios.update(attributes or {})',
    '    self._update(identity, bios_attributes=bios)',
    'fakedriver.FakeDriver.set_bios = _set_bios',
    "fakedriver.FakeDriver.reset_bios = lambda self, identity: _state(self, identity, 'bios_attributes') and None",
    "fakedriver.FakeDriver.get_versions = lambda self, identity: {'BiosVersion': _state(self, identity, 'bios_version')}",
    ...(powerTransitionSeconds === undefined
      ? []
      : [`fakedriver.random = types.SimpleNamespace(randint=lambda low, high: ${powerTransitionSeconds})`]),
    'from sushy_tools.emulator import main',
    'sys.exit(main.main())',
  ].join('\n');
}

/**
 * The service root answers before the fake driver exists: sushy builds it on
 * the first request for a system, which takes seconds for a thousand systems.
 * So wait for the root, then read the Systems collection once and check that
 * every configured system is in it.
 */
async function waitUntilServing(
  url: string,
  child: ChildProcess,
  logFile: string,
  options: RedfishEmulatorOptions,
): Promise<void> {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const headers: Record<string, string> = options.auth
    ? { authorization: `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}` }
    : {};
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (hasEnded(child)) {
      throw new Error(
        `the Redfish emulator exited (${child.exitCode ?? child.signalCode ?? 'not started'}) before serving:\n${tail(logFile)}`,
      );
    }
    try {
      const root = await fetch(`${url}/redfish/v1`, { signal: AbortSignal.timeout(2_000) });
      if (!root.ok) throw new Error(`GET /redfish/v1 answered ${root.status}`);
      const systems = await fetch(`${url}/redfish/v1/Systems`, {
        headers,
        signal: AbortSignal.timeout(Math.max(deadline - Date.now(), 1)),
      });
      if (!systems.ok) throw new Error(`GET /redfish/v1/Systems answered ${systems.status}`);
      const count = ((await systems.json()) as { 'Members@odata.count'?: number })['Members@odata.count'];
      if (count !== options.systems.length)
        throw new Error(`the emulator lists ${count} systems, not ${options.systems.length}`);
      return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the Redfish emulator did not answer within ${timeoutMs / 1000}s (${last}):\n${tail(logFile)}`);
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') || '(the log is empty)';
  } catch {
    return '(no log)';
  }
}

/** SIGTERM, then SIGKILL after 5 s; also on exit of this process, so a test that forgets stop() leaves no emulator behind. */
function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  const exited = new Promise<void>((ok) => {
    if (hasEnded(child)) ok();
    else child.once('exit', () => ok());
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (!hasEnded(child)) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
}
