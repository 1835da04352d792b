/**
 * A reclaim scan end to end on the real Temporal dev server and PostgreSQL,
 * over the simulated tenant cloud: each rule judges its kind of resource,
 * what it flags is recorded with its capacity, a rule in dry run starts
 * nothing, a rule that acts starts one reclaim per flagged resource (never a
 * second for the same resource), the owners are told with an extend link,
 * and an owner's extension and an exemption reach the running reclaim. The
 * timeline itself (grace, reminders, restore window, deletion) is tested on
 * the time-skipping server in test/fast/reclaim.test.ts.
 *
 * Tuned: rules with short thresholds, because the simulated cloud's resources
 * are days old, not the shipped 30 days; the shipped rules are in dry run.
 */
import { createReclaimActivities, type OwnerMailer } from '../../activities/reclaim';
import type { OwnerMessage } from '../../domain/reclaim-notice';
import { reclaimWorkflowId, type ReclaimView } from '../../domain/reclaim-case';
import { parseReclaimRule } from '../../policies/reclaim-loader';
import { SimulatedTenantCloud } from '../../providers/simulated/tenants';
import { extendReclaimUpdate, reclaimViewQuery, stopReclaimUpdate } from '../../workflows/reclaim';
import { createTestEnv, fleetActivities, type TestEnv } from '../support/env';

const rule = (name: string, check: string, action: string, dryRun: boolean) =>
  parseReclaimRule(
    `${name}.yaml`,
    `name: ${name}
version: '1'
description: test rule
check: ${check}
lifecycle: { action: ${action}, grace: 14d, remindBefore: [7d], restoreWindow: 7d, maxExtension: 30d }
dryRun: ${dryRun}
`,
  );

let env: TestEnv;
let reclaim: ReturnType<typeof createReclaimActivities>;
const sent: OwnerMessage[] = [];
const mailer: OwnerMailer = { send: async (m) => void sent.push(m) };
const cloud = new SimulatedTenantCloud({
  projects: 6,
  servers: 40,
  volumes: 40,
  floatingIps: 20,
  waste: 0.3,
  now: new Date(),
  seed: 7,
});
const RULES = [
  rule(
    'stopped-servers',
    '{ type: server-stopped, states: [SHUTOFF, SUSPENDED, PAUSED], olderThan: 5d }',
    'shelve',
    false,
  ),
  rule('detached-volumes', '{ type: volume-detached, olderThan: 5d }', 'snapshot-and-delete', true),
];

beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 1, serversPerHost: 0 } });
  reclaim = createReclaimActivities({
    db: env.db,
    cloud,
    mailer,
    rules: () => RULES,
    caps: { deletionsPerDay: 100, deletionsPerProjectPerDay: 20 },
    publicUrl: 'https://shipshape.example.org',
    workflowIdPrefix: env.workflowIdPrefix,
  });
  const fleet = fleetActivities(env);
  await env.startWorker({ ...fleet, ...reclaim } as unknown as typeof fleet);
});
afterAll(() => env?.close());

async function scan(): Promise<any> {
  return env.client.workflow.execute('reclaimScanWorkflow', {
    taskQueue: env.taskQueue,
    workflowId: `${env.workflowIdPrefix}reclaim-scan/${Date.now()}`,
    args: [{ workflowIdPrefix: env.workflowIdPrefix }],
  });
}

describe('a reclaim scan of the simulated cloud', () => {
  let summary: any;
  let expectedServers: string[];
  beforeAll(async () => {
    const { resources } = await cloud.listResources(['server']);
    const day = 86_400_000;
    expectedServers = resources
      .filter(
        (r) =>
          ['SHUTOFF', 'SUSPENDED', 'PAUSED'].includes(r.status) &&
          !r.tags.includes('shipshape:keep') &&
          Date.now() - Date.parse(r.statusSince!) > 5 * day,
      )
      .map((r) => r.id)
      .sort();
    summary = await scan();
  }, 60_000);

  it('flags what each rule covers, and records it with its capacity', async () => {
    const servers = summary.rules.find((r: any) => r.rule === 'stopped-servers');
    expect(servers).toMatchObject({
      judged: 40,
      flagged: expectedServers.length,
      started: expectedServers.length,
      dryRun: false,
    });
    expect(expectedServers.length).toBeGreaterThan(3);
    const { rows } = await env.db.query(
      `SELECT resource_id, capacity FROM reclaim_findings WHERE rule = 'stopped-servers' ORDER BY resource_id`,
    );
    expect(rows.map((r: any) => r.resource_id).sort()).toEqual(expectedServers);
    expect(rows[0].capacity.vcpus).toBeGreaterThan(0);
  });

  it('a rule in dry run flags and records, and starts nothing', async () => {
    const volumes = summary.rules.find((r: any) => r.rule === 'detached-volumes');
    expect(volumes.flagged).toBeGreaterThan(3);
    expect(volumes.started).toBe(0);
    const { rows } = await env.db.query(`SELECT count(*)::int AS n FROM reclaim_cases WHERE rule = 'detached-volumes'`);
    expect(rows[0].n).toBe(0);
  });

  it("each flagged server's owners are told, with an extend link, and its reclaim waits out the grace period", async () => {
    const id = reclaimWorkflowId('stopped-servers', { kind: 'server', id: expectedServers[0]! }, env.workflowIdPrefix);
    const handle = env.client.workflow.getHandle(id);
    let view: ReclaimView;
    for (let i = 0; ; i++) {
      view = await handle.query(reclaimViewQuery);
      if (view.phase === 'in-grace') break;
      if (i > 100) throw new Error(`still ${view.phase}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(view.owners?.contacts.length).toBe(1);
    const notice = sent.find((m) => m.text.includes(`(${expectedServers[0]})`));
    expect(notice?.subject).toMatch(/will be reclaimed after/);
    expect(notice?.text).toMatch(/https:\/\/shipshape\.example\.org\/v1\/reclaim\/extend\?token=[A-Za-z0-9_-]{43}/);
    expect(Date.parse(view.graceEnds!) - Date.parse(view.noticeAt!)).toBe(14 * 86_400_000);
  });

  it('a second scan starts no second reclaim for a resource already being reclaimed', async () => {
    const again = await scan();
    expect(again.rules.find((r: any) => r.rule === 'stopped-servers')).toMatchObject({ started: 0 });
    const { rows } = await env.db.query(`SELECT count(*)::int AS n FROM reclaim_cases WHERE rule = 'stopped-servers'`);
    expect(rows[0].n).toBe(expectedServers.length);
  });

  it('an extension moves the deadline; an exemption stops the reclaim and leaves the server as it is', async () => {
    const id = reclaimWorkflowId('stopped-servers', { kind: 'server', id: expectedServers[1]! }, env.workflowIdPrefix);
    const handle = env.client.workflow.getHandle(id);
    const before = await handle.query(reclaimViewQuery);
    const after = await handle.executeUpdate(extendReclaimUpdate, {
      args: [{ caseId: before.caseId, by: 'owner', extendMs: 10 * 86_400_000 }],
    });
    expect(Date.parse(after.graceEnds!) - Date.parse(before.graceEnds!)).toBe(0); // recomputed by the loop, next:
    for (let i = 0; i < 50; i++) {
      const v = await handle.query(reclaimViewQuery);
      if (Date.parse(v.graceEnds!) - Date.parse(before.graceEnds!) === 10 * 86_400_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(Date.parse((await handle.query(reclaimViewQuery)).graceEnds!) - Date.parse(before.graceEnds!)).toBe(
      10 * 86_400_000,
    );
    await handle.executeUpdate(stopReclaimUpdate, {
      args: [{ caseId: before.caseId, by: 'anna', why: 'exempted', comment: 'legal hold' }],
    });
    const done = (await handle.result()) as ReclaimView;
    expect(done).toMatchObject({ phase: 'stopped', outcome: { reason: 'exempted by anna: legal hold' } });
    expect(cloud.steps.filter((s) => s.key === `server/${expectedServers[1]}`)).toEqual([]);
  });

  it('a re-check reads the resource again: unchanged it is still to reclaim; started, kept or shelved by someone, not', async () => {
    const [a, b] = expectedServers.slice(2);
    const key = (id: string) => ({ kind: 'server' as const, id, name: id, projectId: '' });
    const rule = RULES[0]!;
    const at = async (id: string, stage: 'grace' | 'restore-window' = 'grace') => {
      const r = await cloud.readResource({ kind: 'server', id });
      return reclaim.recheckReclaim({
        rule,
        resource: { ...key(id), projectId: r!.projectId },
        stage,
        action: 'shelve',
      });
    };
    expect(await at(a!)).toMatchObject({ still: true });
    cloud.touch({ kind: 'server', id: a! }, { status: 'ACTIVE' });
    expect(await at(a!)).toMatchObject({ still: false, reason: 'status ACTIVE is not SHUTOFF or SUSPENDED or PAUSED' });
    cloud.touch({ kind: 'server', id: b! }, { tags: ['shipshape:keep'] });
    expect(await at(b!)).toEqual({ still: false, reason: 'marked shipshape:keep' });
    cloud.touch({ kind: 'server', id: b! }, { status: 'SHELVED_OFFLOADED', tags: [] });
    expect(await at(b!, 'restore-window')).toMatchObject({ still: true });
    cloud.touch({ kind: 'server', id: b! }, { status: 'ACTIVE' });
    expect(await at(b!, 'restore-window')).toEqual({
      still: false,
      reason: 'ACTIVE, no longer shelved (unshelved by someone)',
    });
  });
});
