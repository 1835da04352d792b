/**
 * Drift fixed through the guarded host workflow, end to end on real parts:
 * scans of the real SSH test hosts raise ComplianceDrift signals; the API's
 * redispatcher delivers them; the shipped compliance-drift policy starts one
 * remediation per host under the shipped fleet guards (three hosts in one
 * zone, as a new operator has them); the fixes run over SSH; only a rescan
 * turns a finding `pass`.
 *
 * 1. ssh-3 by the shipped os-baseline profile: its /etc/shadow mode 0644 and
 *    a world-writable file under /etc are fixed for real. The shipped fix for
 *    root login writes an sshd drop-in and then runs `systemctl reload ssh`,
 *    which these hosts (no init system) do not have: a fix that errored is
 *    never "fixed", so the host goes to an operator and the alert inbox,
 *    naming it; handed back, the rescan returns the host.
 * 2. A fix that does not hold — it exits 0 and changes nothing, as a setting
 *    that config management resets — stays open: the rescans fail, the host
 *    goes to an operator and the inbox, and the finding is `fail`, not
 *    `fix-pending`. No shipped fix behaves so on these hosts, so this part adds
 *    one profile (`drift-test`) beside the shipped ones, copied unchanged.
 *
 * Tuned: the redispatcher runs every 500 ms (5 s by default) so queued drift
 * signals are delivered within the test's patience, not its point.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findingHistory } from '../../db/compliance-findings';
import { upsertSshEndpoints } from '../../db/ssh-endpoints';
import { parseGuards } from '../../policies/guards-schema';
import { SshExecutor } from '../../providers/ssh/session';
import { complianceActivities } from '../support/compliance';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, http } from '../support/http';
import {
  fleetRootCredentials,
  lockSshHosts,
  requireRootForSshHosts,
  type SshHostsEnv,
  sshHostsScript,
  startSshHosts,
} from '../support/sshhosts';

const POLICIES = join(__dirname, '..', '..', 'policies');
const GUARDS_FILE = join(POLICIES, 'guards.yaml');
const SHIPPED_GUARDS = parseGuards(GUARDS_FILE, readFileSync(GUARDS_FILE, 'utf8'));

/** What makes ssh-3 differ, set back after the test (the other test files expect it). */
const RESTORE_SSH3 = [
  'chmod 0644 /etc/shadow',
  'chmod 0666 /etc/shipshape-test/world-writable.conf',
  'rm -f /etc/ssh/sshd_config.d/00-shipshape-root.conf /etc/ssh/sshd_config.d/00-shipshape-password.conf',
].join(' && ');
const MARKER = '/etc/shipshape-drift-test-marker';

/** The shipped profiles, copied unchanged, and one whose fix exits 0 without fixing anything. */
function profilesWithDriftTest(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-profiles-'));
  cpSync(join(POLICIES, 'compliance'), dir, { recursive: true });
  writeFileSync(
    join(dir, 'drift-test.yaml'),
    `name: drift-test
version: '1'
prefix: drift
description: A rule whose fix exits 0 and changes nothing, as a setting config management resets.
rules:
  - id: drift.marker-present
    title: The marker file is present
    severity: warning
    rationale: Stands for a setting something else keeps resetting.
    kind: ssh
    check:
      type: command
      command: 'test -f ${MARKER}'
      exitCode: 0
    fix:
      ssh: 'true'
      disruption: none
      drain: false
`,
  );
  return dir;
}

let env: TestEnv;
let sshHosts: SshHostsEnv;
let releaseHosts: (() => void) | undefined;
let operator: string;
let viewer: string;
let host: string; // the simulated host whose SSH endpoint is ssh-3
let other: string; // the one whose SSH endpoint is ssh-1
const executor = new SshExecutor();

const credentials = () => fleetRootCredentials(sshHosts);

async function onSsh(name: string, command: string): Promise<string> {
  const target = sshHosts.hosts.find((h) => h.name === name)!;
  return executor.withSession(
    { host: name, address: target.address, port: target.port },
    credentials().resolve('fleet-root'),
    { expected: null, onFirstContact: (seen) => seen },
    async (s) => {
      const r = await s.run(command, { timeoutMs: 10_000 });
      if (r.exitCode !== 0) throw new Error(`${command} exited ${r.exitCode}: ${r.stderr}`);
      return r.stdout;
    },
  );
}

async function findingsOf(h: string): Promise<Map<string, { state: string; resultState: string; reason: string }>> {
  const r = await http('GET', `${env.apiUrl}/v1/compliance/findings?host=${h}&profile=os-baseline`, viewer);
  expect(r.status).toBe(200);
  return new Map(r.body.findings.map((f: { ruleId: string }) => [f.ruleId, f]));
}

async function remediationOf(h: string): Promise<any> {
  const r = await http('GET', `${env.apiUrl}/v1/remediations?host=${h}`, viewer);
  expect(r.status).toBe(200);
  return r.body.remediations[0] ?? null;
}

beforeAll(async () => {
  requireRootForSshHosts();
  releaseHosts = await lockSshHosts();
  sshHosts = startSshHosts();
  await onSsh('ssh-3', RESTORE_SSH3); // as built, whatever an interrupted run left
  env = await createTestEnv({
    fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 1 },
    policyDir: POLICIES,
    guards: () => SHIPPED_GUARDS,
    redispatchEveryMs: 500,
  });
  const { rows } = await env.db.query<{ id: string }>('SELECT id FROM hosts ORDER BY id');
  expect(rows).toHaveLength(3);
  host = rows[2]!.id;
  other = rows[0]!.id;
  const ssh = (name: string) => sshHosts.hosts.find((h) => h.name === name)!;
  await upsertSshEndpoints(env.db, [
    { host, address: ssh('ssh-3').address, port: ssh('ssh-3').port, credentialsRef: 'fleet-root' },
    { host: other, address: ssh('ssh-1').address, port: ssh('ssh-1').port, credentialsRef: 'fleet-root' },
  ]);
  const sshCredentials = credentials();
  await env.startWorker(
    complianceActivities(
      env,
      { sshCredentials, profilesDir: profilesWithDriftTest(), sshExecutor: executor },
      () => SHIPPED_GUARDS,
    ),
  );
  operator = await env.token('olivia', 'operator');
  viewer = await env.token('victor', 'viewer');
}, 600_000);

afterAll(async () => {
  try {
    if (sshHosts) {
      await onSsh('ssh-3', RESTORE_SSH3);
      await onSsh('ssh-1', `rm -f ${MARKER}`);
    }
    await env?.close();
    sshHostsScript('stop');
  } finally {
    releaseHosts?.();
  }
});

async function scanUntilHandedOff(h: string, profile: string): Promise<any> {
  const started = await http('POST', `${env.apiUrl}/v1/compliance/scans`, operator, {
    hosts: [h],
    profiles: [profile],
  });
  expect(started.status).toBe(202);
  // The scan raises the drift, the redispatcher delivers it, the policy starts the fix, which ends with a person.
  return eventually(
    `the drift remediation of ${h} handed to an operator`,
    async () => {
      const r = await remediationOf(h);
      return r?.phase === 'awaiting-operator' ? r : undefined;
    },
    90_000,
  );
}

async function inboxItemOf(h: string, state: string): Promise<any> {
  return eventually(
    `an inbox item for ${h} in ${state}`,
    async () => {
      const r = await http('GET', `${env.apiUrl}/v1/inbox?state=${state}`, viewer);
      return r.body.items.find((i: { host: string }) => i.host === h);
    },
    20_000,
  );
}

async function handBackUntilOver(remediationId: string, h: string, comment: string): Promise<any> {
  const back = await http('POST', `${env.apiUrl}/v1/remediations/${remediationId}/hand-back`, operator, { comment });
  expect(back.status).toBe(200);
  return eventually(
    `the remediation of ${h} over`,
    async () => {
      const r = await remediationOf(h);
      return r?.outcome ? r : undefined;
    },
    30_000,
  );
}

describe('1. the shipped os-baseline drift of ssh-3, fixed through the guarded host workflow', () => {
  let handedOff: any;

  beforeAll(async () => {
    handedOff = await scanUntilHandedOff(host, 'os-baseline');
  }, 120_000);

  it('one remediation under the shipped compliance-drift policy fixed the mode of /etc/shadow and /etc, and only the rescan made them pass', async () => {
    expect(handedOff.policy.name).toBe('compliance-drift');
    const f = await findingsOf(host);
    expect(f.get('os.shadow-mode')).toMatchObject({ state: 'pass' });
    expect(f.get('os.etc-no-world-writable')).toMatchObject({ state: 'pass' });
    expect((await onSsh('ssh-3', 'stat -c %a /etc/shadow')).trim()).toBe('640');
    // fail → fix-pending (the fix under way) → pass (the rescan): never "fixed" because the command ran.
    const history = await findingHistory(env.db, { host, profile: 'os-baseline', ruleId: 'os.shadow-mode', limit: 50 });
    expect(history.map((h) => h.to)).toEqual(['fail', 'fix-pending', 'pass']);
  });

  it('the root-login fix errored (no systemctl here): never counted as fixed, the host went to an operator naming it', async () => {
    expect(handedOff.handOff.reason).toMatch(/^the fix of os\.ssh-root-login-off exited 127: .*systemctl: not found/);
    expect(handedOff.handOff.reason).toMatch(/a fix that failed may not have taken full effect/);
    const f = await findingsOf(host);
    expect([...f.values()].filter((x) => x.state === 'fix-pending')).toEqual([]);
  });

  it('each fix, what it printed and how it exited are on the audit log, by the policy', async () => {
    const r = await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${handedOff.remediationId}`, viewer);
    expect(r.status).toBe(200);
    const entries: Array<{ action: string; actor: string; reason: string; after: any }> = r.body.entries;
    const applied = entries.find((e) => e.action === 'fix applied' && e.reason.startsWith('os.shadow-mode'));
    expect(applied).toMatchObject({ actor: 'compliance-drift', after: { exitCode: 0 } });
    const failed = entries.find((e) => e.action === 'fix failed' && e.reason.startsWith('os.ssh-root-login-off'));
    expect(failed).toMatchObject({ actor: 'compliance-drift', after: { exitCode: 127 } });
    expect(failed!.after.stderr).toMatch(/systemctl: not found/);
  });

  it('the alert inbox shows the host to a person; handed back, the rescan returns the host and the item resolves', async () => {
    const item = await inboxItemOf(host, 'needs-person');
    expect(item).toMatchObject({ name: 'ComplianceDrift', remediationId: handedOff.remediationId });
    const done = await handBackUntilOver(handedOff.remediationId, host, 'reloaded sshd by hand');
    expect(done).toMatchObject({ phase: 'returned', poolState: 'in-service' });
    expect(done.outcome.reason).toMatch(/passes after the fix/);
    await inboxItemOf(host, 'resolved');
  });
});

describe('2. a fix that does not hold', () => {
  let handedOff: any;

  beforeAll(async () => {
    handedOff = await scanUntilHandedOff(other, 'drift-test');
  }, 120_000);

  it('exits 0, the rescans still fail: the host goes to an operator and the finding stays open as fail', async () => {
    expect(handedOff.handOff.reason).toMatch(/^the fix did not hold: drift\.marker-present reads fail/);
    const f = await http('GET', `${env.apiUrl}/v1/compliance/findings?host=${other}&profile=drift-test`, viewer);
    expect(f.body.findings).toEqual([expect.objectContaining({ ruleId: 'drift.marker-present', state: 'fail' })]);
    const item = await inboxItemOf(other, 'needs-person');
    expect(item.remediationId).toBe(handedOff.remediationId);
  });

  it('fixed by hand and handed back, the rescan passes and the host returns', async () => {
    await onSsh('ssh-1', `touch ${MARKER}`);
    const done = await handBackUntilOver(handedOff.remediationId, other, 'config management no longer resets it');
    expect(done.phase).toBe('returned');
    const f = await http('GET', `${env.apiUrl}/v1/compliance/findings?host=${other}&profile=drift-test`, viewer);
    expect(f.body.findings[0].state).toBe('pass');
  });
});
