/**
 * The reclaim tables (migration 1733500000000_reclaim): findings per rule and
 * resource, each resource's case as its workflow records it (with the audit
 * log in the same transaction), the owners' link tokens (hashed), the global
 * pause, and the log of destructive steps that the caps count.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { Capacity } from '../domain/reclaim';
import type { ReclaimView } from '../domain/reclaim-case';
import { isReclaimFinal } from '../domain/reclaim-case';
import { appendAudit } from './audit-log';
import { inTransaction, type Queryable } from './pool';

/** One resource as a rule flagged it in a scan. */
export interface FlaggedResource {
  rule: string;
  kind: string;
  id: string;
  name: string;
  projectId: string;
  reason: string;
  evidence: Record<string, unknown>;
  capacity: Capacity;
  dryRun: boolean;
}

/**
 * Record what one rule flags now, in one transaction: each flagged resource
 * upserted (first flagged kept), and the rule's findings not flagged any more
 * removed. Returns the flagged resources with no open case (to start a reclaim for).
 */
export async function recordRuleFindings(
  db: Pool,
  rule: string,
  flagged: readonly FlaggedResource[],
  now: Date,
): Promise<Array<FlaggedResource & { firstFlagged: Date }>> {
  return inTransaction(db, async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('shipshape.reclaim.rule:' || $1))`, [rule]);
    await tx.query(
      `DELETE FROM reclaim_findings WHERE rule = $1
          AND (resource_kind, resource_id) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
      [rule, flagged.map((f) => f.kind), flagged.map((f) => f.id)],
    );
    if (flagged.length === 0) return [];
    const { rows } = await tx.query<{ kind: string; id: string; first: Date; open: boolean }>(
      `INSERT INTO reclaim_findings (rule, resource_kind, resource_id, resource_name, project_id, reason, evidence,
                                     capacity, dry_run, first_flagged, last_seen)
       SELECT $1, k, i, n, p, r, e, c, d, $10, $10
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[], $9::boolean[])
           AS v(k, i, n, p, r, e, c, d)
       ON CONFLICT (rule, resource_kind, resource_id) DO UPDATE SET
         resource_name = EXCLUDED.resource_name, project_id = EXCLUDED.project_id, reason = EXCLUDED.reason,
         evidence = EXCLUDED.evidence, capacity = EXCLUDED.capacity, dry_run = EXCLUDED.dry_run, last_seen = EXCLUDED.last_seen
       RETURNING resource_kind AS kind, resource_id AS id, first_flagged AS first,
         EXISTS (SELECT 1 FROM reclaim_cases c WHERE c.rule = $1 AND c.resource_kind = reclaim_findings.resource_kind
                   AND c.resource_id = reclaim_findings.resource_id AND c.closed_at IS NULL) AS open`,
      [
        rule,
        flagged.map((f) => f.kind),
        flagged.map((f) => f.id),
        flagged.map((f) => f.name),
        flagged.map((f) => f.projectId),
        flagged.map((f) => f.reason),
        flagged.map((f) => JSON.stringify(f.evidence)),
        flagged.map((f) => JSON.stringify(f.capacity)),
        flagged.map((f) => f.dryRun),
        now,
      ],
    );
    const byKey = new Map(rows.map((r) => [`${r.kind}/${r.id}`, r]));
    return flagged.flatMap((f) => {
      const row = byKey.get(`${f.kind}/${f.id}`)!;
      return row.open ? [] : [{ ...f, firstFlagged: row.first }];
    });
  });
}

/** Store a case as its workflow sees it, with its audit entry, in one transaction. */
export async function recordReclaimCase(
  db: Pool,
  input: { view: ReclaimView; workflowId: string; audit: { action: string; reason: string; actor?: string } },
): Promise<void> {
  const { view } = input;
  await inTransaction(db, async (tx) => {
    await tx.query(
      `INSERT INTO reclaim_cases (case_id, workflow_id, rule, rule_version, resource_kind, resource_id, resource_name,
                                  project_id, phase, view, capacity, freed, flagged_at, updated_at, closed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now(), CASE WHEN $14 THEN now() END)
       ON CONFLICT (case_id) DO UPDATE SET phase = EXCLUDED.phase, view = EXCLUDED.view, freed = EXCLUDED.freed,
         updated_at = now(), closed_at = coalesce(reclaim_cases.closed_at, EXCLUDED.closed_at)`,
      [
        view.caseId,
        input.workflowId,
        view.rule.name,
        view.rule.version,
        view.resource.kind,
        view.resource.id,
        view.resource.name,
        view.resource.projectId,
        view.phase,
        JSON.stringify(view),
        JSON.stringify(view.capacity),
        view.freed ? JSON.stringify(view.freed) : null,
        view.flaggedAt,
        isReclaimFinal(view.phase),
      ],
    );
    await appendAudit(tx, {
      actorKind: input.audit.actor ? 'person' : 'policy',
      actor: input.audit.actor ?? `reclaim:${view.rule.name}`,
      policyVersion: view.rule.version,
      action: input.audit.action,
      reason: `${view.resource.kind} ${view.resource.name} (${view.resource.id}, project ${view.resource.projectId}): ${input.audit.reason}`,
      after: { caseId: view.caseId, phase: view.phase },
      idempotencyKey: `reclaim:${view.caseId}:${input.audit.action}:${view.phase}:${view.extensions.length}`,
    });
  });
}

export interface ReclaimCaps {
  deletionsPerDay: number;
  deletionsPerProjectPerDay: number;
}

/**
 * May a destructive step go now? Not while reclaim is paused, nor past the
 * caps (every destructive step counts, fleet-wide and per project, over the
 * last 24 hours). A step that may go is logged in the same transaction, under
 * one lock, so two reclaims never both take the last place under a cap.
 */
export async function takeReclaimStep(
  db: Pool,
  input: { caseId: string; projectId: string; step: 'reversible' | 'delete' },
  caps: ReclaimCaps,
): Promise<{ go: true } | { go: false; why: string }> {
  return inTransaction(db, async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('shipshape.reclaim.steps'))`);
    const { rows } = await tx.query<{
      paused_by: string | null;
      reason: string | null;
      fleet: number;
      project: number;
      mine: number;
    }>(
      `SELECT (SELECT paused_by FROM reclaim_pause) AS paused_by, (SELECT reason FROM reclaim_pause) AS reason,
              (SELECT count(*)::int FROM reclaim_steps WHERE at > now() - interval '24 hours') AS fleet,
              (SELECT count(*)::int FROM reclaim_steps WHERE at > now() - interval '24 hours' AND project_id = $1) AS project,
              (SELECT count(*)::int FROM reclaim_steps WHERE case_id = $2 AND step = $3) AS mine`,
      [input.projectId, input.caseId, input.step],
    );
    const s = rows[0]!;
    if (s.mine > 0) return { go: true }; // a retry of a step already counted
    if (s.paused_by) return { go: false, why: `reclaim is paused by ${s.paused_by}: ${s.reason}` };
    if (s.fleet >= caps.deletionsPerDay)
      return { go: false, why: `the fleet-wide cap of ${caps.deletionsPerDay} destructive steps a day is reached` };
    if (s.project >= caps.deletionsPerProjectPerDay)
      return {
        go: false,
        why: `the cap of ${caps.deletionsPerProjectPerDay} destructive steps a day in project ${input.projectId} is reached`,
      };
    await tx.query(`INSERT INTO reclaim_steps (case_id, project_id, step) VALUES ($1, $2, $3)`, [
      input.caseId,
      input.projectId,
      input.step,
    ]);
    return { go: true };
  });
}

export async function pauseReclaim(db: Pool, by: string, reason: string): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const { rowCount } = await tx.query(
      `INSERT INTO reclaim_pause (paused_by, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [by, reason],
    );
    if (rowCount)
      await appendAudit(tx, { actorKind: 'person', actor: by, policyVersion: null, action: 'reclaim paused', reason });
    return (rowCount ?? 0) > 0;
  });
}

export async function resumeReclaim(db: Pool, by: string, reason: string): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const { rowCount } = await tx.query(`DELETE FROM reclaim_pause`);
    if (rowCount)
      await appendAudit(tx, { actorKind: 'person', actor: by, policyVersion: null, action: 'reclaim resumed', reason });
    return (rowCount ?? 0) > 0;
  });
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A new owner's link token for a case: 32 random bytes, stored only as its hash. */
export async function issueReclaimToken(db: Queryable, caseId: string, expiresAt: Date): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.query(`INSERT INTO reclaim_tokens (token_sha256, case_id, expires_at) VALUES ($1, $2, $3)`, [
    sha256(token),
    caseId,
    expiresAt,
  ]);
  return token;
}

/** The case a link token opens, while it has not expired; null otherwise (the caller says no more than "not valid"). */
export async function caseOfToken(
  db: Queryable,
  token: string,
): Promise<{ caseId: string; workflowId: string } | null> {
  const { rows } = await db.query<{ caseId: string; workflowId: string }>(
    `SELECT c.case_id AS "caseId", c.workflow_id AS "workflowId" FROM reclaim_tokens t JOIN reclaim_cases c USING (case_id)
      WHERE t.token_sha256 = $1 AND t.expires_at > now()`,
    [sha256(token)],
  );
  return rows[0] ?? null;
}

/** An approved exemption in force for this rule and resource (or its whole project), if any. */
export async function exemptionFor(
  db: Queryable,
  key: { rule: string; projectId: string; resourceId: string },
): Promise<{ id: string; reason: string; approvedBy: string; expiresAt: Date } | null> {
  const { rows } = await db.query(
    `SELECT id, reason, approved_by AS "approvedBy", expires_at AS "expiresAt" FROM reclaim_exemptions
      WHERE state = 'approved' AND expires_at > now() AND project_id = $2
        AND (rule = '*' OR rule = $1) AND (resource_id = '*' OR resource_id = $3)
      ORDER BY expires_at DESC LIMIT 1`,
    [key.rule, key.projectId, key.resourceId],
  );
  return rows[0] ?? null;
}

export interface ReclaimTotals {
  projectId: string;
  flagged: { count: number; capacity: Capacity };
  inGrace: { count: number; capacity: Capacity };
  reclaimed: { count: number; capacity: Capacity };
  freed: { count: number; capacity: Capacity };
}

const SUM = (col: string, filter: string) => `json_build_object(
    'count', count(*) FILTER (WHERE ${filter}),
    'capacity', json_build_object(
      'vcpus', coalesce(sum((${col}->>'vcpus')::float8) FILTER (WHERE ${filter}), 0),
      'ramMb', coalesce(sum((${col}->>'ramMb')::float8) FILTER (WHERE ${filter}), 0),
      'diskGb', coalesce(sum((${col}->>'diskGb')::float8) FILTER (WHERE ${filter}), 0),
      'ips', coalesce(sum((${col}->>'ips')::float8) FILTER (WHERE ${filter}), 0)))`;

/** What is flagged (findings), in grace, reclaimed (restore window) and freed (deleted, released), per project. */
export async function reclaimTotals(db: Queryable): Promise<ReclaimTotals[]> {
  const { rows } = await db.query<ReclaimTotals>(
    `WITH projects AS (SELECT project_id FROM reclaim_findings UNION SELECT project_id FROM reclaim_cases)
     SELECT p.project_id AS "projectId",
            (SELECT ${SUM('f.capacity', 'true')} FROM reclaim_findings f WHERE f.project_id = p.project_id) AS flagged,
            (SELECT ${SUM('c.capacity', `c.phase IN ('notifying', 'in-grace')`)} FROM reclaim_cases c WHERE c.project_id = p.project_id) AS "inGrace",
            (SELECT ${SUM('c.capacity', `c.phase IN ('reclaiming', 'restore-window', 'deleting')`)} FROM reclaim_cases c WHERE c.project_id = p.project_id) AS reclaimed,
            (SELECT ${SUM('c.freed', `c.phase IN ('deleted', 'released')`)} FROM reclaim_cases c WHERE c.project_id = p.project_id) AS freed
       FROM projects p ORDER BY p.project_id`,
  );
  return rows;
}

/** Every approved exemption in force now: a scan loads them once, not one query per resource. */
export async function activeExemptions(
  db: Queryable,
): Promise<Array<{ rule: string; projectId: string; resourceId: string; reason: string; expiresAt: Date }>> {
  const { rows } = await db.query(
    `SELECT rule, project_id AS "projectId", resource_id AS "resourceId", reason, expires_at AS "expiresAt"
       FROM reclaim_exemptions WHERE state = 'approved' AND expires_at > now()`,
  );
  return rows;
}

/** How many resources every rule flags now (a benchmark's check that all were recorded). */
export async function countReclaimFindings(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM reclaim_findings');
  return rows[0]!.n;
}

/** A flagged resource as stored: what the scan recorded, when, and its open reclaim if any. */
export interface ReclaimFindingRow extends FlaggedResource {
  firstFlagged: Date;
  lastSeen: Date;
  caseId: string | null;
}

/** What the rules flag now, filtered by rule and project. */
export async function listReclaimFindings(
  db: Queryable,
  f: { rule?: string; projectId?: string; limit: number },
): Promise<ReclaimFindingRow[]> {
  const { rows } = await db.query<ReclaimFindingRow>(
    `SELECT f.rule, f.resource_kind AS kind, f.resource_id AS id, f.resource_name AS name, f.project_id AS "projectId",
            f.reason, f.evidence, f.capacity, f.dry_run AS "dryRun", f.first_flagged AS "firstFlagged", f.last_seen AS "lastSeen",
            (SELECT c.case_id FROM reclaim_cases c WHERE c.rule = f.rule AND c.resource_kind = f.resource_kind
                AND c.resource_id = f.resource_id AND c.closed_at IS NULL LIMIT 1) AS "caseId"
       FROM reclaim_findings f
      WHERE ($1::text IS NULL OR f.rule = $1) AND ($2::text IS NULL OR f.project_id = $2)
      ORDER BY f.project_id, f.rule, f.resource_id LIMIT $3`,
    [f.rule ?? null, f.projectId ?? null, f.limit],
  );
  return rows;
}

export interface ReclaimCaseRow {
  caseId: string;
  workflowId: string;
  phase: string;
  view: ReclaimView;
  updatedAt: Date;
  closedAt: Date | null;
}

const CASE_COLUMNS = `case_id AS "caseId", workflow_id AS "workflowId", phase, view, updated_at AS "updatedAt", closed_at AS "closedAt"`;

export async function listReclaimCases(
  db: Queryable,
  f: { phase?: string; projectId?: string; rule?: string; open?: boolean; limit: number },
): Promise<ReclaimCaseRow[]> {
  const { rows } = await db.query<ReclaimCaseRow>(
    `SELECT ${CASE_COLUMNS} FROM reclaim_cases
      WHERE ($1::text IS NULL OR phase = $1) AND ($2::text IS NULL OR project_id = $2) AND ($3::text IS NULL OR rule = $3)
        AND ($4::boolean IS NULL OR (closed_at IS NULL) = $4)
      ORDER BY updated_at DESC LIMIT $5`,
    [f.phase ?? null, f.projectId ?? null, f.rule ?? null, f.open ?? null, f.limit],
  );
  return rows;
}

export async function findReclaimCase(db: Queryable, caseId: string): Promise<ReclaimCaseRow | null> {
  const { rows } = await db.query<ReclaimCaseRow>(`SELECT ${CASE_COLUMNS} FROM reclaim_cases WHERE case_id = $1`, [
    caseId,
  ]);
  return rows[0] ?? null;
}

export interface ReclaimExemption {
  id: string;
  rule: string;
  projectId: string;
  resourceId: string;
  reason: string;
  requestedBy: string;
  requestedAt: Date;
  expiresAt: Date;
  state: 'requested' | 'approved' | 'rejected' | 'revoked';
  approvedBy: string | null;
  approvedAt: Date | null;
}

const EXEMPTION_COLUMNS = `id, rule, project_id AS "projectId", resource_id AS "resourceId", reason, requested_by AS "requestedBy",
  requested_at AS "requestedAt", expires_at AS "expiresAt", state, approved_by AS "approvedBy", approved_at AS "approvedAt"`;

/** An exemption asked for, audited. */
export async function requestReclaimExemption(
  db: Pool,
  e: Omit<ReclaimExemption, 'state' | 'approvedBy' | 'approvedAt'>,
): Promise<ReclaimExemption> {
  return inTransaction(db, async (tx) => {
    const { rows } = await tx.query<ReclaimExemption>(
      `INSERT INTO reclaim_exemptions (id, rule, project_id, resource_id, reason, requested_by, requested_at, expires_at, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'requested') RETURNING ${EXEMPTION_COLUMNS}`,
      [e.id, e.rule, e.projectId, e.resourceId, e.reason, e.requestedBy, e.requestedAt, e.expiresAt],
    );
    await appendAudit(tx, {
      actorKind: 'person',
      actor: e.requestedBy,
      policyVersion: null,
      action: 'reclaim exemption requested',
      reason: `${e.rule} for ${e.resourceId === '*' ? 'every resource' : e.resourceId} of project ${e.projectId} until ${e.expiresAt.toISOString()}: ${e.reason}`,
      after: { exemptionId: e.id },
    });
    return rows[0]!;
  });
}

/**
 * Approve a requested exemption, audited; the database refuses the requester
 * as approver too. Returns null when there is no such requested exemption.
 */
export async function approveReclaimExemption(db: Pool, id: string, by: string): Promise<ReclaimExemption | null> {
  return inTransaction(db, async (tx) => {
    const { rows } = await tx.query<ReclaimExemption>(
      `UPDATE reclaim_exemptions SET state = 'approved', approved_by = $2, approved_at = now()
        WHERE id = $1 AND state = 'requested' RETURNING ${EXEMPTION_COLUMNS}`,
      [id, by],
    );
    const e = rows[0];
    if (!e) return null;
    await appendAudit(tx, {
      actorKind: 'person',
      actor: by,
      policyVersion: null,
      action: 'reclaim exemption approved',
      reason: `${e.rule} for ${e.resourceId === '*' ? 'every resource' : e.resourceId} of project ${e.projectId}, requested by ${e.requestedBy}: ${e.reason}`,
      after: { exemptionId: e.id },
    });
    return e;
  });
}

export async function findReclaimExemption(db: Queryable, id: string): Promise<ReclaimExemption | null> {
  const { rows } = await db.query<ReclaimExemption>(
    `SELECT ${EXEMPTION_COLUMNS} FROM reclaim_exemptions WHERE id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

/** The open cases an exemption covers: their reclaims are stopped. */
export async function openCasesCovered(
  db: Queryable,
  e: Pick<ReclaimExemption, 'rule' | 'projectId' | 'resourceId'>,
): Promise<ReclaimCaseRow[]> {
  const { rows } = await db.query<ReclaimCaseRow>(
    `SELECT ${CASE_COLUMNS} FROM reclaim_cases
      WHERE closed_at IS NULL AND project_id = $2 AND ($1 = '*' OR rule = $1) AND ($3 = '*' OR resource_id = $3)`,
    [e.rule, e.projectId, e.resourceId],
  );
  return rows;
}
