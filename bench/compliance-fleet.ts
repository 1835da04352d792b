/**
 * The compliance scan at fleet scale: a generated profile of N ssh rules (a
 * mix of every check type) over M hosts with SSH endpoints, read through the
 * simulated SSH executor (providers/simulated/ssh.ts: each host answers from
 * its own picture, some drifting so their rules fail), run by the real
 * complianceScanWorkflow on a Temporal dev server with the real activities,
 * and every finding stored in PostgreSQL (recordHostResults).
 *
 * Used by bench/compliance-scan.ts (npm run bench:compliance) and, with a
 * small fleet, by test/integration/compliance-fleet.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { utils } from 'ssh2';
import { createActivities } from '../activities';
import { newKeysFileText, parseKeys } from '../config/keys';
import { findingsFootprint } from '../db/compliance-benchmark';
import { upsertInventory } from '../db/hosts';
import { createPool } from '../db/pool';
import { upsertSshEndpoints } from '../db/ssh-endpoints';
import { pinHostKeyFromInventory } from '../db/ssh-host-keys';
import { DEFAULT_GUARDS } from '../policies/guards-schema';
import { BmcCredentials } from '../providers/redfish/credentials';
import { SimulatedFleet } from '../providers/simulated/provider';
import {
  compliantDebianHost,
  hostHash,
  simulatedHostKey,
  SimulatedSshExecutor,
  type SimulatedHostPicture,
} from '../providers/simulated/ssh';
import { SshCredentials } from '../providers/ssh/credentials';
import type { ComplianceScanSummary, complianceScanWorkflow } from '../workflows/compliance-scan';
import { createBmcConnector } from '../workers/composition';
import { shipshapeDataConverter } from '../workers/data-converter';
import { createRemediationWorker } from '../workers/worker';

export interface FleetShape {
  rules: number;
  hosts: number;
}
export const FULL_FLEET: FleetShape = { rules: 200, hosts: 1000 };
export const QUICK_FLEET: FleetShape = { rules: 20, hosts: 100 };

/** One rule in about DRIFT_ONE_IN fails on a host; one host in UNREACHABLE_ONE_IN shows a key other than its pin. */
const DRIFT_ONE_IN = 20;
const UNREACHABLE_ONE_IN = 100;
const CHECK_TYPES = ['package', 'setting', 'file-content', 'file-mode', 'service', 'command'] as const;

export const benchHostName = (i: number) => `scan-${String(i).padStart(4, '0')}`;

/** A rule's check, its compliant answer and its drifted one, written into a host's picture. */
interface GeneratedRule {
  yaml: string[];
  compliant(p: SimulatedHostPicture): void;
  drifted(p: SimulatedHostPicture): void;
}

function generatedRule(i: number): GeneratedRule {
  const type = CHECK_TYPES[i % CHECK_TYPES.length]!;
  const head = [
    `  - id: bench.rule-${i}`,
    `    title: Generated ${type} rule ${i}`,
    `    severity: ${['info', 'warning', 'critical'][i % 3]}`,
    `    rationale: A generated rule of the benchmark.`,
    `    kind: ssh`,
    `    check:`,
    `      type: ${type}`,
  ];
  switch (type) {
    case 'package':
      return {
        yaml: [...head, `      package: bench-pkg-${i}`, `      version: '>= 1.2-1'`],
        compliant: (p) => void (p.packages[`bench-pkg-${i}`] = '1.4-2'),
        drifted: (p) => void (p.packages[`bench-pkg-${i}`] = '1.1-9'),
      };
    case 'setting':
      return {
        yaml: [...head, `      path: /etc/bench/setting-${i}.conf`, `      key: Key${i}`, `      allowed: ['on']`],
        compliant: (p) => void (p.files[`/etc/bench/setting-${i}.conf`] = `# bench\nKey${i} on\n`),
        drifted: (p) => void (p.files[`/etc/bench/setting-${i}.conf`] = `# bench\nKey${i} off\n`),
      };
    case 'file-content':
      return {
        yaml: [...head, `      path: /etc/bench/content-${i}.conf`, `      pattern: '^enabled=true$'`],
        compliant: (p) => void (p.files[`/etc/bench/content-${i}.conf`] = 'name=bench\nenabled=true\n'),
        drifted: (p) => void (p.files[`/etc/bench/content-${i}.conf`] = 'name=bench\nenabled=false\n'),
      };
    case 'file-mode':
      return {
        yaml: [...head, `      path: /etc/bench/mode-${i}`, `      mode: '0640'`, `      owner: root`],
        compliant: (p) => void (p.modes[`/etc/bench/mode-${i}`] = '640 root root'),
        drifted: (p) => void (p.modes[`/etc/bench/mode-${i}`] = '666 root root'),
      };
    case 'service':
      return {
        yaml: [...head, `      unit: bench-${i}.service`, `      active: true`, `      enabled: true`],
        compliant: (p) => void (p.services[`bench-${i}.service`] = { active: 'active', enabled: 'enabled' }),
        drifted: (p) => void (p.services[`bench-${i}.service`] = { active: 'failed', enabled: 'enabled' }),
      };
    case 'command':
      return {
        yaml: [...head, `      command: 'test -e /etc/bench/flag-${i}'`, `      exitCode: 0`],
        compliant: (p) => void (p.commands[`test -e /etc/bench/flag-${i}`] = { exitCode: 0 }),
        drifted: (p) => void (p.commands[`test -e /etc/bench/flag-${i}`] = { exitCode: 1 }),
      };
  }
}

/** The generated profile's YAML, and each host's picture (a rule drifts on a host by a hash of both). */
export function generateBenchProfile(rules: number): {
  yaml: string;
  picture: (host: string) => SimulatedHostPicture;
  drifts: (host: string) => number;
} {
  const generated = Array.from({ length: rules }, (_, i) => generatedRule(i));
  const yaml = [
    'name: bench-fleet',
    "version: '1'",
    'prefix: bench',
    `description: ${rules} generated ssh rules of every check type (bench/compliance-fleet.ts).`,
    'rules:',
    ...generated.flatMap((r) => r.yaml),
    '',
  ].join('\n');
  const drifted = (host: string, i: number) => hostHash(host, `rule-${i}`, DRIFT_ONE_IN) === 0;
  return {
    yaml,
    picture: (host) => {
      const p = compliantDebianHost();
      generated.forEach((r, i) => (drifted(host, i) ? r.drifted(p) : r.compliant(p)));
      return p;
    },
    drifts: (host) => generated.filter((_, i) => drifted(host, i)).length,
  };
}

export interface FleetScanOptions {
  shape: FleetShape;
  databaseUrl: string;
  temporalAddress: string;
  /** A folder for the generated profile. */
  dir: string;
  workflowBundlePath?: string;
  /** Each simulated command's round trip (default 2 ms). */
  latencyMs?: number;
  log?: (line: string) => void;
}

export interface FleetScanResult {
  shape: FleetShape;
  summary: ComplianceScanSummary;
  seconds: number;
  seedSeconds: number;
  findingsStored: number;
  historyRows: number;
  findingsBytes: number;
  failingExpected: number;
  unreachableExpected: number;
  commandsRun: number;
  connectionsOpened: number;
  peakRssMiB: number;
}

/** Seed the fleet, run one scan of every host through the workflow, and count what was stored. */
export async function runFleetScan(o: FleetScanOptions): Promise<FleetScanResult> {
  const log = o.log ?? (() => undefined);
  const { shape } = o;
  const profilesDir = join(o.dir, 'compliance-profiles');
  mkdirSync(profilesDir, { recursive: true });
  const profile = generateBenchProfile(shape.rules);
  writeFileSync(join(profilesDir, 'bench-fleet.yaml'), profile.yaml);

  const db = createPool(o.databaseUrl, 40);
  const hosts = Array.from({ length: shape.hosts }, (_, i) => benchHostName(i));
  const unreachable = new Set(hosts.filter((h) => hostHash(h, 'unreachable', UNREACHABLE_ONE_IN) === 0));
  const t0 = performance.now();
  await upsertInventory(
    db,
    hosts.map((id, i) => ({ id, zone: `zone-${'abcd'[i % 4]}`, roles: ['compute'], bmc: null })),
    'simulated',
  );
  await upsertSshEndpoints(
    db,
    hosts.map((host) => ({ host, address: `${host}.sim`, port: 22, credentialsRef: 'bench-sim' })),
  );
  // A host rebuilt behind Shipshape's back: its pinned key is an older one, so nothing is read from it.
  for (const host of unreachable) await pinHostKeyFromInventory(db, { host, ...simulatedHostKey(host, 1) });
  const seedSeconds = (performance.now() - t0) / 1000;

  // A throw-away key: the simulated hosts need none, but a scan resolves the credentials before it connects.
  const key = utils.generateKeyPairSync('ed25519');
  const sshCredentials = SshCredentials.fromText(
    'bench-sim:\n  username: root\n  privateKeyEnv: BENCH_SSH_KEY\n',
    'bench credentials',
    { BENCH_SSH_KEY: key.private },
  );
  const executor = new SimulatedSshExecutor({ hostPicture: profile.picture, latencyMs: o.latencyMs ?? 2 });
  const provider = new SimulatedFleet(db, { migrationSeconds: 1, powerOnSeconds: 1 });
  const keys = parseKeys('bench', newKeysFileText('bench'));
  const connection = await NativeConnection.connect({ address: o.temporalAddress });
  const taskQueue = `bench-compliance-${Date.now()}`;
  const worker = await createRemediationWorker({
    connection,
    namespace: 'default',
    taskQueue,
    activities: createActivities({
      provider,
      db,
      notifier: { notify: async () => undefined },
      guards: () => DEFAULT_GUARDS,
      bmc: createBmcConnector({ db, credentials: BmcCredentials.empty(), simulatedPower: provider }),
      compliance: { sshCredentials, profilesDir, sshExecutor: executor },
    }),
    workflowBundlePath: o.workflowBundlePath,
    keys,
  });
  const running = worker.run();
  const client = new Client({
    connection: await Connection.connect({ address: o.temporalAddress }),
    dataConverter: shipshapeDataConverter(keys),
  });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  try {
    log(`[compliance-fleet] ${shape.rules} rules × ${shape.hosts} hosts: scanning`);
    const t1 = performance.now();
    const summary = await client.workflow.execute<typeof complianceScanWorkflow>('complianceScanWorkflow', {
      taskQueue,
      workflowId: `bench-compliance-scan-${Date.now()}`,
      args: [{ hosts: 'all' }],
    });
    const seconds = (performance.now() - t1) / 1000;
    const footprint = await findingsFootprint(db);
    return {
      shape,
      summary,
      seconds,
      seedSeconds,
      findingsStored: footprint.findings,
      historyRows: footprint.historyRows,
      findingsBytes: footprint.bytes,
      failingExpected: hosts.filter((h) => !unreachable.has(h)).reduce((n, h) => n + profile.drifts(h), 0),
      unreachableExpected: unreachable.size,
      commandsRun: executor.commandsRun,
      connectionsOpened: executor.connectionsOpened,
      peakRssMiB: peakRss / 2 ** 20,
    };
  } finally {
    clearInterval(sampler);
    worker.shutdown();
    await running;
    await connection.close();
    await client.connection.close();
    await db.end();
  }
}
