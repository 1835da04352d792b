/**
 * The reclaim tables on a real PostgreSQL (db/reclaim.ts): a rule's findings
 * (first flagged kept, stale ones removed, no second case for a resource with
 * one open), a case recorded with its audit entry, the pause and the caps on
 * destructive steps (a retry of a counted step is not counted twice), the
 * owner's link tokens kept only as hashes, exemptions with an expiry, and the
 * totals per project.
 */
import { randomUUID } from 'node:crypto';
import { readAuditLog } from '../../db/audit-log';
import {
  caseOfToken,
  exemptionFor,
  issueReclaimToken,
  pauseReclaim,
  reclaimTotals,
  recordReclaimCase,
  recordRuleFindings,
  resumeReclaim,
  takeReclaimStep,
  type FlaggedResource,
} from '../../db/reclaim';
import type { ReclaimView } from '../../domain/reclaim-case';
import { createTestEnv, type TestEnv } from '../support/env';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 1, serversPerHost: 0 } });
});
afterAll(() => env?.close());

const volume = (id: string, projectId = 'p1'): FlaggedResource => ({
  rule: 'detached-volumes',
  kind: 'volume',
  id,
  name: `scratch-${id}`,
  projectId,
  reason: 'detached for over 30 d',
  evidence: { status: 'available' },
  capacity: { vcpus: 0, ramMb: 0, diskGb: 100, ips: 0 },
  dryRun: false,
});

function view(caseId: string, over: Partial<ReclaimView> = {}): ReclaimView {
  return {
    caseId,
    rule: { name: 'detached-volumes', version: '1+abc' },
    resource: { kind: 'volume', id: 'vol-1', name: 'scratch-vol-1', projectId: 'p1' },
    phase: 'in-grace',
    reason: 'detached for over 30 d',
    capacity: { vcpus: 0, ramMb: 0, diskGb: 100, ips: 0 },
    flaggedAt: new Date().toISOString(),
    owners: { contacts: ['owner@example.org'], via: 'role owner' },
    noticeAt: new Date().toISOString(),
    graceEnds: null,
    deleteAfter: null,
    extendedMs: 0,
    extensions: [],
    action: 'snapshot-and-delete',
    restorePoint: null,
    outcome: null,
    freed: null,
    ...over,
  };
}

test("a rule's findings: new ones are returned to start a reclaim, first flagged is kept, stale ones go, an open case is not started twice", async () => {
  const t1 = new Date('2026-12-01T00:00:00Z');
  const first = await recordRuleFindings(env.db, 'detached-volumes', [volume('vol-1'), volume('vol-2')], t1);
  expect(first.map((f) => f.id)).toEqual(['vol-1', 'vol-2']);

  const caseId = randomUUID();
  await recordReclaimCase(env.db, {
    view: view(caseId),
    workflowId: 'reclaim/detached-volumes/volume/vol-1',
    audit: { action: 'flagged', reason: 'x' },
  });
  const again = await recordRuleFindings(
    env.db,
    'detached-volumes',
    [volume('vol-1')],
    new Date('2026-12-02T00:00:00Z'),
  );
  expect(again).toEqual([]); // vol-1 has an open case; vol-2 is no longer flagged
  const { rows } = await env.db.query('SELECT resource_id, first_flagged FROM reclaim_findings ORDER BY resource_id');
  expect(rows).toEqual([{ resource_id: 'vol-1', first_flagged: t1 }]);
});

test('a case is recorded with its audit entry; closed when final', async () => {
  const caseId = randomUUID();
  await recordReclaimCase(env.db, {
    view: view(caseId),
    workflowId: 'w',
    audit: { action: 'owners notified', reason: 'owner@example.org' },
  });
  await recordReclaimCase(env.db, {
    view: view(caseId, {
      phase: 'stopped',
      outcome: { phase: 'stopped', reason: 'exempted by ops', at: new Date().toISOString() },
    }),
    workflowId: 'w',
    audit: { action: 'reclaim stopped', reason: 'exempted by ops', actor: 'ops@example.org' },
  });
  const { rows } = await env.db.query('SELECT phase, closed_at FROM reclaim_cases WHERE case_id = $1', [caseId]);
  expect(rows[0].phase).toBe('stopped');
  expect(rows[0].closed_at).not.toBeNull();
  const audit = await readAuditLog(env.db, { limit: 50 });
  expect(audit.find((e) => e.action === 'reclaim stopped')).toMatchObject({
    actorKind: 'person',
    actor: 'ops@example.org',
  });
  expect(audit.find((e) => e.action === 'owners notified')).toMatchObject({
    actorKind: 'policy',
    actor: 'reclaim:detached-volumes',
  });
});

test('destructive steps: the pause holds them, the caps per day count fleet-wide and per project, a retried step is not counted twice', async () => {
  const caps = { deletionsPerDay: 3, deletionsPerProjectPerDay: 2 };
  expect(await pauseReclaim(env.db, 'ops@example.org', 'quarter close')).toBe(true);
  expect(await takeReclaimStep(env.db, { caseId: randomUUID(), projectId: 'p9', step: 'delete' }, caps)).toEqual({
    go: false,
    why: 'reclaim is paused by ops@example.org: quarter close',
  });
  expect(await resumeReclaim(env.db, 'ops@example.org', 'closed')).toBe(true);

  const a = randomUUID();
  expect(await takeReclaimStep(env.db, { caseId: a, projectId: 'p9', step: 'delete' }, caps)).toEqual({ go: true });
  expect(await takeReclaimStep(env.db, { caseId: a, projectId: 'p9', step: 'delete' }, caps)).toEqual({ go: true }); // retry
  expect(await takeReclaimStep(env.db, { caseId: randomUUID(), projectId: 'p9', step: 'delete' }, caps)).toEqual({
    go: true,
  });
  expect(
    await takeReclaimStep(env.db, { caseId: randomUUID(), projectId: 'p9', step: 'reversible' }, caps),
  ).toMatchObject({
    go: false,
    why: 'the cap of 2 destructive steps a day in project p9 is reached',
  });
  expect(await takeReclaimStep(env.db, { caseId: randomUUID(), projectId: 'p8', step: 'delete' }, caps)).toEqual({
    go: true,
  });
  expect(await takeReclaimStep(env.db, { caseId: randomUUID(), projectId: 'p7', step: 'delete' }, caps)).toMatchObject({
    go: false,
    why: 'the fleet-wide cap of 3 destructive steps a day is reached',
  });
});

test("an owner's link token opens its case until it expires, and only its hash is stored", async () => {
  const caseId = randomUUID();
  await recordReclaimCase(env.db, {
    view: view(caseId),
    workflowId: 'w-token',
    audit: { action: 'flagged', reason: 'x' },
  });
  const token = await issueReclaimToken(env.db, caseId, new Date(Date.now() + 60_000));
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(await caseOfToken(env.db, token)).toEqual({ caseId, workflowId: 'w-token' });
  expect(await caseOfToken(env.db, `${token}x`)).toBeNull();
  const { rows } = await env.db.query('SELECT token_sha256 FROM reclaim_tokens WHERE case_id = $1', [caseId]);
  expect(rows[0].token_sha256).not.toContain(token);
  const old = await issueReclaimToken(env.db, caseId, new Date(Date.now() - 1000));
  expect(await caseOfToken(env.db, old)).toBeNull();
});

test('an approved, unexpired exemption covers the resource or its whole project; nothing else does', async () => {
  const insert = (over: Record<string, unknown>) =>
    env.db.query(
      `INSERT INTO reclaim_exemptions (id, rule, project_id, resource_id, reason, requested_by, requested_at, expires_at, state, approved_by)
       VALUES ($1, $2, $3, $4, 'legal hold', 'olivia', now() - interval '1 hour', $5, $6, $7)`,
      [
        randomUUID(),
        over.rule ?? '*',
        over.project ?? 'px',
        over.resource ?? '*',
        over.expires ?? new Date(Date.now() + 86_400_000),
        over.state ?? 'approved',
        over.approvedBy ?? 'anna',
      ],
    );
  await insert({ project: 'px', resource: 'vol-7', rule: 'detached-volumes' });
  await insert({ project: 'py', state: 'requested', approvedBy: null });
  await insert({ project: 'pz', expires: new Date(Date.now() - 1000) });
  expect(await exemptionFor(env.db, { rule: 'detached-volumes', projectId: 'px', resourceId: 'vol-7' })).toMatchObject({
    reason: 'legal hold',
    approvedBy: 'anna',
  });
  expect(await exemptionFor(env.db, { rule: 'stopped-servers', projectId: 'px', resourceId: 'vol-7' })).toBeNull();
  expect(await exemptionFor(env.db, { rule: 'detached-volumes', projectId: 'py', resourceId: 'vol-1' })).toBeNull();
  expect(await exemptionFor(env.db, { rule: 'detached-volumes', projectId: 'pz', resourceId: 'vol-1' })).toBeNull();
  await expect(insert({ project: 'pq', approvedBy: 'olivia' })).rejects.toThrow(/reclaim_exemptions_four_eyes/);
});

test('totals per project: flagged, in grace, reclaimed and freed, with their capacity', async () => {
  const caseId = randomUUID();
  await recordReclaimCase(env.db, {
    view: view(caseId, {
      resource: { kind: 'volume', id: 'vol-t', name: 't', projectId: 'p-tot' },
      phase: 'deleted',
      freed: { vcpus: 0, ramMb: 0, diskGb: 40, ips: 0 },
    }),
    workflowId: 'w-tot',
    audit: { action: 'reclaim deleted', reason: 'x' },
  });
  const totals = await reclaimTotals(env.db);
  expect(totals.find((t) => t.projectId === 'p-tot')).toMatchObject({
    freed: { count: 1, capacity: { diskGb: 40 } },
    inGrace: { count: 0 },
  });
});
