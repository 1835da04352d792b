/**
 * The demo's compliance scans: every simulated host gets an SSH endpoint
 * (`<host>.sim`, answered by the simulated SSH executor, so no real SSH is
 * needed) and labels (its rack) in an inventory file; the worker reads them
 * with a throw-away key; the demo starts a scan of the fleet with the shipped
 * profiles and prints a line per finished scan. Findings differ per host:
 * each simulated host drifts from the Debian baseline in its own ways
 * (providers/simulated/ssh.ts `demoHost`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { DEMO_FLEET, simulatedHostName } from '../providers/simulated/admin';

/** Every demo host's name, zone by zone. */
export function demoHosts(): string[] {
  return DEMO_FLEET.zones.flatMap((zone) =>
    Array.from({ length: DEMO_FLEET.hostsPerZone }, (_, i) => simulatedHostName(zone, i + 1)),
  );
}

/**
 * Write the inventory file (SSH endpoint and labels per host) and the SSH credentials file (a key made now,
 * owner-only) into `dir`; returns their paths for the worker's configuration.
 */
export function writeDemoSshInventory(dir: string): { inventoryFile: string; credentialsFile: string } {
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, 'demo-ssh-key');
  writeFileSync(keyFile, utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
  const credentialsFile = join(dir, 'ssh-credentials.yaml');
  writeFileSync(credentialsFile, `demo-sim:\n  username: root\n  privateKeyFile: ${keyFile}\n`, { mode: 0o600 });
  const inventoryFile = join(dir, 'inventory.yaml');
  const lines = ['# The demo fleet: each simulated host over simulated SSH, and its rack.', 'hosts:'];
  demoHosts().forEach((host, i) => {
    lines.push(
      `  ${host}:`,
      `    ssh: { address: ${host}.sim, credentials: demo-sim }`,
      `    labels: { rack: r${1 + Math.floor((i % DEMO_FLEET.hostsPerZone) / 4)}, os: debian-12 }`,
    );
  });
  writeFileSync(inventoryFile, `${lines.join('\n')}\n`);
  return { inventoryFile, credentialsFile };
}

interface ScanView {
  status: string;
  summary: {
    hosts: number;
    scanned: number;
    unreachable: unknown[];
    failed: unknown[];
    results: Record<string, number>;
  } | null;
  error: string | null;
}

interface FindingView {
  host: string;
  ruleId: string;
  state: string;
}

/**
 * Start a scan of every host with every profile through the API, wait for it, and print one line: the
 * results, and the hosts with the most failing rules (with which).
 */
export async function runDemoScan(
  api: { url: string; token: string },
  print: (line: string) => void = console.log,
): Promise<void> {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${api.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const t0 = Date.now();
  const { scanId } = await call<{ scanId: string }>('POST', '/v1/compliance/scans', {});
  print(`[demo] compliance scan ${scanId.slice(0, 8)} started: every host, every shipped profile`);
  let scan: ScanView;
  for (;;) {
    scan = await call<ScanView>('GET', `/v1/compliance/scans/${scanId}`);
    if (scan.status !== 'running') break;
    await new Promise((ok) => setTimeout(ok, 500));
  }
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  if (scan.status !== 'completed' || !scan.summary) {
    print(`[demo] compliance scan ${scanId.slice(0, 8)} ${scan.status}: ${scan.error ?? 'no summary'}`);
    return;
  }
  const s = scan.summary;
  const failing = await call<{ findings: FindingView[] }>('GET', '/v1/compliance/findings?state=fail&limit=1000');
  const byHost = new Map<string, string[]>();
  for (const f of failing.findings) byHost.set(f.host, [...(byHost.get(f.host) ?? []), f.ruleId]);
  const worst = [...byHost.entries()]
    .sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([host, rules]) => `${host} ${rules.length} (${rules.map((r) => r.replace(/^[^.]+\./, '')).join(', ')})`);
  print(
    `[demo] compliance scan ${scanId.slice(0, 8)} done in ${seconds} s: ${s.scanned}/${s.hosts} hosts, ` +
      `${s.results.pass} pass, ${s.results.fail} fail, ${s.results.error} error, ${s.results['not-applicable']} n/a; ` +
      `${byHost.size} hosts failing a rule; most: ${worst.join('; ') || 'none'}`,
  );
}
