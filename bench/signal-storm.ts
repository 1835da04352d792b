/**
 * Signal storm benchmark: how many alerts a second the API absorbs when most
 * of them repeat alerts that running remediations already have (the storm
 * case the dispatcher's fast path is built for), and what a first alert costs.
 *
 * Starts its own PostgreSQL and Temporal dev server, the API and a worker,
 * in this process. Run: npm run bench  (results: bench/RESULTS.md)
 */
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { injectFault, simulatedHostName } from '../activities/providers/simulated-admin';
import { createProvider } from '../activities/wiring';
import { createToken } from '../api/auth';
import { startApi } from '../api/server';
import { loadConfig } from '../config';
import { connectWorker } from '../workers/temporal';
import { createRemediationWorker } from '../workers/worker';
import { migrate, startPostgres, startTemporalDevServer } from '../scripts/services';

const HOSTS = 20;
const DUPLICATES = Number(process.env.BENCH_SIGNALS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-bench-'));
  chmodSync(dir, 0o755);
  const [pg, temporal] = await Promise.all([
    startPostgres({ dataDir: join(dir, 'pg') }),
    startTemporalDevServer({ headless: true, logFile: join(dir, 'temporal.log') }),
  ]);
  const url = await pg.createDatabase('shipshape');
  migrate(url);
  const config = loadConfig({ DATABASE_URL: url, TEMPORAL_ADDRESS: temporal.address, SHIPSHAPE_SEED_SIMULATED_FLEET: 'true', LOG_LEVEL: 'error' });
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const api = await startApi(config, { port: 0 });
  const token = await createToken(api.db, 'bench', 'operator');
  const connection = await connectWorker(config);
  const worker = await createRemediationWorker({
    connection, namespace: 'default', taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities: createActivities({ provider: createProvider(config, api.db), db: api.db, notifier: { notify: async () => undefined } }),
  });
  const running = worker.run();

  const hosts = Array.from({ length: HOSTS }, (_, i) => simulatedHostName(i % 2 ? 'zone-b' : 'zone-a', 1 + Math.floor(i / 2)));
  // HardwareFault needs approval, so every remediation stays open through the storm.
  const signal = (host: string) => ({
    source: 'bench', name: 'HardwareFault', resource: { kind: 'host', id: host }, severity: 'critical', status: 'firing',
    labels: { host }, annotations: {}, startsAt: new Date().toISOString(),
  });
  const post = async (body: unknown) => {
    const t = performance.now();
    const res = await fetch(`${api.url}/v1/signals`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json()) as { outcome: string };
    return { ms: performance.now() - t, outcome: json.outcome };
  };

  for (const h of hosts) await injectFault(api.db, h, { unhealthy: 'bench' });
  const firsts: number[] = [];
  for (const h of hosts) firsts.push((await post(signal(h))).ms);

  const latencies: number[] = [];
  const outcomes = new Map<string, number>();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < DUPLICATES) {
        const i = next++;
        const r = await post(signal(hosts[i % HOSTS]!));
        latencies.push(r.ms);
        outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  firsts.sort((a, b) => a - b);
  const signalsRecorded = (await api.db.query('SELECT count(*)::int AS n FROM signals')).rows[0].n;

  console.log(`\n## Signal storm (${new Date().toISOString().slice(0, 10)}, ${HOSTS} hosts, ${DUPLICATES} duplicate alerts, ${CONCURRENCY} concurrent clients)\n`);
  console.log('| measure | value |\n|---|---|');
  console.log(`| duplicate alerts absorbed | ${(DUPLICATES / seconds).toFixed(0)} per second |`);
  console.log(`| duplicate latency p50 / p99 | ${percentile(latencies, 50).toFixed(1)} ms / ${percentile(latencies, 99).toFixed(1)} ms |`);
  console.log(`| first alert of a host (starts a workflow) p50 / max | ${percentile(firsts, 50).toFixed(1)} ms / ${firsts[firsts.length - 1]!.toFixed(1)} ms |`);
  console.log(`| outcomes | ${[...outcomes].map(([k, v]) => `${k}: ${v}`).join(', ')} |`);
  console.log(`| signals recorded in PostgreSQL | ${signalsRecorded} of ${DUPLICATES + HOSTS} |`);
  console.log(`| RSS of the process (API + worker) | ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB |`);

  worker.shutdown();
  await running;
  await connection.close();
  await api.stop();
  await temporal.stop();
  await pg.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
