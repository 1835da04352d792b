/**
 * Compliance scan benchmark.
 *
 *  1. Real SSH (bench/compliance-ssh.ts): checks per second over one
 *     connection to a test host with 1, 4 and 16 commands in flight, the three
 *     test hosts at once, and the os-baseline profile on one host through the
 *     real activity. Needs root (the SSH test hosts); skipped otherwise.
 *  2. Fleet scale (bench/compliance-fleet.ts): 200 generated ssh rules × 1,000
 *     simulated hosts through the real complianceScanWorkflow on a Temporal
 *     dev server, every finding stored in PostgreSQL. Target: under 10 minutes.
 *
 * Run: npm run bench:compliance            (results appended to bench/RESULTS.md)
 *      npm run bench:compliance -- --quick (20 rules × 100 hosts, no SSH; printed only)
 * Settings: BENCH_SSH_LATENCY_MS (a simulated command's round trip, default 2).
 */
import { appendFileSync, chmodSync, existsSync, mkdtempSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { migrate, startServices } from '../scripts/services';
import { FULL_FLEET, QUICK_FLEET, runFleetScan, type FleetScanResult } from './compliance-fleet';
import { runSshBench, type SshBenchRow } from './compliance-ssh';

const BENCH_DIR = existsSync(join(__dirname, 'RESULTS.md')) ? __dirname : join(__dirname, '..', '..', 'bench');

function machine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${availableParallelism()} cores (nproc), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${model}`;
}

function renderSsh(rows: SshBenchRow[]): string[] {
  return [
    '| real SSH (test hosts on loopback) | checks | time | checks/s |',
    '|---|---|---|---|',
    ...rows.map(
      (r) => `| ${r.what} | ${r.checks} | ${r.seconds.toFixed(2)} s | ${(r.checks / r.seconds).toFixed(0)} |`,
    ),
  ];
}

function renderFleet(r: FleetScanResult, latencyMs: number): string[] {
  const s = r.summary;
  return [
    `| fleet scan (simulated SSH, ${latencyMs} ms a command) | value |`,
    '|---|---|',
    `| rules × hosts | ${r.shape.rules} × ${r.shape.hosts} |`,
    `| wall time of the workflow | ${r.seconds.toFixed(1)} s (${(r.seconds / 60).toFixed(1)} min) |`,
    `| findings stored | ${r.findingsStored} (expected ${r.shape.rules * r.shape.hosts}) |`,
    `| findings/s | ${(r.findingsStored / r.seconds).toFixed(0)} |`,
    `| hosts/s | ${(r.shape.hosts / r.seconds).toFixed(1)} |`,
    `| results pass / fail / error / n-a | ${s.results.pass} / ${s.results.fail} / ${s.results.error} / ${s.results['not-applicable']} |`,
    `| fail expected (drifted rules) | ${r.failingExpected} |`,
    `| hosts unreachable (wrong pinned key) | ${s.unreachable.length >= 50 ? '≥ 50' : s.unreachable.length} (expected ${r.unreachableExpected}) |`,
    `| hosts failed | ${s.failed.length} |`,
    `| SSH sessions / commands run | ${r.connectionsOpened} / ${r.commandsRun} |`,
    `| history rows; tables with indexes | ${r.historyRows}; ${(r.findingsBytes / 2 ** 20).toFixed(1)} MiB |`,
    `| peak RSS of the bench process (worker in-process) | ${r.peakRssMiB.toFixed(0)} MiB |`,
    `| seeding the inventory | ${r.seedSeconds.toFixed(1)} s |`,
  ];
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const shape = quick ? QUICK_FLEET : FULL_FLEET;
  const latencyMs = Number(process.env.BENCH_SSH_LATENCY_MS ?? 2);
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-bench-compliance-'));
  chmodSync(dir, 0o755);
  const { pg, temporal } = await startServices(
    { dataDir: join(dir, 'pg') },
    { headless: true, logFile: join(dir, 'temporal.log') },
  );
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const lines: string[] = [];
  try {
    const date = new Date().toISOString().slice(0, 10);
    lines.push(`## Compliance scans (${date}${quick ? ', quick' : ''})`, '', `Machine: ${machine()}, Debian 12.`, '');
    if (!quick) {
      if (process.getuid?.() === 0) {
        await pg.createDatabase('ssh');
        migrate(pg.ownerUrl('ssh'));
        lines.push(...renderSsh(await runSshBench(pg.appUrl('ssh'), (l) => console.log(l))), '');
      } else lines.push('Real SSH: skipped (the SSH test hosts need root).', '');
    }
    await pg.createDatabase('shipshape');
    migrate(pg.ownerUrl('shipshape'));
    const fleet = await runFleetScan({
      shape,
      databaseUrl: pg.appUrl('shipshape'),
      temporalAddress: temporal.address,
      dir,
      latencyMs,
      log: (l) => console.log(l),
    });
    lines.push(...renderFleet(fleet, latencyMs));
    const report = lines.join('\n');
    console.log(`\n${report}\n`);
    if (!quick) appendFileSync(join(BENCH_DIR, 'RESULTS.md'), `\n${report}\n`);
  } finally {
    await temporal.stop();
    await pg.stop();
  }
}

if (require.main === module)
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
