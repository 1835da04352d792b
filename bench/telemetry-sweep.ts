/**
 * Telemetry sweep benchmark: how long one sweep of 1,000 hosts takes, through
 * the real workflow on a Temporal dev server, with every reading stored in
 * PostgreSQL (snapshot, time series, health, signals).
 *
 * Two kinds of BMC:
 *  - simulated (`sim://`): what the sweep machinery itself costs;
 *  - Redfish over HTTP: a fixture Redfish service (sessions, ThermalSubsystem,
 *    PowerSubsystem, SEL, memory metrics: 13 requests a host) in a second
 *    process, answering every request after BENCH_BMC_LATENCY_MS (default
 *    50 ms, a quick real BMC; slow ones take 200–500 ms).
 *
 * Run: npm run bench:sweep  (results: bench/RESULTS.md)
 */
import { fork } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { BmcCredentials } from '../providers/redfish/credentials';
import { syncInventory } from '../activities/inventory';
import { SimulatedFleet } from '../providers/simulated/provider';
import { createPool } from '../db/pool';
import { addBenchmarkFleet, pointEverySimulatedBmcAt } from '../db/simulated-fleet';
import { telemetryFootprint } from '../db/telemetry';
import { DEFAULT_GUARDS } from '../policies/guards-schema';
import type { telemetrySweepWorkflow } from '../workflows/telemetry';
import { createBmcConnector } from '../workers/composition';
import { createRemediationWorker } from '../workers/worker';
import { migrate, startServices } from '../scripts/services';
import { newerBmcService, startFixtureBmc } from './redfish-fixture';
import { newKeysFileText, parseKeys } from '../config/keys';
import { shipshapeDataConverter } from '../workers/data-converter';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 1000);
const LATENCY_MS = Number(process.env.BENCH_BMC_LATENCY_MS ?? 50);
const CONCURRENCY = Number(process.env.BENCH_SWEEP_CONCURRENCY ?? 16);
const AUTH = { user: 'bench', password: 'bench-password' };

const hostName = (i: number) => `bench-${String(i).padStart(4, '0')}`;

/** The fixture BMCs run in their own process, so they do not share the worker's event loop. */
function startFixtureProcess(): Promise<{ url: string; stop(): void }> {
  return new Promise((ok, fail) => {
    const child = fork(__filename, ['fixture'], { env: { ...process.env } });
    child.once('message', (m) => ok({ url: (m as { url: string }).url, stop: () => child.kill() }));
    child.once('error', fail);
  });
}

async function fixtureProcess(): Promise<void> {
  const ids = Array.from({ length: HOSTS }, (_, i) => hostName(i));
  const bmc = await startFixtureBmc(newerBmcService(ids), AUTH, LATENCY_MS);
  process.send!({ url: bmc.url });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-bench-'));
  chmodSync(dir, 0o755);
  const { pg, temporal } = await startServices(
    { dataDir: join(dir, 'pg') },
    { headless: true, logFile: join(dir, 'temporal.log') },
  );
  const url = await pg.createDatabase('shipshape');
  migrate(url);
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const db = createPool(url, 40);
  const provider = new SimulatedFleet(db, { migrationSeconds: 1, powerOnSeconds: 1 });

  const t0 = performance.now();
  await addBenchmarkFleet(db, HOSTS);
  await syncInventory(db, provider);
  const seedSeconds = (performance.now() - t0) / 1000;

  const fixture = await startFixtureProcess();
  const credentials = BmcCredentials.fromText(
    // The fixture service serves plain http on loopback.
    `bench:\n  username: ${AUTH.user}\n  password: ${AUTH.password}\n  timeoutSeconds: 10\n  allowPlainHttp: true\n`,
    'bench',
  );
  // The sweep's payloads encrypted as in production (keys made for this run only).
  const keys = parseKeys('bench', newKeysFileText('bench'));
  const connection = await NativeConnection.connect({ address: temporal.address });
  const taskQueue = 'bench-sweep';
  const worker = await createRemediationWorker({
    connection,
    namespace: 'default',
    taskQueue,
    activities: createActivities({
      provider,
      db,
      notifier: { notify: async () => undefined },
      guards: () => DEFAULT_GUARDS,
      bmc: createBmcConnector({ db, credentials, simulatedPower: provider }),
      telemetry: { concurrency: CONCURRENCY },
    }),
    keys,
  });
  const running = worker.run();
  const client = new Client({
    connection: await Connection.connect({ address: temporal.address }),
    dataConverter: shipshapeDataConverter(keys),
  });

  const sweep = async () => {
    const t = performance.now();
    const s = await client.workflow.execute<typeof telemetrySweepWorkflow>('telemetrySweepWorkflow', {
      taskQueue,
      workflowId: `bench-sweep-${Date.now()}`,
      args: [{}],
    });
    return { ...s, seconds: (performance.now() - t) / 1000 };
  };

  const rows: string[] = [];
  const report = (label: string, r: Awaited<ReturnType<typeof sweep>>) =>
    rows.push(
      `| ${label} | ${r.hosts} | ${r.seconds.toFixed(1)} s | ${(r.hosts / r.seconds).toFixed(0)} | ${r.ok} / ${r.failed} |`,
    );

  report('simulated BMCs, first sweep', await sweep());
  report('simulated BMCs, second sweep', await sweep());

  await pointEverySimulatedBmcAt(db, fixture.url, 'bench');
  await syncInventory(db, provider);
  report(`Redfish over HTTP, ${LATENCY_MS} ms a request`, await sweep());
  const redfish = await sweep();
  report(`Redfish over HTTP, ${LATENCY_MS} ms a request (again)`, redfish);

  const { samples, snapshotBytes, sampleBytes } = await telemetryFootprint(db);

  console.log(
    `\n## Telemetry sweep (${new Date().toISOString().slice(0, 10)}, ${HOSTS} hosts, ${CONCURRENCY} reads at once per batch, 2 batches of 100 in flight)\n`,
  );
  console.log(`Seeding ${HOSTS} hosts with 20 servers each took ${seedSeconds.toFixed(1)} s.\n`);
  console.log('| sweep | hosts | time | hosts/s | read ok / failed |\n|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log(
    `\n- ${samples} samples after 4 sweeps (${(Number(sampleBytes) / 2 ** 20).toFixed(1)} MiB with indexes); host_snapshots ${(Number(snapshotBytes) / 2 ** 20).toFixed(1)} MiB.`,
  );
  console.log(`- RSS of the worker process: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB.`);

  fixture.stop();
  worker.shutdown();
  await running;
  await connection.close();
  await client.connection.close();
  await db.end();
  await temporal.stop();
  await pg.stop();
}

(process.argv[2] === 'fixture' ? fixtureProcess() : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
