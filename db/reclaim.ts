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
