/**
 * Shipshape's own test OpenStack cloud, for jest's globalSetup and for tests:
 * a thin wrapper around `test/openstack/cloud.sh`, which starts Keystone,
 * Placement, Nova (three fake computes), Glance, Neutron (API only), Ironic
 * (fake-hardware), Cinder on request (volumes as files), RabbitMQ and
 * PostgreSQL as plain processes on 127.0.0.1, seeded with a flavor, an image, servers
 * spread over the computes and powered-on Ironic nodes. `seedReclaim()` adds,
 * on request, the waste and resources in use that reclaim tests need.
 *
 * The Debian packages must be installed first (`bash test/openstack/cloud.sh
 * install`, as root, ~3 min once per machine). A warm start takes about 45 s
 * on 2 cores; the first start on a machine also migrates every database and
 * takes about a minute more.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readReclaimSeed, type ReclaimSeed } from './reclaim-seed';

const CLOUD_SH = join(__dirname, 'cloud.sh');

export interface TestCloudOptions {
  /** Where configs, logs, pids and clouds.yaml go; /var/tmp/shipshape-openstack by default. */
  stateDir?: string;
  /** First of the fixed ports (23100 by default, below the ephemeral range); the cloud uses base..base+16. */
  portBase?: number;
  /** Number of fake nova-compute hosts (compute-1..N); 3 by default. */
  computes?: number;
  serversPerCompute?: number;
  ironicNodes?: number;
  /**
   * Whether Cinder runs (false by default: the provider would list its volume
   * service as a storage host; it needs root and ~450 MiB).
   */
  cinder?: boolean;
  /** How long `start` may take; 10 minutes by default. */
  timeoutMs?: number;
}

export interface TestCloudServer {
  id: string;
  name: string;
  host: string;
}

export interface TestCloud {
  cloudName: string;
  /** Path of the clouds.yaml written for this cloud. */
  cloudsYaml: string;
  /** Path of the matching OS_* variables, as a shell file. */
  openrc: string;
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  regionName: string;
  /** Public endpoint of each service type (identity, compute, placement, image, network, baremetal, volumev3). */
  endpoints: Record<string, string>;
  computeHosts: string[];
  ironicNodes: Array<{ uuid: string; name: string }>;
  servers: TestCloudServer[];
  flavor: { id: string; name: string };
  image: { id: string; name: string };
  stateDir: string;
  /**
   * Seeds waste and resources in use over several projects and users (once
   * per cloud; again, it reads the same seed) and returns what was seeded.
   */
  seedReclaim(): Promise<ReclaimSeed>;
  /** Restarts one fake host's nova-compute, as that host's reboot would. */
  restartCompute(host: string): Promise<void>;
  /** Stops every process of the cloud and waits for them to exit. */
  stop(): Promise<void>;
}

/** Whether the cloud's Debian packages are installed on this machine. */
export async function isTestCloudInstalled(): Promise<boolean> {
  try {
    await runCloudSh(['installed'], {}, 30_000);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the cloud (or finds it already running in the same state folder)
 * and resolves once every API answers and the servers are ACTIVE.
 */
export async function startTestCloud(opts: TestCloudOptions = {}): Promise<TestCloud> {
  const stateDir = opts.stateDir ?? '/var/tmp/shipshape-openstack';
  const env: Record<string, string> = {};
  if (opts.portBase !== undefined) env.SHIPSHAPE_CLOUD_PORT_BASE = String(opts.portBase);
  if (opts.computes !== undefined) env.SHIPSHAPE_CLOUD_COMPUTES = String(opts.computes);
  if (opts.serversPerCompute !== undefined) env.SHIPSHAPE_CLOUD_SERVERS_PER_COMPUTE = String(opts.serversPerCompute);
  if (opts.ironicNodes !== undefined) env.SHIPSHAPE_CLOUD_IRONIC_NODES = String(opts.ironicNodes);
  if (opts.cinder !== undefined) env.SHIPSHAPE_CLOUD_CINDER = String(opts.cinder);
  await runCloudSh(['start', stateDir], env, opts.timeoutMs ?? 600_000);
  const summary = parseSummary(JSON.parse(await readFile(join(stateDir, 'cloud.json'), 'utf8')));
  return {
    ...summary,
    seedReclaim: async () => {
      await runCloudSh(['seed-reclaim', stateDir], {}, 300_000);
      return readReclaimSeed(stateDir);
    },
    restartCompute: (host) => runCloudSh(['restart-compute', host, stateDir], {}, 120_000).then(() => undefined),
    stop: () => runCloudSh(['stop', stateDir], {}, 120_000).then(() => undefined),
  };
}

type Summary = Omit<TestCloud, 'stop' | 'restartCompute' | 'seedReclaim'>;

function runCloudSh(args: string[], env: Record<string, string>, timeout: number): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(
      'bash',
      [CLOUD_SH, ...args],
      { env: { ...process.env, ...env }, timeout, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return ok(stdout);
        const tail = `${stderr}`.trim().split('\n').slice(-15).join('\n');
        fail(new Error(`cloud.sh ${args.join(' ')} failed (${error.message.split('\n')[0]}):\n${tail}`));
      },
    );
  });
}

// cloud.json is written by test/openstack/lib/seed.py; checked field by field
// so that a change there fails here, at the edge, and not inside a test.
function parseSummary(raw: unknown): Summary {
  const c = record(raw, 'cloud.json');
  const auth = record(c.auth, 'auth');
  return {
    cloudName: text(c.cloudName, 'cloudName'),
    cloudsYaml: text(c.cloudsYaml, 'cloudsYaml'),
    openrc: text(c.openrc, 'openrc'),
    authUrl: text(auth.authUrl, 'auth.authUrl'),
    username: text(auth.username, 'auth.username'),
    password: text(auth.password, 'auth.password'),
    projectName: text(auth.projectName, 'auth.projectName'),
    userDomainName: text(auth.userDomainName, 'auth.userDomainName'),
    projectDomainName: text(auth.projectDomainName, 'auth.projectDomainName'),
    regionName: text(c.regionName, 'regionName'),
    endpoints: Object.fromEntries(
      Object.entries(record(c.endpoints, 'endpoints')).map(([k, v]) => [k, text(v, `endpoints.${k}`)]),
    ),
    computeHosts: list(c.computeHosts, 'computeHosts').map((h, i) => text(h, `computeHosts[${i}]`)),
    ironicNodes: list(c.ironicNodes, 'ironicNodes').map((n, i) => {
      const node = record(n, `ironicNodes[${i}]`);
      return { uuid: text(node.uuid, 'uuid'), name: text(node.name, 'name') };
    }),
    servers: list(c.servers, 'servers').map((s, i) => {
      const server = record(s, `servers[${i}]`);
      return { id: text(server.id, 'id'), name: text(server.name, 'name'), host: text(server.host, 'host') };
    }),
    flavor: idAndName(c.flavor, 'flavor'),
    image: idAndName(c.image, 'image'),
    stateDir: text(c.stateDir, 'stateDir'),
  };
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`cloud.json: ${what} is not an object`);
  return value as Record<string, unknown>;
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`cloud.json: ${what} is not a list`);
  return value;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`cloud.json: ${what} is not a string`);
  return value;
}

function idAndName(value: unknown, what: string): { id: string; name: string } {
  const r = record(value, what);
  return { id: text(r.id, `${what}.id`), name: text(r.name, `${what}.name`) };
}
