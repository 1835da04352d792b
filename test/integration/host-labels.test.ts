/**
 * Host labels from the inventory file, end to end: stored on the hosts
 * (syncInventoryFile), shown by GET /v1/hosts/{id}, and matched by a
 * compliance profile's scope, so a profile scoped by label applies only to the
 * labelled hosts: they are read and judged; the others are `not-applicable`
 * for it, naming the label, and not contacted. The hosts are simulated
 * (providers/simulated/ssh.ts); the scan runs through the API, the real
 * workflow and activities, on the real Temporal dev server and PostgreSQL.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { syncInventoryFile } from '../../activities/inventory';
import { parseInventoryFile } from '../../config/inventory-file';
import { demoHost, SimulatedSshExecutor } from '../../providers/simulated/ssh';
import { SshCredentials } from '../../providers/ssh/credentials';
import { complianceActivities, runScan } from '../support/compliance';
import { createTestEnv, type TestEnv } from '../support/env';
import { http } from '../support/http';

const RACK_R4 = ['cmp-a-01', 'cmp-a-02'];
const OTHERS = ['cmp-a-03', 'cmp-b-01'];

const PROFILE = `
name: rack-r4
version: '1'
prefix: r4
description: Only the hosts of rack r4.
scope:
  labels: ['rack="r4"']
rules:
  - id: r4.shadow-mode
    title: /etc/shadow is protected
    severity: warning
    rationale: A test rule.
    kind: ssh
    check:
      type: file-mode
      path: /etc/shadow
      mode: '0640'
`;

let env: TestEnv;
let operator: string;
let viewer: string;
const executor = new SimulatedSshExecutor({ hostPicture: demoHost, latencyMs: 0, connectMs: 0 });

beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a', 'zone-b'], hostsPerZone: 3, serversPerHost: 0 } });
  const inventory = parseInventoryFile(
    [
      'hosts:',
      ...[...RACK_R4, ...OTHERS].flatMap((h) => [
        `  ${h}:`,
        `    ssh: { address: ${h}.sim, credentials: sim }`,
        ...(RACK_R4.includes(h) ? ['    labels:', '      rack: r4', "      os: 'debian-12'"] : []),
      ]),
      '',
    ].join('\n'),
    'inventory.yaml',
  );
  await syncInventoryFile(env.db, inventory);
  const dir = mkdtempSync(join(process.env.SHIPSHAPE_TEST_DIR!, 'labels-'));
  writeFileSync(join(dir, 'rack-r4.yaml'), PROFILE);
  const key = utils.generateKeyPairSync('ed25519');
  const sshCredentials = SshCredentials.fromText('sim:\n  username: root\n  privateKeyEnv: K\n', 'test', {
    K: key.private,
  });
  await env.startWorker(complianceActivities(env, { sshCredentials, profilesDir: dir, sshExecutor: executor }));
  operator = await env.token('olivia', 'operator');
  viewer = await env.token('victor', 'viewer');
}, 120_000);

afterAll(async () => {
  await env?.close();
});

const scan = (hosts: string[]) => runScan(env, { operator, viewer }, { hosts }, { timeoutMs: 30_000, pollMs: 200 });

describe('host labels', () => {
  it('are shown by GET /v1/hosts/{id} as the inventory file gives them, and empty for hosts it does not label', async () => {
    const labelled = await http('GET', `${env.apiUrl}/v1/hosts/${RACK_R4[0]}`, viewer);
    expect(labelled.status).toBe(200);
    expect(labelled.body.labels).toEqual({ rack: 'r4', os: 'debian-12' });
    const other = await http('GET', `${env.apiUrl}/v1/hosts/${OTHERS[0]}`, viewer);
    expect(other.body.labels).toEqual({});
  });

  it('scope a profile: only the labelled hosts are read and judged; the others are not-applicable, naming the label', async () => {
    const before = executor.connectionsOpened;
    const s = await scan([...RACK_R4, ...OTHERS]);
    expect(s.status).toBe('completed');
    expect(s.summary).toMatchObject({ hosts: 4, scanned: 4, failed: [], unreachable: [] });
    // Only rack r4's hosts were contacted.
    expect(executor.connectionsOpened - before).toBe(RACK_R4.length);
    const findings = await http('GET', `${env.apiUrl}/v1/compliance/findings?profile=rack-r4`, viewer);
    expect(findings.status).toBe(200);
    const byHost = new Map(findings.body.findings.map((f: any) => [f.host, f]));
    for (const h of RACK_R4) expect(['pass', 'fail']).toContain((byHost.get(h) as any)?.state);
    for (const h of OTHERS)
      expect(byHost.get(h)).toMatchObject({
        state: 'not-applicable',
        reason: expect.stringContaining('rack="r4"'),
      });
  });

  it('follow the file: a host it no longer labels loses its labels, and the profile no longer applies to it', async () => {
    await syncInventoryFile(
      env.db,
      parseInventoryFile(
        `hosts:\n  ${RACK_R4[1]}:\n    labels: { rack: r4 }\n  ${RACK_R4[0]}:\n    ssh: { address: ${RACK_R4[0]}.sim, credentials: sim }\n`,
        'inventory.yaml',
      ),
    );
    expect((await http('GET', `${env.apiUrl}/v1/hosts/${RACK_R4[0]}`, viewer)).body.labels).toEqual({});
    expect((await http('GET', `${env.apiUrl}/v1/hosts/${RACK_R4[1]}`, viewer)).body.labels).toEqual({ rack: 'r4' });
    await scan([RACK_R4[0]!]);
    const f = await http('GET', `${env.apiUrl}/v1/compliance/findings?host=${RACK_R4[0]}`, viewer);
    expect(f.body.findings).toEqual([expect.objectContaining({ profile: 'rack-r4', state: 'not-applicable' })]);
  });
});
