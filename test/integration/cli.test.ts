/**
 * The `shipshape` command-line tool, run as an operator runs it: the built
 * binary (dist/cli/main.js; `npm run build` first) as a child process, with
 * SHIPSHAPE_URL and SHIPSHAPE_TOKEN, against the real API on the dev server
 * and PostgreSQL.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { injectFault } from '../../providers/simulated/admin';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, http } from '../support/http';

const MAIN = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

const NEEDS_APPROVAL = `name: needs-approval
description: a hardware fault; an approver decides before the host is touched
match:
  signals: [HardwareFault]
approval:
  mode: always
  approverRoles: [approver, admin]
  timeoutSeconds: 600
  onTimeout: escalate
steps:
  - action: power-cycle
    fixWithinSeconds: 60
verify:
  attempts: 3
  intervalSeconds: 1
`;

let env: TestEnv;
let dir: string;
let home: string;
let tokens: Record<'operator' | 'approver' | 'viewer', string>;

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error('dist/cli/main.js is missing: run "npm run build" first');
  dir = mkdtempSync(join(tmpdir(), 'shipshape-cli-policies-'));
  copyFileSync(join(__dirname, '..', '..', 'policies', 'guards.yaml'), join(dir, 'guards.yaml'));
  writeFileSync(join(dir, 'needs-approval.yaml'), NEEDS_APPROVAL);
  // A home of its own: no config file of the machine's user is read.
  home = mkdtempSync(join(tmpdir(), 'shipshape-cli-home-'));
  env = await createTestEnv({
    policyDir: dir,
    fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 1 },
    migrationSeconds: 1,
  });
  tokens = {
    operator: await env.token('ops-bot', 'operator'),
    approver: await env.token('alice', 'approver'),
    viewer: await env.token('victor', 'viewer'),
  };
  await env.startWorker();
});
afterAll(() => env.close());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI; `env` replaces SHIPSHAPE_URL/SHIPSHAPE_TOKEN (undefined leaves one out). */
function cli(args: string[], vars: Record<string, string | undefined> = {}): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    SHIPSHAPE_URL: env.apiUrl,
    SHIPSHAPE_TOKEN: tokens.operator,
    ...vars,
  };
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

const json = async (args: string[], vars?: Record<string, string | undefined>) => {
  const r = await cli([...args, '--json'], vars);
  if (r.code !== 0) throw new Error(`shipshape ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

describe('hosts', () => {
  test('hosts list prints an aligned table with a header, and --json prints the API’s answer as is', async () => {
    const table = await cli(['hosts', 'list']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^HOST\s+ZONE\s+ROLES\s+POOL STATE\s+HEALTH\s+POWER\s+BMC\s+REMEDIATION$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['cmp-a-01', 'cmp-a-02', 'cmp-a-03']);
    // Aligned: every row's zone starts in the header's ZONE column; no colour codes off a terminal.
    const zoneAt = lines[0]!.indexOf('ZONE');
    for (const l of lines.slice(1)) expect(l.slice(zoneAt, zoneAt + 6)).toBe('zone-a');
    expect(table.stdout).not.toContain('\u001b[');

    const asJson = await json(['hosts', 'list']);
    expect(asJson).toEqual((await http('GET', `${env.apiUrl}/v1/hosts`, tokens.operator)).body);
  });

  test('hosts list --limit 2 shows one page and says how to get the next; --all follows next to the last page', async () => {
    const one = await cli(['hosts', 'list', '--limit', '2']);
    expect(one.code).toBe(0);
    expect(one.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(one.stderr).toMatch(/more hosts after cmp-a-02: pass --all, or --after cmp-a-02/);

    const all = await json(['hosts', 'list', '--limit', '2', '--all']);
    expect(all.hosts.map((h: { id: string }) => h.id)).toEqual(['cmp-a-01', 'cmp-a-02', 'cmp-a-03']);
    expect(all.next).toBeNull();
  });
});

describe('remediations', () => {
  let id: string;

  test('a signal sent from the command line starts a remediation that remediations list and show display', async () => {
    // A real fault, so the remediation confirms it and asks for approval (a healthy host is a false alarm).
    await injectFault(env.db, 'cmp-a-01', { unhealthy: 'DIMM A3 uncorrectable errors' });
    const sent = await cli([
      'signal',
      'send',
      '--host',
      'cmp-a-01',
      '--name',
      'HardwareFault',
      '--severity',
      'critical',
      '--label',
      'host=cmp-a-01',
    ]);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/^Outcome:\s+started$/m);
    id = /^Remediation:\s+(\S+)$/m.exec(sent.stdout)![1]!;

    const list = await cli(['remediations', 'list', '--host', 'cmp-a-01']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+HOST\s+PHASE\s+POLICY\s+STARTED\s+WAITING ON$/m);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toMatch(/needs-approval/);

    const shown = await eventually('awaiting approval', async () => {
      const r = await json(['remediations', 'show', id]);
      return r.phase === 'awaiting-approval' ? r : undefined;
    });
    expect(shown).toMatchObject({ remediationId: id, host: 'cmp-a-01', policy: { name: 'needs-approval' } });
    const human = await cli(['remediations', 'show', id]);
    expect(human.stdout).toMatch(/^Phase:\s+awaiting-approval$/m);
    expect(human.stdout).toMatch(/^Approval:\s+asked .+, deadline /m);
  });

  test('a viewer’s approve is refused with exit 1, and the message names the role it needs', async () => {
    const refused = await cli(['remediations', 'approve', id], { SHIPSHAPE_TOKEN: tokens.viewer });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^forbidden: victor has role viewer; this needs approver or higher$/m);
    expect(refused.stderr).toMatch(/needs a token with role approver or higher/);
    expect(refused.stdout).toBe('');
  });

  test('an approver approves from the command line and the remediation proceeds to drain the host', async () => {
    const approved = await cli(['remediations', 'approve', id, '--comment', 'go ahead'], {
      SHIPSHAPE_TOKEN: tokens.approver,
    });
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout.trim()).toBe(`approve: ${id} is now draining`);
    const audit = await json(['audit', 'list', '--remediation', id]);
    expect(audit.entries.find((e: { action: string }) => e.action === 'approved')).toMatchObject({ actor: 'alice' });
  });
});

describe('guards, fleet and one host', () => {
  test('guards pause and resume as an admin show in guards show; fleet summary, hosts show and telemetry print', async () => {
    const admin = await env.token('ada-guards', 'admin');
    expect((await cli(['guards', 'pause', '--comment', 'change freeze'], { SHIPSHAPE_TOKEN: admin })).stdout).toBe(
      'automation paused\n',
    );
    const shown = await cli(['guards', 'show']);
    expect(shown.stdout).toMatch(/^Automation:\s+paused by ada-guards at .+: change freeze$/m);
    expect(shown.stdout).toMatch(/^ZONE\s+HOSTS\s+IN SERVICE\s+OUT\s+LEASES\s+MAY TAKE OUT\s+WHY$/m);
    const again = await cli(['guards', 'pause'], { SHIPSHAPE_TOKEN: admin });
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('conflict: automation is already paused\n');
    expect((await cli(['guards', 'resume'], { SHIPSHAPE_TOKEN: admin })).stdout).toBe('automation resumed\n');
    const lease = await cli(['guards', 'release-lease', 'cmp-a-03'], { SHIPSHAPE_TOKEN: admin });
    expect(lease.code).toBe(2);
    expect(lease.stderr).toMatch(/required option '--reason <text>'/);

    const fleet = await cli(['fleet', 'summary']);
    expect(fleet.stdout).toMatch(/^Hosts:\s+3$/m);
    expect(fleet.stdout).toMatch(/^zone-a\s+3\s/m);
    const host = await cli(['hosts', 'show', 'cmp-a-02']);
    expect(host.stdout).toMatch(/^Host:\s+cmp-a-02$/m);
    expect(host.stdout).toMatch(/^Zone:\s+zone-a$/m);
    const telemetry = await json(['hosts', 'telemetry', 'cmp-a-02', '--since', '1h']);
    expect(telemetry).toMatchObject({ host: 'cmp-a-02', truncated: false });
    const missing = await cli(['hosts', 'show', 'no-such-host']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('not_found: no host "no-such-host" in the inventory\n');
  });
});

describe('configuration and usage errors', () => {
  test('without a token it exits 2 naming SHIPSHAPE_TOKEN, and sends nothing', async () => {
    const r = await cli(['hosts', 'list'], { SHIPSHAPE_TOKEN: undefined });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error: no API token: set SHIPSHAPE_TOKEN, pass --token-file, or set token or tokenFile in /,
    );
  });

  test('a config file given with --config supplies the URL and a token file, and the token is never printed', async () => {
    const conf = mkdtempSync(join(tmpdir(), 'shipshape-cli-conf-'));
    writeFileSync(join(conf, 'token'), `${tokens.viewer}\n`);
    writeFileSync(join(conf, 'config.yaml'), `url: ${env.apiUrl}\ntokenFile: token\n`);
    const r = await cli(['--config', join(conf, 'config.yaml'), 'fleet', 'summary'], {
      SHIPSHAPE_URL: undefined,
      SHIPSHAPE_TOKEN: undefined,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Hosts:\s+3$/m);
    const refused = await cli(['--config', join(conf, 'config.yaml'), 'guards', 'pause'], {
      SHIPSHAPE_URL: undefined,
      SHIPSHAPE_TOKEN: undefined,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/needs admin/);
    for (const out of [r.stdout, r.stderr, refused.stdout, refused.stderr]) expect(out).not.toContain(tokens.viewer);
  });

  test('an unknown option or a bad --limit is a usage error: exit 2', async () => {
    expect((await cli(['hosts', 'list', '--colour'])).code).toBe(2);
    const bad = await cli(['hosts', 'list', '--limit', 'ten']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--limit <n>.*must be a whole number from 1 to 1000/);
  });
});

describe('policies and audit', () => {
  test('policies validate of a bad file exits 1 naming the file, line and field; a good file is valid', async () => {
    const bad = join(dir, '..', `${'bad'}-${Date.now()}.yaml`);
    writeFileSync(bad, 'name: broken\nmatch:\n  signals: [HostDown]\nsteps:\n  - action: reboot-into-the-sun\n');
    const r = await cli(['policies', 'validate', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^invalid_policy: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a valid policy$`, 'm'),
    );
    expect(r.stderr).toContain(`${bad}:5:`);
    expect(r.stderr).toMatch(/steps\.0\.action/);

    const good = join(dir, 'needs-approval.yaml');
    const ok = await cli(['policies', 'validate', good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/valid: policy needs-approval/);
  });

  test('policies apply, list, show, simulate with a draft, and delete go through the policy lifecycle', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'shipshape-cli-apply-')), 'stuck.yaml');
    writeFileSync(file, 'name: stuck\nmatch:\n  signals: [ComputeServiceStuck]\nsteps:\n  - action: power-cycle\n');
    const admin = await env.token('ada', 'admin');
    const applied = await cli(['policies', 'apply', file], { SHIPSHAPE_TOKEN: admin });
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toMatch(/^applied stuck\.yaml: policy stuck, version \S+, in stuck\.yaml$/m);

    const list = await eventually('stuck listed', async () => {
      const r = await cli(['policies', 'list']);
      return /^stuck\s/m.test(r.stdout) ? r.stdout : undefined;
    });
    expect(list).toMatch(/^NAME\s+VERSION\s+PRIORITY\s+FILE\s+SIGNALS$/m);
    const shown = await cli(['policies', 'show', 'stuck']);
    expect(shown.stdout).toMatch(/^Signals:\s+ComputeServiceStuck$/m);
    expect(shown.stdout).toContain('action: power-cycle');

    const simulated = await cli(['policies', 'simulate', '--draft', file, '--since-days', '1']);
    expect(simulated.code).toBe(0);
    expect(simulated.stdout).toMatch(/^Policies:\s+stuck$/m);
    expect(simulated.stdout).toMatch(/^SIGNAL\s+HOST\s+OUTCOME/m);

    const deleted = await cli(['policies', 'delete', 'stuck'], { SHIPSHAPE_TOKEN: admin });
    expect(deleted.stdout.trim()).toBe('deleted policy stuck');
    const gone = await cli(['policies', 'show', 'stuck']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^not_found: no policy "stuck"$/m);
  });

  test('audit verify exits 0 and says the chain is intact', async () => {
    const r = await cli(['audit', 'verify']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^audit chain intact: \d+ rows checked; head seq \d+/);
  });
});
