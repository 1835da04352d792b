/**
 * Compliance findings and waivers through HTTP on the real PostgreSQL: results
 * recorded, findings listed, filtered, paged and exported as CSV, a host's
 * compliance and the fleet score; a waiver requested by one person and
 * approved by another (the finding `waived` and still visible), self-approval
 * refused, expiry and revocation bringing the finding back, a fix pending until
 * a pass, the history per host and rule, and the history table append-only for
 * the application role.
 *
 * Seeded as the scanner will (next session): the test calls
 * db/compliance-findings.ts `recordHostResults` directly with each host's
 * results, as the scan activity will. The router is mounted on a small app of
 * this test's own (authentication, the compliance router, the error handler),
 * as api/app.ts assembles them, with a clock the test moves.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { authenticate } from '../../api/auth';
import { startWaiverExpiryReview } from '../../api/compliance-expiry';
import { errorHandler, notFoundRoute } from '../../api/errors';
import { createComplianceRouter } from '../../api/routes/compliance';
import { createLogger } from '../../config/logger';
import { markFixPending, recordHostResults } from '../../db/compliance-findings';
import { allHostIds } from '../../db/hosts';
import type { Observation, RuleResult } from '../../domain/compliance-findings';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, http } from '../support/http';

let env: TestEnv;
let server: Server;
let url: string;
let hosts: string[];
const tokens: Record<'olivia' | 'victor' | 'anna' | 'bob', string> = { olivia: '', victor: '', anna: '', bob: '' };
let clock = Date.parse('2026-12-08T08:00:00Z');
const now = () => new Date(clock);
const advanceHours = (h: number) => (clock += h * 3_600_000);

beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 1 } });
  tokens.olivia = await env.token('olivia', 'operator');
  tokens.victor = await env.token('victor', 'viewer');
  tokens.anna = await env.token('anna', 'approver');
  tokens.bob = await env.token('bob', 'approver');
  const app = express();
  app.use(express.json());
  app.use('/v1', authenticate(env.db));
  app.use(
    createComplianceRouter({
      db: env.db,
      now,
      client: env.client,
      taskQueue: env.taskQueue,
      workflowIdPrefix: env.workflowIdPrefix,
    }),
  );
  app.use(notFoundRoute);
  app.use(errorHandler(createLogger('silent', 'test')));
  server = await new Promise<Server>((ok) => {
    const s = app.listen(0, '127.0.0.1', () => ok(s));
  });
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  hosts = await allHostIds(env.db);
  expect(hosts.length).toBe(3);
});
afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  await env.close();
});

const get = (path: string, who: keyof typeof tokens = 'victor') => http('GET', `${url}${path}`, tokens[who]);
const post = (path: string, body: unknown, who: keyof typeof tokens) =>
  http('POST', `${url}${path}`, tokens[who], body);

const ROOT = 'os.ssh-root-login-off';
const PASSWORD = 'os.ssh-password-login-off';
const NTP = 'os.time-synchronised';

function result(ruleId: string, state: RuleResult['state']): RuleResult {
  return {
    ruleId,
    state,
    expected: `${ruleId} holds`,
    observed: state === 'pass' ? 'as expected' : state === 'error' ? 'connection refused' : `"${ruleId}", not held`,
    reason: `${ruleId}: ${state}`,
  };
}

/** One host's scan of the OS baseline (and of the compute profile for the first host), as the scanner will record it. */
function scan(host: string, states: Record<string, RuleResult['state']>, fix?: string | null) {
  const observations: Array<Omit<Observation, 'host'>> = Object.entries(states).map(([ruleId, state]) => ({
    profile: ruleId.startsWith('compute.') ? 'compute-host' : 'os-baseline',
    severity: ruleId === ROOT ? 'critical' : 'warning',
    result: result(ruleId, state),
    fixRemediationId: fix,
  }));
  return recordHostResults(env.db, host, observations, now());
}

/** RFC 4180 lines (quoted fields may hold commas, quotes and line breaks), as a spreadsheet reads them. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (quoted && c === '"') quoted = false;
    else if (quoted) field += c;
    else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

async function findingOf(host: string, rule = ROOT) {
  const res = await get(`/v1/compliance/findings?host=${host}&rule=${rule}`);
  expect(res.status).toBe(200);
  return res.body.findings[0];
}

async function requestWaiver(body: Record<string, unknown>, who: keyof typeof tokens = 'olivia') {
  const res = await post(
    '/v1/compliance/waivers',
    {
      host: hosts[0],
      profile: 'os-baseline',
      rule: ROOT,
      reason: 'the vendor backup agent logs in as root until its 2027 release',
      riskAcceptance: 'root login only from the backup subnet, keys only; reviewed quarterly',
      expiresAt: new Date(clock + 2 * 3_600_000).toISOString(),
      ...body,
    },
    who,
  );
  return res;
}

describe('findings from recorded results', () => {
  beforeAll(async () => {
    await scan(hosts[0]!, { [ROOT]: 'fail', [PASSWORD]: 'pass', [NTP]: 'fail', 'compute.nova-enabled': 'pass' });
    await scan(hosts[1]!, { [ROOT]: 'pass', [PASSWORD]: 'pass', [NTP]: 'not-applicable' });
    await scan(hosts[2]!, { [ROOT]: 'error', [PASSWORD]: 'error', [NTP]: 'error' });
  });

  it('lists every finding with its evidence, in host, profile, rule order', async () => {
    const res = await get('/v1/compliance/findings');
    expect(res.status).toBe(200);
    expect(res.body.findings).toHaveLength(10);
    expect(res.body.next).toBeNull();
    const f = res.body.findings.find((x: { host: string; ruleId: string }) => x.host === hosts[0] && x.ruleId === ROOT);
    expect(f).toMatchObject({
      profile: 'os-baseline',
      state: 'fail',
      resultState: 'fail',
      severity: 'critical',
      expected: `${ROOT} holds`,
      observed: `"${ROOT}", not held`,
      firstSeen: now().toISOString(),
      lastChanged: now().toISOString(),
      waiverId: null,
    });
  });

  it('filters by state, severity, host, profile and rule', async () => {
    const fails = await get('/v1/compliance/findings?state=fail');
    expect(fails.body.findings.map((f: { ruleId: string }) => f.ruleId).sort()).toEqual([ROOT, NTP]);
    const errors = await get(`/v1/compliance/findings?state=error,not-applicable&host=${hosts[2]}`);
    expect(errors.body.findings).toHaveLength(3);
    const high = await get('/v1/compliance/findings?severity=critical');
    expect(high.body.findings).toHaveLength(3);
    const compute = await get('/v1/compliance/findings?profile=compute-host');
    expect(compute.body.findings.map((f: { host: string }) => f.host)).toEqual([hosts[0]]);
  });

  it('pages by host, profile and rule: every finding once', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const res = await get(`/v1/compliance/findings?limit=3${after ? `&after=${after}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.findings.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.findings.map((f: { host: string; ruleId: string }) => `${f.host}/${f.ruleId}`));
      after = res.body.next;
    } while (after);
    expect(seen).toHaveLength(10);
    expect(new Set(seen).size).toBe(10);
  });

  it('exports CSV with a header row that a CSV reader parses back to the same findings', async () => {
    const res = await fetch(`${url}/v1/compliance/findings?format=csv&state=fail`, {
      headers: { authorization: `Bearer ${tokens.victor}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parseCsv(await res.text());
    expect(rows[0]).toEqual([
      'host',
      'profile',
      'rule_id',
      'state',
      'result_state',
      'severity',
      'expected',
      'observed',
      'reason',
      'first_seen',
      'last_seen',
      'last_changed',
      'waiver_id',
      'fix_remediation_id',
    ]);
    expect(rows.slice(1).map((r) => [r[0], r[2], r[3], r[7]])).toEqual(
      [
        [hosts[0], ROOT, 'fail', `"${ROOT}", not held`],
        [hosts[0], NTP, 'fail', `"${NTP}", not held`],
      ].sort((a, b) => a[1]!.localeCompare(b[1]!)),
    );
  });

  it("gives a host's compliance per profile, and the fleet score per profile", async () => {
    const host = await get(`/v1/compliance/hosts/${hosts[0]}`);
    expect(host.status).toBe(200);
    expect(host.body.profiles.map((p: { profile: string; score: number }) => [p.profile, p.score])).toEqual([
      ['compute-host', 1],
      ['os-baseline', 0.3333],
    ]);
    expect(host.body.findings).toHaveLength(4);
    const score = await get('/v1/compliance/score');
    const os = score.body.profiles.find((p: { profile: string }) => p.profile === 'os-baseline');
    // 3 passed of 8 applicable (3 pass, 2 fail, 3 error); the not-applicable one does not count.
    expect(os).toMatchObject({ hosts: 3, passed: 3, applicable: 8, waived: 0, score: 0.375 });
    expect(os.counts).toMatchObject({ pass: 3, fail: 2, error: 3, 'not-applicable': 1 });
  });

  it('says which host and field are wrong', async () => {
    expect((await get('/v1/compliance/hosts/no-such-host')).status).toBe(404);
    const bad = await get('/v1/compliance/findings?state=broken');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields[0].field).toMatch(/^query\.state/);
    const cursor = await get('/v1/compliance/findings?after=nonsense');
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.message).toMatch(/query.after/);
  });
});

describe('waivers', () => {
  let waiverId: string;

  it('an operator requests a waiver; it covers nothing until approved', async () => {
    const res = await requestWaiver({});
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: 'requested', requestedBy: 'olivia', approvedBy: null, waiving: 0 });
    waiverId = res.body.id;
    expect((await findingOf(hosts[0]!)).state).toBe('fail');
  });

  it('a viewer cannot request one, an operator cannot approve one', async () => {
    expect((await requestWaiver({}, 'victor')).status).toBe(403);
    expect((await post(`/v1/compliance/waivers/${waiverId}/approve`, {}, 'olivia')).status).toBe(403);
  });

  it('refuses an expiry more than 365 days ahead, and a request without a risk acceptance, naming the field', async () => {
    const far = await requestWaiver({ expiresAt: new Date(clock + 400 * 86_400_000).toISOString() });
    expect(far.status).toBe(422);
    expect(far.body.error.details.fields[0]).toMatchObject({ field: 'body.expiresAt' });
    expect(far.body.error.message).toMatch(/more than 365 days ahead/);
    const noRisk = await requestWaiver({ riskAcceptance: undefined });
    expect(noRisk.status).toBe(400);
    expect(noRisk.body.error.details.fields[0].field).toBe('body.riskAcceptance');
    const unknownHost = await requestWaiver({ host: 'no-such-host' });
    expect(unknownHost.status).toBe(422);
  });

  it('the requester cannot approve their own waiver, even as an approver: 403 naming why', async () => {
    const own = await requestWaiver({ rule: NTP }, 'anna');
    expect(own.status).toBe(201);
    const res = await post(`/v1/compliance/waivers/${own.body.id}/approve`, {}, 'anna');
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/anna requested waiver .* and may not approve it/);
    expect((await get(`/v1/compliance/waivers/${own.body.id}`)).body.state).toBe('requested');
    const rejected = await post(`/v1/compliance/waivers/${own.body.id}/reject`, { comment: 'fix NTP instead' }, 'bob');
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ state: 'rejected', rejectedBy: 'bob' });
  });

  it('approved by another person, the finding is waived and still visible with its result', async () => {
    const res = await post(
      `/v1/compliance/waivers/${waiverId}/approve`,
      { comment: 'accepted until the release' },
      'bob',
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      state: 'approved',
      requestedBy: 'olivia',
      approvedBy: 'bob',
      waiving: 1,
      changed: 1,
    });
    const f = await findingOf(hosts[0]!);
    expect(f).toMatchObject({ state: 'waived', resultState: 'fail', waiverId, observed: `"${ROOT}", not held` });
    const listed = await get('/v1/compliance/findings?state=waived');
    expect(listed.body.findings).toHaveLength(1);
    const os = (await get('/v1/compliance/score')).body.profiles.find(
      (p: { profile: string }) => p.profile === 'os-baseline',
    );
    expect(os).toMatchObject({ waived: 1, applicable: 7, passed: 3 });
    expect((await post(`/v1/compliance/waivers/${waiverId}/approve`, {}, 'anna')).status).toBe(409);
  });

  it('a scan that still fails keeps the finding waived, with no new history', async () => {
    advanceHours(0.5);
    const { changes } = await scan(hosts[0]!, { [ROOT]: 'fail' });
    expect(changes).toEqual([]);
    const f = await findingOf(hosts[0]!);
    expect(f).toMatchObject({ state: 'waived', lastSeen: now().toISOString() });
  });

  it('the expiry brings the finding back to fail when it passes, without a scan', async () => {
    advanceHours(2); // past the waiver's expiry (2 hours after it was requested)
    const stop = startWaiverExpiryReview({ db: env.db, logger: createLogger('silent', 'test'), everyMs: 50, now });
    try {
      await eventually('the expired waiver no longer covers', async () =>
        (await findingOf(hosts[0]!)).state === 'fail' ? true : undefined,
      );
    } finally {
      await stop();
    }
    const w = await get(`/v1/compliance/waivers/${waiverId}`);
    expect(w.body).toMatchObject({ state: 'approved', expired: true, waiving: 0 });
    expect((await post(`/v1/compliance/waivers/${waiverId}/revoke`, { comment: 'late' }, 'bob')).status).toBe(200);
  });

  it('a revoked waiver brings the finding back to fail at once', async () => {
    const req = await requestWaiver({ host: '*', rule: 'os.ssh-*' });
    expect(req.status).toBe(201);
    const ok = await post(`/v1/compliance/waivers/${req.body.id}/approve`, {}, 'anna');
    expect(ok.body).toMatchObject({ waiving: 1 });
    expect((await findingOf(hosts[0]!)).state).toBe('waived');
    // An error is never waived: host 3 could not be read.
    expect((await findingOf(hosts[2]!)).state).toBe('error');
    const revoked = await post(`/v1/compliance/waivers/${req.body.id}/revoke`, {}, 'anna');
    expect(revoked.status).toBe(400);
    expect(revoked.body.error.details.fields[0].field).toBe('body.comment');
    const done = await post(
      `/v1/compliance/waivers/${req.body.id}/revoke`,
      { comment: 'the backup agent was replaced' },
      'anna',
    );
    expect(done.body).toMatchObject({ state: 'revoked', revokedBy: 'anna', waiving: 0, changed: 1 });
    expect((await findingOf(hosts[0]!)).state).toBe('fail');
  });

  it('every waiver action is in the audit log with its person', async () => {
    const { rows } = await env.db.query<{ actor: string; action: string }>(
      `SELECT actor, action FROM audit_log WHERE action LIKE 'compliance.waiver.%' ORDER BY seq`,
    );
    expect(rows.map((r) => `${r.actor}:${r.action}`)).toEqual([
      'olivia:compliance.waiver.request',
      'anna:compliance.waiver.request',
      'bob:compliance.waiver.reject',
      'bob:compliance.waiver.approve',
      'bob:compliance.waiver.revoke',
      'olivia:compliance.waiver.request',
      'anna:compliance.waiver.approve',
      'anna:compliance.waiver.revoke',
    ]);
  });

  it('lists waivers by state', async () => {
    const res = await get('/v1/compliance/waivers?state=revoked,rejected');
    expect(res.status).toBe(200);
    expect(res.body.waivers.map((w: { state: string }) => w.state).sort()).toEqual(['rejected', 'revoked', 'revoked']);
  });
});

describe('a fix under way, and the history', () => {
  it('a fix is pending until a scan passes; it never counts as fixed by itself', async () => {
    advanceHours(0.1);
    await markFixPending(env.db, { host: hosts[0]!, profile: 'os-baseline', ruleId: ROOT }, 'rem-42', now());
    expect(await findingOf(hosts[0]!)).toMatchObject({ state: 'fix-pending', fixRemediationId: 'rem-42' });
    advanceHours(0.1);
    await scan(hosts[0]!, { [ROOT]: 'error' }); // rebooting for the fix
    expect(await findingOf(hosts[0]!)).toMatchObject({ state: 'fix-pending', resultState: 'error' });
    advanceHours(0.1);
    await scan(hosts[0]!, { [ROOT]: 'pass' });
    expect(await findingOf(hosts[0]!)).toMatchObject({ state: 'pass', fixRemediationId: null });
  });

  it('keeps one line per change of state, per host and rule', async () => {
    const res = await get(`/v1/compliance/hosts/${hosts[0]}/history?profile=os-baseline&rule=${ROOT}`);
    expect(res.status).toBe(200);
    expect(res.body.entries.map((e: { from: string | null; to: string }) => `${e.from ?? '-'}>${e.to}`)).toEqual([
      '->fail',
      'fail>waived',
      'waived>fail',
      'fail>waived',
      'waived>fail',
      'fail>fix-pending',
      'fix-pending>pass',
    ]);
    const other = await get(`/v1/compliance/hosts/${hosts[1]}/history`);
    expect(other.body.entries.map((e: { ruleId: string; to: string }) => `${e.ruleId}:${e.to}`).sort()).toEqual([
      `${PASSWORD}:pass`,
      `${ROOT}:pass`,
      `${NTP}:not-applicable`,
    ]);
  });

  it('the application role cannot rewrite or delete the history', async () => {
    await expect(env.db.query(`UPDATE compliance_finding_history SET reason = 'nothing happened'`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(env.db.query(`DELETE FROM compliance_finding_history`)).rejects.toThrow(/permission denied/);
    await expect(env.db.query(`TRUNCATE compliance_finding_history`)).rejects.toThrow(/permission denied|append-only/);
  });

  it('the database refuses an approval by the requester even behind the API', async () => {
    const { rows } = await env.db.query<{ id: string }>(`SELECT id FROM compliance_waivers LIMIT 1`);
    await expect(
      env.db.query(`UPDATE compliance_waivers SET approved_by = requested_by WHERE id = $1`, [rows[0]!.id]),
    ).rejects.toThrow(/compliance_waivers_four_eyes/);
  });
});

/** The built binary (dist/cli/main.js; `npm run build` first) as a child process, against this test's API. */
describe('the CLI', () => {
  const MAIN = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
  function cli(args: string[], who: keyof typeof tokens): Promise<{ code: number; stdout: string; stderr: string }> {
    const childEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      SHIPSHAPE_URL: url,
      SHIPSHAPE_TOKEN: tokens[who],
    };
    return new Promise((resolve) => {
      execFile(process.execPath, [MAIN, ...args], { env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      });
    });
  }
  let home: string;
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error('dist/cli/main.js is missing: run "npm run build" first');
    home = mkdtempSync(join(tmpdir(), 'shipshape-cli-home-'));
  });

  it('compliance findings --csv prints the header row and the findings', async () => {
    const r = await cli(['compliance', 'findings', '--state', 'fail', '--csv'], 'victor');
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^host,profile,rule_id,state,result_state,severity,expected,observed/);
    expect(rows.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual([
      `${hosts[0]},os-baseline,${NTP},fail`,
    ]);
    const bad = await cli(['compliance', 'findings', '--state', 'broken'], 'victor');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--state "broken": must be one of pass, fail/);
  });

  it('compliance score and compliance host show the score per profile', async () => {
    const score = await cli(['compliance', 'score'], 'victor');
    expect(score.code).toBe(0);
    expect(score.stdout).toMatch(/^PROFILE\s+HOSTS\s+SCORE\s+PASSED\s+APPLICABLE/);
    expect(score.stdout).toMatch(/^compute-host\s+1\s+100\.0%/m);
    const host = await cli(['compliance', 'host', hosts[0]!], 'victor');
    expect(host.stdout).toMatch(new RegExp(`^${hosts[0]}\\s+os-baseline\\s+${NTP}\\s+fail\\s+warning`, 'm'));
    const history = await cli(['compliance', 'host', hosts[0]!, '--history', '--rule', ROOT], 'victor');
    expect(history.stdout.trimEnd().split('\n')).toHaveLength(1 + 7);
  });

  it('compliance waiver request, a refused self-approval, approve by another, list', async () => {
    const expires = new Date(clock + 24 * 3_600_000).toISOString();
    const req = await cli(
      [
        'compliance',
        'waiver',
        'request',
        '--host',
        hosts[0]!,
        '--profile',
        'os-baseline',
        '--rule',
        NTP,
        '--reason',
        'isolated lab host',
        '--risk',
        'clock drift tolerated: no Kerberos on it',
        '--expires',
        expires,
        '--json',
      ],
      'anna',
    );
    expect(req.code).toBe(0);
    const id = JSON.parse(req.stdout).id as string;
    const own = await cli(['compliance', 'waiver', 'approve', id], 'anna');
    expect(own.code).toBe(1);
    expect(own.stderr).toMatch(/^forbidden: anna requested waiver .* and may not approve it/);
    const ok = await cli(['compliance', 'waiver', 'approve', id, '--comment', 'fine for the lab'], 'bob');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`waiver ${id} approved; 1 finding(s) changed, 1 waived by it now\n`);
    const list = await cli(['compliance', 'waiver', 'list', '--state', 'approved'], 'victor');
    expect(list.stdout).toMatch(
      new RegExp(`^${id}\\s+approved\\s+${hosts[0]}\\s+os-baseline\\s+${NTP}\\s+anna\\s+bob`, 'm'),
    );
    const revoke = await cli(['compliance', 'waiver', 'revoke', id], 'bob');
    expect(revoke.code).toBe(2); // --comment is required
  });
});
