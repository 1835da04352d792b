/**
 * The demo's reclaim of unused capacity: a simulated tenant cloud, the
 * shipped rules (all in dry run), and one scan after the first telemetry
 * sweep, reported as a `[demo]` line — what is flagged and what it holds.
 */
import { join } from 'node:path';
import type { ReclaimDeps } from '../activities/reclaim';
import { loadReclaimRules } from '../policies/reclaim-loader';
import { SimulatedTenantCloud } from '../providers/simulated/tenants';
import { PROJECT_ROOT } from './services';

export function demoReclaim(): Omit<ReclaimDeps, 'db'> {
  const rules = loadReclaimRules(join(PROJECT_ROOT, 'policies', 'reclaim'));
  return {
    cloud: new SimulatedTenantCloud({
      projects: 12,
      servers: 200,
      volumes: 150,
      floatingIps: 60,
      waste: 0.2,
      now: new Date(),
      seed: 3,
    }),
    // The shipped rules are in dry run: nobody is told. A rule turned on in the demo prints its notices here.
    mailer: { send: async (m) => void console.log(`[demo] reclaim notice to ${m.to.join(', ')}: ${m.subject}`) },
    rules: () => rules,
    caps: { deletionsPerDay: 50, deletionsPerProjectPerDay: 10 },
  };
}

interface Totals {
  count: number;
  capacity: { vcpus: number; ramMb: number; diskGb: number; ips: number };
}

/** Start a reclaim scan through the API, wait for what it flags, and print one line. */
export async function runDemoReclaimScan(api: { url: string; token: string }): Promise<void> {
  const headers = { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' };
  const started = await fetch(`${api.url}/v1/reclaim/scans`, { method: 'POST', headers, body: '{}' });
  if (started.status !== 202) throw new Error(`the API answered ${started.status}`);
  const t0 = Date.now();
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const r = await fetch(`${api.url}/v1/reclaim/report`, { headers });
    const report = (await r.json()) as { all: { flagged: Totals } };
    const f = report.all?.flagged;
    if (f && f.count > 0) {
      console.log(
        `[demo] reclaim scan (dry run) done in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${f.count} resources flagged, holding ` +
          `${f.capacity.vcpus} vCPU, ${Math.round(f.capacity.ramMb / 1024)} GiB RAM, ${f.capacity.diskGb} GB, ${f.capacity.ips} IPs — nothing done until a rule leaves dry run`,
      );
      return;
    }
  }
  console.log('[demo] reclaim scan: nothing flagged after 30 s');
}
