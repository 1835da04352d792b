/**
 * The operating surface of compliance scans, on the real Temporal dev server
 * and PostgreSQL: a Temporal Schedule per profile that has a schedule, kept in
 * line with the profiles' folder (created, updated, deleted; a bad folder
 * changes nothing); the scans record, written by the API and by the workflow
 * (scheduled runs included) and listed; a bad profile file failing a scan at
 * once with its file and line; and the profiles API.
 *
 * The hosts are the simulated fleet's, without SSH endpoints: their SSH rules
 * are `error` at once, so a scan takes a second and needs no SSH test host.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, ScheduleOverlapPolicy, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { readAuditLog } from '../../db/audit-log';
import { complianceActivities, quickProfile } from '../support/compliance';
import { createTestEnv, type TestEnv } from '../support/env';
import { http } from '../support/http';
import { ComplianceSchedules } from '../../workers/compliance-schedules';
import { SshCredentials } from '../../providers/ssh/credentials';
import { scanScheduleId, scanWorkflowId } from '../../domain/compliance-scans';
import { loadProfiles } from '../../policies/compliance-loader';
import { createRemediationWorker } from '../../workers/worker';

const SHIPPED = join(__dirname, '../../policies/compliance');

let env: TestEnv;
let dir: string;
let operator: string;
let viewer: string;
const logLines: string[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
let schedules: ComplianceSchedules;

const scheduleId = (profile: string) => scanScheduleId(env.workflowIdPrefix, profile);
const write = (file: string, text: string) => writeFileSync(join(dir, file), text);

interface ScanView {
  scanId: string;
  status: string;
  requestedBy: string | null;
  profiles: string[] | null;
  hosts: string[] | null;
  summary: { hosts: number; scanned: number; results: Record<string, number> } | null;
  error: string | null;
  closedAt: string | null;
}

async function until<T>(what: string, read: () => Promise<T | undefined>, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${seconds} s`);
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

const scanOf = async (id: string) =>
  (await http<ScanView>('GET', `${env.apiUrl}/v1/compliance/scans/${encodeURIComponent(id)}`, viewer)).body;
const ended = (id: string) =>
  until(`scan ${id} ended`, async () => {
    const s = await scanOf(id);
    return s.status === 'running' ? undefined : s;
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shipshape-profiles-'));
  cpSync(SHIPPED, dir, { recursive: true });
  write('quick-check.yaml', quickProfile(5));
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 2, serversPerHost: 0 }, complianceDir: dir });
  await env.startWorker(complianceActivities(env, { sshCredentials: SshCredentials.empty(), profilesDir: dir }));
  operator = await env.token('olivia', 'operator');
  viewer = await env.token('victor', 'viewer');
  schedules = new ComplianceSchedules(env.client, {
    prefix: env.workflowIdPrefix,
    taskQueue: env.taskQueue,
    profilesDir: dir,
    logger,
  });
}, 120_000);

afterAll(async () => {
  for await (const s of env.client.schedule.list())
    if (s.scheduleId.startsWith(env.workflowIdPrefix)) await env.client.schedule.getHandle(s.scheduleId).delete();
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('scheduled scans: one Temporal Schedule per profile with a schedule', () => {
  it('creates one per scheduled profile of the folder, with the interval, overlap SKIP and a scan of every host against it', async () => {
    const changes = await schedules.poll();
    expect(changes?.created.sort()).toEqual(
      ['compute-host', 'hardware-baseline', 'os-baseline', 'quick-check'].map(scheduleId),
    );
    const d = await env.client.schedule.getHandle(scheduleId('quick-check')).describe();
    expect(d.spec.intervals).toEqual([expect.objectContaining({ every: 5 * 60_000 })]);
    expect(d.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(d.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'complianceScanWorkflow',
      taskQueue: env.taskQueue,
      workflowId: scanWorkflowId(env.workflowIdPrefix, 'quick-check'),
      args: [{ hosts: 'all', profiles: ['quick-check'], requestedBy: 'schedule:quick-check' }],
    });
  });

  it('runs a cron profile at its cron times (UTC)', async () => {
    const d = await env.client.schedule.getHandle(scheduleId('os-baseline')).describe();
    const next = d.info.nextActionTimes[0]!;
    expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([3, 0]); // os-baseline: cron '0 3 * * *'
  });

  it('does nothing while the folder has not changed', async () => {
    expect(await schedules.poll()).toBeNull();
  });

  it('updates the schedule when the profile’s interval changes, and leaves the others', async () => {
    write('quick-check.yaml', quickProfile(7));
    const changes = await schedules.poll();
    expect(changes).toMatchObject({ created: [], updated: [scheduleId('quick-check')], deleted: [], failed: [] });
    expect(changes?.unchanged).toHaveLength(3);
    const d = await env.client.schedule.getHandle(scheduleId('quick-check')).describe();
    expect(d.spec.intervals).toEqual([expect.objectContaining({ every: 7 * 60_000 })]);
  });

  it('changes nothing when the folder does not load, and logs the file and line', async () => {
    write('quick-check.yaml', quickProfile(7).replace("version: '1.0'", 'version: [oops'));
    expect(await schedules.poll()).toBeNull();
    await env.client.schedule.getHandle(scheduleId('quick-check')).describe(); // still there
    expect(logLines.join('')).toMatch(
      /the profiles do not load; the schedules stay as they are:\\nquick-check\.yaml:\d+:\d+: /,
    );
    write('quick-check.yaml', quickProfile(7));
  });

  it('deletes the schedule of a profile whose schedule was removed, and of a profile deleted', async () => {
    write('quick-check.yaml', quickProfile(null));
    rmSync(join(dir, 'hardware-baseline.yaml'));
    const changes = await schedules.poll();
    expect(changes?.deleted.sort()).toEqual([scheduleId('hardware-baseline'), scheduleId('quick-check')]);
    await expect(env.client.schedule.getHandle(scheduleId('quick-check')).describe()).rejects.toThrow(/not found/i);
    cpSync(join(SHIPPED, 'hardware-baseline.yaml'), join(dir, 'hardware-baseline.yaml'));
  });

  it('follows the folder by itself when started, polling', async () => {
    const stop = schedules.start(200);
    try {
      write('quick-check.yaml', quickProfile(11));
      const d = await until('the schedule follows the folder', async () => {
        const x = await env.client.schedule
          .getHandle(scheduleId('quick-check'))
          .describe()
          .catch(() => undefined);
        return x?.spec.intervals?.[0]?.every === 11 * 60_000 ? x : undefined;
      });
      expect(d.state.note).toBe('Shipshape compliance scan of quick-check: every 11 min');
    } finally {
      await stop();
    }
  });

  it('goes on when a schedule cannot be created, saying which and why', async () => {
    const elsewhere = new Client({ connection: env.client.connection, namespace: 'no-such-namespace' });
    const broken = new ComplianceSchedules(elsewhere, {
      prefix: env.workflowIdPrefix,
      taskQueue: env.taskQueue,
      profilesDir: dir,
      logger,
    });
    const changes = await broken.poll();
    expect(changes?.created).toEqual([]);
    expect(changes?.failed.map((f) => f.scheduleId)).toEqual(expect.arrayContaining([scheduleId('quick-check')]));
    expect(logLines.join('')).toContain('tried again at the next poll (the worker goes on)');
  });

  it('a triggered run scans every host against the profile and is recorded as the schedule’s', async () => {
    await env.client.schedule.getHandle(scheduleId('quick-check')).trigger();
    const listed = await until('the scheduled scan is listed', async () => {
      const r = await http<{ scans: ScanView[] }>(
        'GET',
        `${env.apiUrl}/v1/compliance/scans?profile=quick-check`,
        viewer,
      );
      return r.body.scans.find((s) => s.requestedBy === 'schedule:quick-check');
    });
    expect(listed.scanId).toMatch(/^quick-check-\d{4}-\d\d-\d\dT/);
    const scan = await ended(listed.scanId);
    expect(scan).toMatchObject({ status: 'completed', profiles: ['quick-check'], hosts: null, error: null });
    expect(scan.summary).toMatchObject({ hosts: 2, scanned: 2, results: { error: 2 } }); // no SSH endpoint: error
    const audit = await readAuditLog(env.db, { limit: 1000 });
    expect(audit.filter((e) => e.action === 'compliance scan started')).toEqual([
      expect.objectContaining({
        actorKind: 'system',
        actor: 'schedule:quick-check',
        reason: 'the schedule of quick-check: every host; quick-check',
      }),
    ]);
  }, 40_000);
});

describe('the scans record', () => {
  let scanId: string;

  beforeAll(async () => {
    const r = await http('POST', `${env.apiUrl}/v1/compliance/scans`, operator, {
      hosts: ['cmp-a-01'],
      profiles: ['os-baseline'],
    });
    expect(r.status).toBe(202);
    scanId = r.body.scanId;
  });

  it('lists a scan at once, with who asked, the hosts and the profiles', async () => {
    const r = await http<{ scans: ScanView[] }>('GET', `${env.apiUrl}/v1/compliance/scans`, viewer);
    expect(r.body.scans.find((s) => s.scanId === scanId)).toMatchObject({
      requestedBy: 'olivia',
      hosts: ['cmp-a-01'],
      profiles: ['os-baseline'],
    });
  });

  it('records the end with the summary, as GET by id shows it', async () => {
    const scan = await ended(scanId);
    expect(scan).toMatchObject({ status: 'completed', requestedBy: 'olivia', error: null });
    expect(scan.summary).toMatchObject({ hosts: 1, scanned: 1 });
    const row = await env.db.query('SELECT status, summary, finished_at FROM compliance_scans WHERE id = $1', [scanId]);
    expect(row.rows[0]).toMatchObject({ status: 'completed', summary: scan.summary, finished_at: expect.any(Date) });
  });

  it('filters by status and profile, newest first, a page at a time', async () => {
    const second = await http('POST', `${env.apiUrl}/v1/compliance/scans`, operator, {
      hosts: ['cmp-a-02'],
      profiles: ['compute-host'],
    });
    await ended(second.body.scanId);
    const all = await http<{ scans: ScanView[]; next: string | null }>(
      'GET',
      `${env.apiUrl}/v1/compliance/scans?limit=1`,
      viewer,
    );
    expect(all.body.scans.map((s) => s.scanId)).toEqual([second.body.scanId]);
    const page2 = await http<{ scans: ScanView[] }>(
      'GET',
      `${env.apiUrl}/v1/compliance/scans?limit=1&after=${all.body.next}`,
      viewer,
    );
    expect(page2.body.scans.map((s) => s.scanId)).toEqual([scanId]);
    const byProfile = await http<{ scans: ScanView[] }>(
      'GET',
      `${env.apiUrl}/v1/compliance/scans?profile=compute-host`,
      viewer,
    );
    expect(byProfile.body.scans.map((s) => s.scanId)).toEqual([second.body.scanId]);
    const byStatus = await http<{ scans: ScanView[] }>(
      'GET',
      `${env.apiUrl}/v1/compliance/scans?status=failed,terminated`,
      viewer,
    );
    expect(byStatus.body.scans.every((s) => ['failed', 'terminated'].includes(s.status))).toBe(true);
    const bad = await http('GET', `${env.apiUrl}/v1/compliance/scans?status=done`, viewer);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^query\.status/);
  }, 30_000);

  it('closes the record of a scan Temporal terminated, when it is next read', async () => {
    // An API whose scans go to a queue no worker serves: only the API records the scan.
    const idle = await env.serveApp({ taskQueue: `${env.taskQueue}-idle`, complianceDir: dir });
    try {
      const r = await http('POST', `${idle.url}/v1/compliance/scans`, operator, { hosts: ['cmp-a-01'] });
      expect((await scanOf(r.body.scanId)).status).toBe('running');
      await env.client.workflow
        .getHandle(scanWorkflowId(env.workflowIdPrefix, r.body.scanId))
        .terminate('the test ends it');
      const list = await http<{ scans: ScanView[] }>('GET', `${env.apiUrl}/v1/compliance/scans`, viewer);
      expect(list.body.scans.find((s) => s.scanId === r.body.scanId)).toMatchObject({
        status: 'terminated',
        error: "the scan's workflow was terminated",
        closedAt: expect.any(String),
      });
    } finally {
      await idle.close();
    }
  });

  it('still answers for a scan only Temporal knows', async () => {
    const id = '00000000-0000-4000-8000-00000000abcd';
    await env.client.workflow.start('complianceScanWorkflow', {
      args: [{ hosts: ['cmp-a-01'] }],
      taskQueue: `${env.taskQueue}-idle`,
      workflowId: scanWorkflowId(env.workflowIdPrefix, id),
    });
    expect(await scanOf(id)).toMatchObject({ scanId: id, status: 'running', requestedBy: null });
    await env.client.workflow.getHandle(scanWorkflowId(env.workflowIdPrefix, id)).terminate();
    const missing = await http('GET', `${env.apiUrl}/v1/compliance/scans/no-such-scan`, viewer);
    expect(missing.status).toBe(404);
  });
});

describe('a scan canceled while its hosts are read', () => {
  it('is recorded as canceled by the workflow, with when', async () => {
    // A worker on its own queue whose host scans wait until they are canceled.
    const taskQueue = `${env.taskQueue}-slow`;
    let released = false;
    const connection = await NativeConnection.connect({ address: env.temporalAddress });
    const activities = complianceActivities(env, { sshCredentials: SshCredentials.empty(), profilesDir: dir });
    const worker = await createRemediationWorker({
      connection,
      namespace: 'default',
      taskQueue,
      keys: env.keys,
      workflowBundlePath: process.env.SHIPSHAPE_TEST_BUNDLE,
      activities: {
        ...activities,
        scanHostCompliance: async (input) => {
          // Heartbeats are throttled, so the cancel may reach this late: the test lets it go when it is done.
          while (!released) {
            Context.current().heartbeat();
            await Context.current().sleep(100);
          }
          return { host: input.host, known: false, counts: { pass: 0, fail: 0, error: 0, 'not-applicable': 0 } };
        },
      },
    });
    const running = worker.run();
    try {
      const id = '00000000-0000-4000-8000-00000000cc01';
      const handle = await env.client.workflow.start('complianceScanWorkflow', {
        args: [{ hosts: ['cmp-a-01'], requestedBy: 'olivia' }],
        taskQueue,
        workflowId: scanWorkflowId(env.workflowIdPrefix, id),
      });
      await until('the scan is recorded', async () => ((await scanOf(id)).requestedBy === 'olivia' ? true : undefined));
      await handle.cancel();
      const scan = await ended(id);
      expect(scan).toMatchObject({ status: 'canceled', requestedBy: 'olivia', closedAt: expect.any(String) });
    } finally {
      released = true;
      worker.shutdown();
      await running;
      await connection.close();
    }
  }, 40_000);
});

describe('a bad profile file', () => {
  const broken = () => quickProfile(null, 'broken', 'broken').replace('severity: warning', 'severity: dire');

  afterEach(() => rmSync(join(dir, 'broken.yaml'), { force: true }));

  it('fails a scan at once with the file, line and column, before any host is read', async () => {
    write('broken.yaml', broken());
    const workflowId = scanWorkflowId(env.workflowIdPrefix, '00000000-0000-4000-8000-0000000bad01');
    const began = Date.now();
    const handle = await env.client.workflow.start('complianceScanWorkflow', {
      args: [{ hosts: 'all', requestedBy: 'schedule:os-baseline' }],
      taskQueue: env.taskQueue,
      workflowId,
    });
    const err = await handle.result().catch((e: unknown) => e);
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = ((err as WorkflowFailedError).cause as Error).message;
    expect(message).toMatch(/do not load:\nbroken\.yaml:8:15: rules\.0\.severity: /);
    const history = await handle.fetchHistory();
    const activities = history
      .events!.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter(Boolean);
    expect(activities).toEqual(['startComplianceScan', 'finishComplianceScan']);
    expect(await scanOf('00000000-0000-4000-8000-0000000bad01')).toMatchObject({
      status: 'failed',
      requestedBy: 'schedule:os-baseline',
      error: expect.stringContaining('broken.yaml:8:15'),
    });
  }, 20_000);

  it('is refused by POST /v1/compliance/scans with 400 naming the file and line', async () => {
    write('broken.yaml', broken());
    const r = await http('POST', `${env.apiUrl}/v1/compliance/scans`, operator, { hosts: ['cmp-a-01'] });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('profiles_do_not_load');
    expect(r.body.error.message).toMatch(
      /^the compliance profiles in .* do not load: broken\.yaml:8:15: rules\.0\.severity: /,
    );
    expect(r.body.error.details.issues[0]).toMatchObject({ file: 'broken.yaml', line: 8, column: 15 });
  });

  it('refuses a profile the folder does not have, naming it', async () => {
    const r = await http('POST', `${env.apiUrl}/v1/compliance/scans`, operator, { profiles: ['nope'] });
    expect(r.status).toBe(422);
    expect(r.body.error.message).toMatch(/^body\.profiles: no compliance profile named nope \(there are /);
  });
});

describe('the profiles API', () => {
  it('lists each profile with its version, digest, schedule, next run and rules by kind and severity', async () => {
    write('quick-check.yaml', quickProfile(5));
    await schedules.poll();
    const r = await http<{ profiles: any[] }>('GET', `${env.apiUrl}/v1/compliance/profiles`, viewer);
    expect(r.status).toBe(200);
    const files = loadProfiles(dir);
    expect(r.body.profiles.map((p) => p.name)).toEqual(files.map((p) => p.name));
    const os = r.body.profiles.find((p) => p.name === 'os-baseline');
    const osFile = files.find((p) => p.name === 'os-baseline')!;
    expect(os).toMatchObject({
      version: '1.0',
      digest: osFile.digest,
      schedule: { cron: '0 3 * * *' },
      nextRunAt: expect.stringMatching(/T03:00:00\.000Z$/),
      ruleCounts: {
        total: osFile.rules.length,
        byKind: { ssh: osFile.rules.length, redfish: 0, openstack: 0 },
        bySeverity: {
          critical: osFile.rules.filter((x) => x.severity === 'critical').length,
          warning: osFile.rules.filter((x) => x.severity === 'warning').length,
        },
      },
    });
    const quick = r.body.profiles.find((p) => p.name === 'quick-check');
    expect(Date.parse(quick.nextRunAt) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    const compute = r.body.profiles.find((p) => p.name === 'compute-host');
    expect(compute.scope).toEqual({ roles: ['compute'] });
  });

  it('shows one profile’s rules with why and how a fix disrupts, never the commands run on hosts', async () => {
    const r = await http<any>('GET', `${env.apiUrl}/v1/compliance/profiles/os-baseline`, viewer);
    expect(r.status).toBe(200);
    expect(r.body.rules.find((x: any) => x.id === 'os.shadow-mode')).toEqual({
      id: 'os.shadow-mode',
      title: '/etc/shadow is mode 0640 or stricter, owned by root',
      severity: 'critical',
      kind: 'ssh',
      check: 'file-mode',
      rationale: expect.stringContaining('password hashes'),
      scope: null,
      fix: { how: 'ssh', action: null, disruption: 'none', drain: false },
    });
    const text = JSON.stringify(r.body);
    expect(text).not.toContain('chmod 0640');
    expect(text).not.toContain('sshd_config');
    const compute = await http<any>('GET', `${env.apiUrl}/v1/compliance/profiles/compute-host`, viewer);
    expect(compute.body.rules[0].fix).toEqual({
      how: 'action',
      action: 'restart-compute-service',
      disruption: 'service-restart',
      drain: false,
    });
  });

  it('answers 404 for a profile the folder does not have, and for a method the route does not take', async () => {
    const r = await http('GET', `${env.apiUrl}/v1/compliance/profiles/nope`, viewer);
    expect(r.status).toBe(404);
    expect(r.body.error.message).toBe('no compliance profile "nope"');
    const post = await http('POST', `${env.apiUrl}/v1/compliance/profiles`, operator, {});
    expect(post.status).toBe(404);
    expect(post.body.error.message).toBe('no route POST /v1/compliance/profiles');
  });

  it('answers 503 naming the setting when the API cannot read the folder', async () => {
    const blind = await env.serveApp({ complianceDir: join(dir, 'missing') });
    try {
      const r = await http('GET', `${blind.url}/v1/compliance/profiles`, viewer);
      expect(r.status).toBe(503);
      expect(r.body.error.message).toContain('SHIPSHAPE_COMPLIANCE_DIR');
    } finally {
      await blind.close();
    }
  });

  it('is in the OpenAPI document with the scans list', async () => {
    const doc = await http('GET', `${env.apiUrl}/openapi.json`, null);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/compliance/profiles', '/v1/compliance/profiles/{name}', '/v1/compliance/scans']),
    );
    expect(Object.keys(doc.body.paths['/v1/compliance/scans'])).toEqual(expect.arrayContaining(['get', 'post']));
  });
});
