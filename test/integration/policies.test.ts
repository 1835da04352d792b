/**
 * Policy as code, end to end through the API: versions, validation with line
 * and column, reload on file change, simulate that changes nothing, and the
 * third scenario — hand-off → hand-back with resolution → draft → simulate →
 * apply → the same alert is fixed without a person.
 */
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { injectFault, repairByHand } from '../../providers/simulated/admin';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';

const STUCK = `name: stuck-service
description: nova-compute stuck; a power cycle usually helps
match:
  signals: [ComputeServiceStuck]
steps:
  - action: power-cycle
    fixWithinSeconds: 2
verify: { attempts: 2, intervalSeconds: 1 }
`;

let env: TestEnv;
let dir: string;
let admin: string;
let operator: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shipshape-policies-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'stuck-service.yaml'), STUCK);
  env = await createTestEnv({ policyDir: dir, fleet: { zones: ['zone-a'], hostsPerZone: 6, serversPerHost: 1 } });
  admin = await env.token('ada', 'admin');
  operator = await env.token('ops-bot', 'operator');
  await env.startWorker();
});
afterAll(() => env.close());

const put = (name: string, content: string, token = admin) =>
  http('PUT', `${env.apiUrl}/v1/policies/${name}`, token, { content });
const view = async (id: string) => (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;
const phaseOf = (id: string, phase: string) =>
  eventually(`${id} ${phase}`, async () => {
    const v = await view(id);
    return v.phase === phase ? v : undefined;
  });

test('the policies in force are listed with their versions and who loaded them', async () => {
  const list = (await http('GET', `${env.apiUrl}/v1/policies`, operator)).body.policies;
  expect(list).toEqual([
    expect.objectContaining({
      name: 'stuck-service',
      signals: ['ComputeServiceStuck'],
      version: expect.stringMatching(/^[0-9a-f]{12}$/),
    }),
  ]);
  const one = (await http('GET', `${env.apiUrl}/v1/policies/stuck-service`, operator)).body;
  expect(one.content).toBe(STUCK);
  expect(one.versions).toEqual([expect.objectContaining({ version: list[0].version, author: 'file', deleted: false })]);
});

test('an invalid policy gets a 400 with line and column and is not applied', async () => {
  const broken = STUCK.replace('power-cycle', 'reinstall-os');
  const res = await put('stuck-service', broken);
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('invalid_policy');
  expect(res.body.error.details.issues).toEqual([
    expect.objectContaining({ line: 6, column: 13, field: 'steps.0.action' }),
  ]);
  expect(readFileSync(join(dir, 'stuck-service.yaml'), 'utf8')).toBe(STUCK);
  expect((await http('GET', `${env.apiUrl}/v1/policies/stuck-service`, operator)).body.content).toBe(STUCK);
  expect((await put('stuck-service', STUCK, operator)).status).toBe(403);
  const validated = await http('POST', `${env.apiUrl}/v1/policies/validate`, operator, { content: broken });
  expect(validated.status).toBe(400);
  expect(validated.body.error.message).toMatch(/^draft\.yaml:6:13: steps\.0\.action: /);
  expect((await http('POST', `${env.apiUrl}/v1/policies/validate`, operator, { content: STUCK })).body).toMatchObject({
    valid: true,
    name: 'stuck-service',
  });
});

test('a policy file dropped into the folder is loaded within seconds, and deleting it through the API unloads it', async () => {
  writeFileSync(join(dir, 'fan.yaml'), 'name: fan\nmatch: { signals: [FanFailure] }\nsteps: [{ action: reboot }]\n');
  await eventually('reloaded', async () => {
    const names = (await http('GET', `${env.apiUrl}/v1/policies`, operator)).body.policies.map(
      (p: { name: string }) => p.name,
    );
    return names.includes('fan') ? names : undefined;
  });
  expect((await http('DELETE', `${env.apiUrl}/v1/policies/fan`, admin)).status).toBe(204);
  const res = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal('cmp-a-06', 'FanFailure'));
  expect(res.body.outcome).toBe('no-policy');
  const versions = (
    await env.db.query(`SELECT author, deleted FROM policy_versions WHERE name = 'fan' ORDER BY deleted`)
  ).rows;
  expect(versions).toEqual([
    { author: 'file', deleted: false },
    { author: 'ada', deleted: true },
  ]);
});

test('the third scenario: a fix done by hand becomes a policy, and the next such alert is remediated without a person', async () => {
  // 1. The policy in force cannot fix it: power cycles do not help a hung service. Hand-off.
  const first = 'cmp-a-01';
  await injectFault(env.db, first, { unhealthy: 'nova-compute hung', fixedOnlyBy: 'restart-compute-service' });
  const started = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(first, 'ComputeServiceStuck'));
  const id = started.body.remediationId;
  const handedOff = await phaseOf(id, 'awaiting-operator');
  expect(handedOff.handOff.reason).toMatch(/no step fixed the host: power-cycle done, still .*nova-compute hung/);

  // 2. The operator fixes it by restarting the service, and says so when handing back.
  await repairByHand(env.db, first);
  const back = await http('POST', `${env.apiUrl}/v1/remediations/${id}/hand-back`, operator, {
    comment: 'nova-compute was hung; restarted it',
    fixedBy: 'restart-compute-service',
  });
  expect(back.status).toBe(200);
  const returned = await phaseOf(id, 'returned');
  expect(returned.resolution).toEqual({
    by: 'ops-bot',
    note: 'nova-compute was hung; restarted it',
    fixedBy: 'restart-compute-service',
  });

  // 3. Draft a policy from the resolved hand-off.
  const draft = await http('POST', `${env.apiUrl}/v1/policies/draft-from/${id}`, operator);
  expect(draft.status).toBe(200);
  expect(draft.body.name).toBe('fix-computeservicestuck');
  expect(draft.body.content).toMatch(/action: restart-compute-service/);

  // 4. Simulate it against what happened: it would start, and nothing changes.
  const before = await counts();
  const sim = await http('POST', `${env.apiUrl}/v1/policies/simulate`, operator, {
    drafts: [draft.body.content, STUCK],
    sinceDays: 1,
  });
  expect(sim.status).toBe(200);
  expect(
    sim.body.results.find((r: { host: string; name: string }) => r.host === first && r.name === 'ComputeServiceStuck'),
  ).toMatchObject({
    outcome: 'would-start',
    policy: { name: 'fix-computeservicestuck' },
    approval: null,
  });
  expect(await counts()).toEqual(before);

  // 5. Apply it, and the same alert on another host is fixed without anyone.
  const applied = await put(draft.body.name, draft.body.content);
  expect(applied.status).toBe(200);
  const second = 'cmp-a-02';
  await injectFault(env.db, second, { unhealthy: 'nova-compute hung', fixedOnlyBy: 'restart-compute-service' });
  const next = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(second, 'ComputeServiceStuck'));
  const done = await phaseOf(next.body.remediationId, 'returned');
  expect(done.policy).toEqual({ name: 'fix-computeservicestuck', version: applied.body.version });
  const audit = (await http('GET', `${env.apiUrl}/v1/audit-log`, operator)).body.entries;
  expect(audit).toEqual(
    expect.arrayContaining([expect.objectContaining({ action: 'policy applied', actor: 'ada', actorKind: 'person' })]),
  );
});

test('simulate with guards reports which would start, which would wait, and which approvals would be asked — and changes nothing', async () => {
  await put(
    'ask',
    'name: ask\nmatch: { signals: [AskMe] }\napproval: { mode: always }\nsteps: [{ action: power-cycle }]\n',
  );
  const signals = ['cmp-a-03', 'cmp-a-04', 'cmp-a-03'].map((h) => hostSignal(h, 'AskMe'));
  const before = await counts();
  const sim = await http('POST', `${env.apiUrl}/v1/policies/simulate`, operator, { signals });
  expect(sim.body.results.map((r: { outcome: string }) => r.outcome)).toEqual([
    'would-start',
    'would-start',
    'would-join',
  ]);
  expect(sim.body.summary).toMatchObject({ signals: 3, wouldStart: 2, wouldJoin: 1, approvalsAsked: 2 });

  await http('POST', `${env.apiUrl}/v1/guards/pause`, admin, { comment: 'change freeze' });
  const paused = await http('POST', `${env.apiUrl}/v1/policies/simulate`, operator, { signals });
  await http('POST', `${env.apiUrl}/v1/guards/resume`, admin, {});
  expect(paused.body.results[0]).toMatchObject({
    outcome: 'would-wait',
    blockedBy: [{ guard: 'pause', reason: 'automation paused by ada: change freeze' }],
  });
  expect(paused.body.summary).toMatchObject({ wouldStart: 0, wouldWait: 2, wouldJoin: 1 });
  expect(await counts()).toEqual(before);
});

async function counts() {
  const { rows } = await env.db.query(
    `SELECT (SELECT count(*)::int FROM signals) AS signals, (SELECT count(*)::int FROM remediations) AS remediations,
            (SELECT count(*)::int FROM guard_leases) AS leases, (SELECT json_agg(pool_state ORDER BY id) FROM hosts) AS pools`,
  );
  let workflows = 0;
  for await (const _ of env.client.workflow.list({ query: `WorkflowId STARTS_WITH '${env.workflowIdPrefix}'` }))
    workflows++;
  return { ...rows[0], workflows };
}

describe('approval rules', () => {
  const policy = (name: string, signal: string, approval: string) =>
    `name: ${name}\nmatch: { signals: [${signal}] }\napproval: ${approval}\nsteps: [{ action: power-cycle, fixWithinSeconds: 5 }]\nverify: { attempts: 2, intervalSeconds: 1 }\n`;

  test('a policy that names its approver roles refuses anyone else, even an approver', async () => {
    expect(
      (await put('admins-only', policy('admins-only', 'AdminOnly', '{ mode: always, approverRoles: [admin] }'))).status,
    ).toBe(200);
    const approver = await env.token('bob', 'approver');
    await injectFault(env.db, 'cmp-a-03', { unhealthy: 'x' });
    const id = (await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal('cmp-a-03', 'AdminOnly'))).body
      .remediationId;
    await phaseOf(id, 'awaiting-approval');
    const refused = await http('POST', `${env.apiUrl}/v1/remediations/${id}/approve`, approver, {});
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('policy admins-only lets only admin approve; bob is approver');
    expect((await http('POST', `${env.apiUrl}/v1/remediations/${id}/approve`, admin, {})).status).toBe(200);
    await phaseOf(id, 'returned');
  });

  test('a timeout that rejects ends the remediation with the host untouched', async () => {
    await put(
      'reject-late',
      policy('reject-late', 'RejectLate', '{ mode: always, timeoutSeconds: 2, onTimeout: reject }'),
    );
    await injectFault(env.db, 'cmp-a-04', { unhealthy: 'x' });
    const id = (await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal('cmp-a-04', 'RejectLate'))).body
      .remediationId;
    const done = await phaseOf(id, 'rejected');
    expect(done.outcome.reason).toBe('no approver decided within 2s; the policy rejects on timeout');
    expect(
      (await env.db.query('SELECT compute_enabled, power_cycles FROM sim_hosts WHERE id = $1', ['cmp-a-04'])).rows[0],
    ).toEqual({ compute_enabled: true, power_cycles: 0 });
  });

  test('a "when" rule asks only when its condition holds, and a timeout that proceeds goes on without a person', async () => {
    await put(
      'zone-a-asks',
      policy(
        'zone-a-asks',
        'ZoneAsks',
        '{ mode: when, when: { zones: [zone-a] }, timeoutSeconds: 2, onTimeout: proceed }',
      ),
    );
    await injectFault(env.db, 'cmp-a-05', { unhealthy: 'x' });
    const id = (await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal('cmp-a-05', 'ZoneAsks'))).body
      .remediationId;
    const done = await phaseOf(id, 'returned');
    const actions = (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${id}`, operator)).body.entries.map(
      (e: { action: string; reason: string }) => `${e.action}: ${e.reason}`,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'approval requested: zone zone-a asks for approval',
        'approval timed out: no approver decided within 2s; the policy proceeds on timeout',
      ]),
    );
    expect(done.poolState).toBe('in-service');
  });
});
