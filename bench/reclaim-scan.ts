/**
 * Reclaim detection at scale (issue 14): a simulated tenant cloud of 5,000
 * servers, 5,000 volumes and 2,000 floating IPs across 200 projects, scanned
 * and classified by the three shipped rules — each resource judged, every
 * flagged one recorded in PostgreSQL with its capacity — timed end to end.
 * The target: under 60 s on the 2-core development machine.
 *
 *   npm run bench:reclaim              the full size; appends to bench/RESULTS.md
 *   npm run bench:reclaim -- --quick   500 / 500 / 200
 *
 * Starting the reclaim workflows is not timed here: the shipped rules are in
 * dry run, and a reclaim is one workflow start per resource (see the
 * workflow's tests).
 */
import { appendFileSync, chmodSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createReclaimActivities } from '../activities/reclaim';
import { createPool } from '../db/pool';
import { countReclaimFindings } from '../db/reclaim';
import { loadReclaimRules } from '../policies/reclaim-loader';
import { SimulatedTenantCloud } from '../providers/simulated/tenants';
import { migrate, startPostgres } from '../scripts/services';
import { machine } from './inbox-month';

const BENCH_DIR = existsSync(join(__dirname, 'RESULTS.md')) ? __dirname : join(__dirname, '..', '..', 'bench');
const RULES_DIR = join(BENCH_DIR, '..', 'policies', 'reclaim');

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const size = quick
    ? { projects: 20, servers: 500, volumes: 500, floatingIps: 200 }
    : { projects: 200, servers: 5000, volumes: 5000, floatingIps: 2000 };
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-reclaim-bench-'));
  chmodSync(dir, 0o755);
  const pg = await startPostgres({ dataDir: join(dir, 'pg'), fast: process.env.BENCH_NO_FSYNC === '1' });
  try {
    await pg.createDatabase('shipshape');
    migrate(pg.ownerUrl('shipshape'));
    const db = createPool(pg.appUrl('shipshape'), 10);
    const now = new Date();
    const cloud = new SimulatedTenantCloud({ ...size, waste: 0.2, now, seed: 1 });
    const rules = loadReclaimRules(RULES_DIR);
    const acts = createReclaimActivities({
      db,
      cloud,
      mailer: { send: async () => undefined },
      rules: () => rules,
      caps: { deletionsPerDay: 100, deletionsPerProjectPerDay: 20 },
    });
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const lines: string[] = [];
    let judged = 0;
    let flagged = 0;
    for (const rule of rules) {
      const t = performance.now();
      const r = await acts.scanReclaimRule({ rule: rule.name });
      judged += r.judged;
      flagged += r.flagged;
      lines.push(`| ${rule.name} | ${r.judged} | ${r.flagged} | ${((performance.now() - t) / 1000).toFixed(2)} s |`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const recorded = await countReclaimFindings(db);
    if (recorded !== flagged) throw new Error(`${flagged} flagged but ${recorded} recorded`);
    await db.end();
    const report = [
      `### Reclaim detection (${now.toISOString().slice(0, 10)}${quick ? ', quick' : ''}): ${size.servers} servers, ${size.volumes} volumes, ${size.floatingIps} floating IPs, ${size.projects} projects`,
      '',
      `Machine: ${machine()}. Command: \`npm run bench:reclaim${quick ? ' -- --quick' : ''}\`.`,
      '',
      '| rule | judged | flagged (recorded) | time |',
      '|---|---|---|---|',
      ...lines,
      '',
      `All three rules: **${judged} resources judged and ${flagged} flagged and recorded in ${seconds.toFixed(2)} s** (target: under 60 s); ` +
        `RSS grew by ${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(0)} MiB.`,
    ].join('\n');
    console.log(`\n${report}\n`);
    if (!quick) appendFileSync(join(BENCH_DIR, 'RESULTS.md'), `\n${report}\n`);
  } finally {
    await pg.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
