/**
 * Reclaim through HTTP (api/routes/reclaim.ts) on the real Temporal dev
 * server and PostgreSQL, over the simulated tenant cloud: a scan started by
 * an operator, the findings and reclaims it leaves, the owner's extend link
 * from the notice (its token is the only credential; the rule's maximum
 * holds), an exemption with four eyes that stops the reclaim it covers, the
 * report as JSON and CSV, and the pause only an admin throws.
 *
 * Tuned: a 5-day threshold, because the simulated cloud's resources are
 * days old, not the shipped 30 days; the shipped rules are in dry run.
 */
import { createReclaimActivities } from '../../activities/reclaim';
import type { OwnerMessage } from '../../domain/reclaim-notice';
import { parseReclaimRule } from '../../policies/reclaim-loader';
import { SimulatedTenantCloud } from '../../providers/simulated/tenants';
import { createTestEnv, fleetActivities, type TestEnv } from '../support/env';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, runCliJson } from '../support/cli';
import { eventually, http } from '../support/http';

const DAY = 86_400_000;
let env: TestEnv;
const sent: OwnerMessage[] = [];
const cloud = new SimulatedTenantCloud({
  projects: 4,
  servers: 24,
  volumes: 0,
  floatingIps: 0,
  waste: 0.4,
  now: new Date(),
  seed: 11,
});
const RULE = parseReclaimRule(
  'stopped-servers.yaml',
  `name: stopped-servers
version: '1'
description: test rule
check: { type: server-stopped, states: [SHUTOFF, SUSPENDED, PAUSED], olderThan: 5d }
lifecycle: { action: shelve, grace: 14d, restoreWindow: 7d, maxExtension: 30d }
dryRun: false
`,
);
const tokens: Record<string, string> = {};

beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 1, serversPerHost: 0 } });
  const reclaim = createReclaimActivities({
    db: env.db,
    cloud,
    mailer: { send: async (m) => void sent.push(m) },
    rules: () => [RULE],
    caps: { deletionsPerDay: 100, deletionsPerProjectPerDay: 20 },
    publicUrl: env.apiUrl,
    workflowIdPrefix: env.workflowIdPrefix,
  });
  const fleet = fleetActivities(env);
  await env.startWorker({ ...fleet, ...reclaim } as unknown as typeof fleet);
  for (const [who, role] of [
    ['olivia', 'operator'],
    ['anna', 'approver'],
    ['ada', 'admin'],
    ['victor', 'viewer'],
  ] as const)
    tokens[who] = await env.token(who, role);
});
afterAll(() => env?.close());

const get = (path: string, who = 'victor') => http('GET', `${env.apiUrl}${path}`, tokens[who]!);
const post = (path: string, body: unknown, who = 'olivia') => http('POST', `${env.apiUrl}${path}`, tokens[who]!, body);

describe('reclaim through the API', () => {
  let cases: any[];
  beforeAll(async () => {
    expect((await post('/v1/reclaim/scans', {}, 'victor')).status).toBe(403);
    const started = await post('/v1/reclaim/scans', { rules: ['stopped-servers'] });
    expect(started.status).toBe(202);
    const findings = await eventually('findings', async () => {
      const r = await get('/v1/reclaim/findings?rule=stopped-servers');
      return r.body.findings.length > 0 ? r.body.findings : undefined;
    });
    cases = await eventually('every flagged server in grace', async () => {
      const r = await get('/v1/reclaim/cases?open=true');
      const inGrace = r.body.cases.filter((c: any) => c.phase === 'in-grace');
      return inGrace.length === findings.length && sent.length >= findings.length ? inGrace : undefined;
    });
  }, 60_000);

  it('the owner opens the link from the notice without an API token, and extends within the maximum', async () => {
    const c = cases[0];
    const mail = sent.find((m) => m.text.includes(`(${c.resource.id})`))!;
    const url = /(http:\/\/\S+\/v1\/reclaim\/extend\?token=[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    const seen = await http('GET', url, null);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ resource: { id: c.resource.id }, phase: 'in-grace' });
    const extended = await http('POST', url, null, { extend: '3d', comment: 'month-end batch' });
    expect(extended.status).toBe(200);
    await eventually('the new deadline', async () => {
      const r = await get(`/v1/reclaim/cases/${c.caseId}`);
      return Date.parse(r.body.graceEnds) - Date.parse(c.graceEnds) === 3 * DAY ? true : undefined;
    });
    const tooMuch = await http('POST', url, null, { extend: '28d' });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.error.message).toBe('the rule allows 30 d of extensions in all; 27 d are left');
    const noUnit = await http('POST', url, null, { extend: '3' });
    expect(noUnit.status).toBe(400);
    expect(noUnit.body.error.message).toMatch(/^body.extend: "3" must be a whole number with a unit/);
    expect((await http('GET', url.replace(/token=.*/, 'token=forged'), null)).status).toBe(404);
  });

  it('an exemption needs a second person; approved, it stops the reclaim it covers', async () => {
    const c = cases[1];
    const asked = await post('/v1/reclaim/exemptions', {
      rule: 'stopped-servers',
      project: c.resource.projectId,
      resource: c.resource.id,
      reason: 'restored from backup monthly; must stay',
      expiresAt: new Date(Date.now() + 30 * DAY).toISOString(),
    });
    expect(asked.status).toBe(201);
    expect((await post(`/v1/reclaim/exemptions/${asked.body.id}/approve`, {}, 'olivia')).status).toBe(403);
    const approved = await post(`/v1/reclaim/exemptions/${asked.body.id}/approve`, {}, 'anna');
    expect(approved.status).toBe(200);
    expect(approved.body.stopped).toEqual([c.caseId]);
    const after = await eventually('the reclaim stopped', async () => {
      const r = await get(`/v1/reclaim/cases/${c.caseId}`);
      return r.body.phase === 'stopped' ? r.body : undefined;
    });
    expect(after.outcome.reason).toBe('exempted by anna: restored from backup monthly; must stay');
  });

  it('the report counts what is in grace per project and in all, as JSON and CSV', async () => {
    const r = await get('/v1/reclaim/report');
    expect(r.status).toBe(200);
    expect(r.body.all.inGrace.count).toBe(cases.length - 1);
    expect(r.body.all.inGrace.capacity.vcpus).toBeGreaterThan(0);
    const csv = await fetch(`${env.apiUrl}/v1/reclaim/report?format=csv`, {
      headers: { authorization: `Bearer ${tokens.victor}` },
    });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const text = await csv.text();
    expect(text.split('\n')[0]).toBe('project,state,count,vcpus,ram_mb,disk_gb,ips');
    expect(text).toMatch(/,inGrace,\d+,/);
  });

  it('only an admin pauses reclaim; pausing twice is a conflict', async () => {
    expect((await post('/v1/reclaim/pause', { comment: 'quarter close' }, 'olivia')).status).toBe(403);
    expect((await post('/v1/reclaim/pause', { comment: 'quarter close' }, 'ada')).status).toBe(200);
    expect((await post('/v1/reclaim/pause', {}, 'ada')).status).toBe(409);
    expect((await post('/v1/reclaim/resume', {}, 'ada')).status).toBe(200);
  });

  it('the OpenAPI document describes the reclaim routes', async () => {
    const doc = await http('GET', `${env.apiUrl}/openapi.json`, null);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/reclaim/cases/{id}/extend', '/v1/reclaim/extend', '/v1/reclaim/report']),
    );
  });

  it('the CLI shows the same: findings, open reclaims, the report; a duration without a unit and an operator pausing are refused', async () => {
    const home = mkdtempSync(join(tmpdir(), 'shipshape-cli-'));
    const as = (who: string) => ({ home, apiUrl: env.apiUrl, token: tokens[who]! });
    const findings = await runCliJson(['reclaim', 'findings', '--rule', 'stopped-servers'], as('victor'));
    expect(findings.findings.length).toBe(cases.length);
    const open = await runCli(['reclaim', 'list', '--open'], as('victor'));
    expect(open.code).toBe(0);
    expect(open.stdout).toContain('in-grace');
    const report = await runCli(['reclaim', 'report'], as('victor'));
    expect(report.stdout).toMatch(/^all\s/m);
    const noUnit = await runCli(['reclaim', 'extend', cases[2].caseId, '--by', '3'], as('olivia'));
    expect(noUnit.code).not.toBe(0);
    expect(noUnit.stderr).toMatch(/body.extend: "3" must be a whole number with a unit/);
    const pause = await runCli(['reclaim', 'pause', '--comment', 'x'], as('olivia'));
    expect(pause.code).not.toBe(0);
    expect(pause.stderr).toMatch(/role|forbidden|403/i);
  });
});
