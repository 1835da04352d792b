/**
 * Signal storm benchmark: how many alerts a second the API absorbs when most
 * of them repeat alerts that running remediations already have (the storm
 * case the dispatcher's fast path is built for), and what a first alert costs.
 *
 * Starts its own PostgreSQL and Temporal dev server, the API and a worker,
 * in this process. Run: npm run bench  (results: bench/RESULTS.md)
 */
import { fork } from 'node:child_process';
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { injectFault, simulatedHostName } from '../providers/simulated/admin';
import { createBmc, createProvider, prepareFleet } from '../workers/composition';
import { DEFAULT_GUARDS } from '../policies/guards-schema';
import { createToken } from '../api/auth';
import { startApi } from '../api/server';
import { loadConfig } from '../config';
import { loadKeys, writeNewKeysFile } from '../config/keys';
import { countSignals } from '../db/signals';
import { connectWorker } from '../workers/temporal';
import { createRemediationWorker } from '../workers/worker';
import { migrate, startServices } from '../scripts/services';

const HOSTS = 20;
const DUPLICATES = Number(process.env.BENCH_SIGNALS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface LoadResult {
  seconds: number;
  latencies: number[];
  outcomes: Record<string, number>;
}

function signalFor(host: string) {
  // HardwareFault needs approval, so every remediation stays open through the storm.
  return {
    source: 'bench',
    name: 'HardwareFault',
    resource: { kind: 'host', id: host },
    severity: 'critical',
    status: 'firing',
    labels: { host },
    annotations: {},
    startsAt: new Date().toISOString(),
  };
}

async function postSignal(url: string, token: string, body: unknown): Promise<{ ms: number; outcome: string }> {
  const t = performance.now();
  const res = await fetch(`${url}/v1/signals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { outcome: string };
  return { ms: performance.now() - t, outcome: json.outcome };
}

function runLoadProcess(target: { url: string; token: string; hosts: string[] }): Promise<LoadResult> {
  return new Promise((ok, fail) => {
    const child = fork(__filename, ['load'], { env: { ...process.env, BENCH_TARGET: JSON.stringify(target) } });
    child.once('message', (m) => ok(m as LoadResult));
    child.once('error', fail);
    child.once('exit', (code) => code !== 0 && fail(new Error(`load process exited ${code}`)));
  });
}

async function loadProcess(): Promise<void> {
  const { url, token, hosts } = JSON.parse(process.env.BENCH_TARGET!) as {
    url: string;
    token: string;
    hosts: string[];
  };
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < DUPLICATES) {
        const i = next++;
        const r = await postSignal(url, token, signalFor(hosts[i % hosts.length]!));
        latencies.push(r.ms);
        outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      }
    }),
  );
  process.send!({ seconds: (performance.now() - t0) / 1000, latencies, outcomes } satisfies LoadResult);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-bench-'));
  chmodSync(dir, 0o755);
  const { pg, temporal } = await startServices(
    { dataDir: join(dir, 'pg'), fast: process.env.BENCH_NO_FSYNC === '1' },
    { headless: true, logFile: join(dir, 'temporal.log') },
  );
  const url = await pg.createDatabase('shipshape');
  migrate(url);
  const keysFile = join(dir, 'keys.json');
  writeNewKeysFile(keysFile);
  const config = loadConfig({
    SHIPSHAPE_KEYS_FILE: keysFile,
    DATABASE_URL: url,
    TEMPORAL_ADDRESS: temporal.address,
    SHIPSHAPE_SEED_SIMULATED_FLEET: 'true',
    LOG_LEVEL: 'error',
  });
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const api = await startApi(config, { port: 0 });
  const token = await createToken(api.db, 'bench', 'operator');
  const provider = createProvider(config, api.db);
  await prepareFleet(config, api.db, provider);
  const connection = await connectWorker(config);
  const worker = await createRemediationWorker({
    connection,
    namespace: 'default',
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities: createActivities({
      provider,
      db: api.db,
      bmc: createBmc(config, api.db, provider),
      notifier: { notify: async () => undefined },
      guards: () => DEFAULT_GUARDS,
    }),
    keys: loadKeys(keysFile),
  });
  const running = worker.run();

  const hosts = Array.from({ length: HOSTS }, (_, i) =>
    simulatedHostName(i % 2 ? 'zone-b' : 'zone-a', 1 + Math.floor(i / 2)),
  );

  for (const h of hosts) await injectFault(api.db, h, { unhealthy: 'bench' });
  const firsts: number[] = [];
  for (const h of hosts) firsts.push((await postSignal(api.url, token, signalFor(h))).ms);

  // The load comes from another process, as it would from Alertmanager, so it does not share the API's event loop.
  const load = await runLoadProcess({ url: api.url, token, hosts });
  const { seconds, outcomes } = load;
  const latencies = load.latencies.sort((a, b) => a - b);
  firsts.sort((a, b) => a - b);
  const signalsRecorded = await countSignals(api.db);

  console.log(
    `\n## Signal storm (${new Date().toISOString().slice(0, 10)}, ${HOSTS} hosts, ${DUPLICATES} duplicate alerts, ${CONCURRENCY} concurrent clients)\n`,
  );
  console.log('| measure | value |\n|---|---|');
  console.log(`| duplicate alerts absorbed | ${(DUPLICATES / seconds).toFixed(0)} per second |`);
  console.log(
    `| duplicate latency p50 / p99 | ${percentile(latencies, 50).toFixed(1)} ms / ${percentile(latencies, 99).toFixed(1)} ms |`,
  );
  console.log(
    `| first alert of a host (starts a workflow) p50 / max | ${percentile(firsts, 50).toFixed(1)} ms / ${firsts[firsts.length - 1]!.toFixed(1)} ms |`,
  );
  console.log(
    `| outcomes | ${Object.entries(outcomes)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')} |`,
  );
  console.log(`| signals recorded in PostgreSQL | ${signalsRecorded} of ${DUPLICATES + HOSTS} |`);
  console.log(`| RSS of the API + worker process | ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB |`);

  worker.shutdown();
  await running;
  await connection.close();
  await api.stop();
  await temporal.stop();
  await pg.stop();
}

(process.argv[2] === 'load' ? loadProcess() : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
