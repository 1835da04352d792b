/**
 * `shipshape compliance profiles` and `shipshape compliance scan`, run as an
 * operator runs them: the built binary (dist/cli/main.js; `npx tsc -p
 * tsconfig.build.json` first) as a child process, against the real API, a
 * worker on the Temporal dev server, and PostgreSQL. The hosts are the
 * simulated fleet's, without SSH endpoints: their SSH rules are `error`.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshCredentials } from '../../providers/ssh/credentials';
import { complianceActivities } from '../support/compliance';
import { CLI_MAIN, runCli, runCliJson } from '../support/cli';
import { createTestEnv, type TestEnv } from '../support/env';
import { http } from '../support/http';

const PROFILES = join(__dirname, '../../policies/compliance');

let env: TestEnv;
let home: string;
let tokens: Record<'operator' | 'viewer', string>;

beforeAll(async () => {
  if (!existsSync(CLI_MAIN)) throw new Error('dist/cli/main.js is missing: run "npx tsc -p tsconfig.build.json" first');
  home = mkdtempSync(join(tmpdir(), 'shipshape-cli-home-'));
  env = await createTestEnv({
    fleet: { zones: ['zone-a'], hostsPerZone: 2, serversPerHost: 0 },
    complianceDir: PROFILES,
  });
  await env.startWorker(complianceActivities(env, { sshCredentials: SshCredentials.empty(), profilesDir: PROFILES }));
  tokens = { operator: await env.token('olivia', 'operator'), viewer: await env.token('victor', 'viewer') };
}, 120_000);
afterAll(() => env.close());

const cli = (args: string[], token = tokens.operator) => runCli(args, { home, apiUrl: env.apiUrl, token });
const json = (args: string[], token = tokens.operator) => runCliJson(args, { home, apiUrl: env.apiUrl, token });

describe('shipshape compliance profiles', () => {
  test('lists the profiles with their version, digest, rule count and schedule; --json is the API’s answer', async () => {
    const r = await cli(['compliance', 'profiles'], tokens.viewer);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PROFILE\s+VERSION\s+DIGEST\s+RULES\s+SCHEDULE\s+NEXT RUN\s+BY SEVERITY$/);
    expect(r.stdout).toMatch(
      /^os-baseline\s+1\.0\s+[0-9a-f]{12}\s+7\s+cron 0 3 \* \* \*\s+-\s+critical \d+, warning \d+$/m,
    );
    expect(r.stdout).toMatch(/^compute-host\s+1\.0\s+[0-9a-f]{12}\s+3\s+every 60 min\s/m);
    expect(await json(['compliance', 'profiles'], tokens.viewer)).toEqual(
      (await http('GET', `${env.apiUrl}/v1/compliance/profiles`, tokens.viewer)).body,
    );
  });

  test('with a name, shows the profile and its rules, with each fix’s disruption', async () => {
    const r = await cli(['compliance', 'profiles', 'compute-host'], tokens.viewer);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Profile:\s+compute-host 1\.0 \([0-9a-f]{12}\)$/m);
    expect(r.stdout).toMatch(/^Schedule:\s+every 60 min$/m);
    expect(r.stdout).toMatch(/^RULE\s+SEVERITY\s+KIND\s+CHECK\s+FIX\s+TITLE$/m);
    expect(r.stdout).toMatch(
      /^compute\.nova-compute-enabled-up\s+critical\s+openstack\s+compute-service\s+restart-compute-service, service-restart\s+nova-compute is enabled and up$/m,
    );
  });

  test('an unknown profile exits 1 with the API’s answer', async () => {
    const r = await cli(['compliance', 'profiles', 'nope'], tokens.viewer);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^not_found: no compliance profile "nope"$/m);
  });
});

describe('shipshape compliance scan', () => {
  let scanId: string;

  test('start --wait scans the hosts named against the profiles named and prints the summary', async () => {
    const r = await cli([
      'compliance',
      'scan',
      'start',
      '--host',
      'cmp-a-01',
      '--host',
      'cmp-a-02',
      '--profile',
      'os-baseline',
      '--wait',
    ]);
    expect(r.code).toBe(0);
    scanId = /^Scan:\s+(\S+)$/m.exec(r.stdout)![1]!;
    expect(r.stdout).toMatch(/^Status:\s+completed$/m);
    expect(r.stdout).toMatch(/^Requested by:\s+olivia$/m);
    expect(r.stdout).toMatch(/^Profiles:\s+os-baseline$/m);
    expect(r.stdout).toMatch(/^Hosts:\s+cmp-a-01,cmp-a-02$/m);
    expect(r.stdout).toMatch(/^Hosts scanned:\s+2 of 2$/m);
    expect(r.stdout).toMatch(/^Results:\s+error 14$/m); // 7 SSH rules × 2 hosts without an SSH endpoint
    expect(r.stdout).toMatch(/^HOST\s+NOT READ OVER SSH$/m);
    expect(r.stdout).toMatch(/^cmp-a-01\s+cmp-a-01 has no SSH endpoint in the inventory$/m);
  }, 60_000);

  test('status shows the scan; --json is the API’s answer', async () => {
    const r = await cli(['compliance', 'scan', 'status', scanId], tokens.viewer);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Scan:\\s+${scanId}$`, 'm'));
    expect(await json(['compliance', 'scan', 'status', scanId], tokens.viewer)).toEqual(
      (await http('GET', `${env.apiUrl}/v1/compliance/scans/${scanId}`, tokens.viewer)).body,
    );
  });

  test('start without --wait prints the scan’s ID and how to follow it', async () => {
    const r = await cli(['compliance', 'scan', 'start', '--host', 'cmp-a-01', '--profile', 'compute-host']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^scan (\S+) started: shipshape compliance scan status \1$/m);
  });

  test('list shows recent scans newest first, filtered by profile', async () => {
    const r = await cli(['compliance', 'scan', 'list', '--profile', 'os-baseline'], tokens.viewer);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SCAN\s+STATUS\s+REQUESTED BY\s+PROFILES\s+HOSTS\s+STARTED\s+CLOSED\s+RESULTS$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(
        new RegExp(`^${scanId}\\s+completed\\s+olivia\\s+os-baseline\\s+2\\s+\\S+ \\S+\\s+\\S+ \\S+\\s+error 14$`),
      ),
    ]);
    const all = await json(['compliance', 'scan', 'list'], tokens.viewer);
    expect(all.scans).toHaveLength(2);
    const bad = await cli(['compliance', 'scan', 'list', '--status', 'done'], tokens.viewer);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--status "done": must be one of running, completed/);
  });

  test('a profile the folder does not have is refused, naming it; a viewer may not start a scan', async () => {
    const r = await cli(['compliance', 'scan', 'start', '--profile', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^validation_failed: body\.profiles: no compliance profile named nope/m);
    const viewer = await cli(['compliance', 'scan', 'start'], tokens.viewer);
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toMatch(/needs a token with role operator or higher/);
  });
});
