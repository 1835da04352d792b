/**
 * Compliance findings, their history and waivers (migrations/1733400000000_compliance_findings.sql).
 * The lifecycle is decided in domain/compliance-findings.ts; this module loads
 * what it needs, and writes what it decided in one transaction.
 *
 * Who writes: the scan (the worker's scan activity, next) records results with
 * `recordHostResults`; the API writes waivers and their decisions; the expiry
 * review (a timer in the API process) moves waived findings back when their
 * waiver has expired. History rows are only ever inserted.
 */
import type { Pool, PoolClient } from 'pg';
import {
  nextFinding,
  rejudgeFinding,
  decideWaiver,
  type Finding,
  type FindingChange,
  type FindingState,
  type Judgement,
  type Observation,
  type RuleSeverity,
  type Waiver,
  type WaiverAction,
  type WaiverRefusal,
  type WaiverState,
} from '../domain/compliance-findings';
import { appendAudit } from './audit-log';
import { Filters } from './filters';
import { recordQueuedSignal, type RaisedSignal } from './signals';
import { inTransaction, type Queryable } from './pool';

/** The finding columns as a `Finding`, of table alias `t` when given. */
const findingColumns = (t = '') => {
  const c = (name: string) => `${t ? `${t}.` : ''}${name}`;
  return `${c('host')} AS host, ${c('profile')} AS profile, ${c('rule_id')} AS "ruleId", ${c('state')} AS state,
  ${c('result_state')} AS "resultState", ${c('severity')} AS severity, ${c('expected')} AS expected,
  ${c('observed')} AS observed, ${c('reason')} AS reason, ${c('first_seen')} AS "firstSeen",
  ${c('last_seen')} AS "lastSeen", ${c('last_changed')} AS "lastChanged", ${c('waiver_id')} AS "waiverId",
  ${c('fix_remediation_id')} AS "fixRemediationId"`;
};
const FINDING_COLUMNS = findingColumns();

const WAIVER_COLUMNS = `id, host, profile, rule, reason, risk_acceptance AS "riskAcceptance", requested_by AS "requestedBy",
  requested_at AS "requestedAt", expires_at AS "expiresAt", state, approved_by AS "approvedBy",
  approved_at AS "approvedAt", rejected_by AS "rejectedBy", rejected_at AS "rejectedAt", revoked_by AS "revokedBy",
  revoked_at AS "revokedAt", decision_comment AS "decisionComment"`;

/** What a scan recorded for one host. */
export interface RecordOutcome {
  findings: Finding[];
  /** The findings whose state changed (each has a history row). */
  changes: FindingChange[];
}

/** Approved, unexpired waivers of these profiles that could cover `host` (all hosts when undefined). */
async function activeWaivers(db: Queryable, profiles: string[], now: Date, host?: string): Promise<Waiver[]> {
  const where = new Filters()
    .when(true, `state = 'approved'`)
    .add('expires_at > ?', now)
    .add('profile = ANY(?)', profiles)
    .add(`(host = '*' OR host = ?)`, host);
  const { rows } = await db.query<Waiver>(`SELECT ${WAIVER_COLUMNS} FROM compliance_waivers ${where}`, where.args);
  return rows;
}

/** Write each judged finding (upsert) and a history row for each change. */
async function saveJudgements(db: Queryable, judgements: readonly Judgement[]): Promise<void> {
  if (judgements.length === 0) return;
  const f = judgements.map((j) => j.finding);
  const col = <K extends keyof Finding>(k: K) => f.map((x) => x[k]);
  await db.query(
    `INSERT INTO compliance_findings (host, profile, rule_id, state, result_state, severity, expected, observed, reason,
                                      first_seen, last_seen, last_changed, waiver_id, fix_remediation_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                          $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[],
                          $13::uuid[], $14::text[])
     ON CONFLICT (host, profile, rule_id) DO UPDATE SET
       state = EXCLUDED.state, result_state = EXCLUDED.result_state, severity = EXCLUDED.severity,
       expected = EXCLUDED.expected, observed = EXCLUDED.observed, reason = EXCLUDED.reason,
       last_seen = EXCLUDED.last_seen, last_changed = EXCLUDED.last_changed, waiver_id = EXCLUDED.waiver_id,
       fix_remediation_id = EXCLUDED.fix_remediation_id`,
    [
      col('host'),
      col('profile'),
      col('ruleId'),
      col('state'),
      col('resultState'),
      col('severity'),
      col('expected'),
      col('observed'),
      col('reason'),
      col('firstSeen'),
      col('lastSeen'),
      col('lastChanged'),
      col('waiverId'),
      col('fixRemediationId'),
    ],
  );
  const changes = judgements.flatMap((j) => (j.change ? [j.change] : []));
  if (changes.length === 0) return;
  const ch = <K extends keyof FindingChange>(k: K) => changes.map((x) => x[k]);
  await db.query(
    `INSERT INTO compliance_finding_history (host, profile, rule_id, at, from_state, to_state, result_state, severity,
                                             observed, waiver_id, reason)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[],
                          $8::text[], $9::text[], $10::uuid[], $11::text[])`,
    [
      ch('host'),
      ch('profile'),
      ch('ruleId'),
      ch('at'),
      ch('from'),
      ch('to'),
      ch('resultState'),
      ch('severity'),
      ch('observed'),
      ch('waiverId'),
      ch('reason'),
    ],
  );
}

/**
 * Record one host's results of a scan, in one transaction: each rule's
 * finding moves on (domain `nextFinding`, with the waivers approved now),
 * and each change of state gets a history row. Scans of the same host are
 * serialised, so two results for one rule never both count as "first seen".
 * `observations` may span several profiles; each (profile, ruleId) at most once.
 */
export async function recordHostResults(
  db: Pool,
  host: string,
  observations: ReadonlyArray<Omit<Observation, 'host'>>,
  now: Date,
  opts: { signalsFor?: (judgements: readonly Judgement[]) => RaisedSignal[] } = {},
): Promise<RecordOutcome> {
  const seen = new Set<string>();
  for (const o of observations) {
    const k = `${o.profile}\u0000${o.result.ruleId}`;
    if (seen.has(k)) throw new Error(`recordHostResults: ${host} has two results for ${o.profile}/${o.result.ruleId}`);
    seen.add(k);
  }
  if (observations.length === 0) return { findings: [], changes: [] };
  return inTransaction(db, async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('shipshape.compliance.host:' || $1))`, [host]);
    const { rows } = await tx.query<Finding>(
      `SELECT ${FINDING_COLUMNS} FROM compliance_findings
        WHERE host = $1 AND (profile, rule_id) IN (SELECT * FROM unnest($2::text[], $3::text[])) FOR UPDATE`,
      [host, observations.map((o) => o.profile), observations.map((o) => o.result.ruleId)],
    );
    const previous = new Map(rows.map((r) => [`${r.profile}\u0000${r.ruleId}`, r]));
    const waivers = await activeWaivers(tx, [...new Set(observations.map((o) => o.profile))], now, host);
    const judgements = observations.map((o) =>
      nextFinding(previous.get(`${o.profile}\u0000${o.result.ruleId}`) ?? null, { ...o, host }, waivers, now),
    );
    await saveJudgements(tx, judgements);
    // The signals these results raise (drift to fix) are kept with them, or neither is.
    for (const signal of opts.signalsFor?.(judgements) ?? []) await recordQueuedSignal(tx, signal);
    return {
      findings: judgements.map((j) => j.finding),
      changes: judgements.flatMap((j) => (j.change ? [j.change] : [])),
    };
  });
}

/**
 * Set or clear the fix under way on one finding, and judge it again (the fix
 * workflow's seam): a remediation id makes a failing finding `fix-pending`;
 * null ends the fix without a pass, so the finding shows its result again.
 * Null when there is no such finding.
 */
export async function markFixPending(
  db: Pool,
  key: { host: string; profile: string; ruleId: string },
  fixRemediationId: string | null,
  now: Date,
): Promise<Judgement | null> {
  return inTransaction(db, async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('shipshape.compliance.host:' || $1))`, [key.host]);
    const { rows } = await tx.query<Finding>(
      `SELECT ${FINDING_COLUMNS} FROM compliance_findings WHERE host = $1 AND profile = $2 AND rule_id = $3 FOR UPDATE`,
      [key.host, key.profile, key.ruleId],
    );
    const f = rows[0];
    if (!f) return null;
    const waivers = await activeWaivers(tx, [f.profile], now, f.host);
    const j = rejudgeFinding({ ...f, fixRemediationId }, waivers, now);
    await saveJudgements(tx, [j]);
    return j;
  });
}

export interface FindingFilter {
  host?: string;
  profile?: string;
  ruleId?: string;
  states?: FindingState[];
  severities?: RuleSeverity[];
  /** The last (host, profile, ruleId) of the previous page. */
  after?: [string, string, string];
  limit: number;
}

/** Findings in (host, profile, rule) order, filtered; a page of `limit`. */
export async function listFindings(db: Queryable, f: FindingFilter): Promise<Finding[]> {
  const where = new Filters()
    .add('host = ?', f.host)
    .add('profile = ?', f.profile)
    .add('rule_id = ?', f.ruleId)
    .add('state = ANY(?)', f.states)
    .add('severity = ANY(?)', f.severities);
  if (f.after) {
    const [h, p, r] = f.after.map((v) => where.param(v));
    where.when(true, `(host, profile, rule_id) > (${h}::text, ${p}::text, ${r}::text)`);
  }
  const { rows } = await db.query<Finding>(
    `SELECT ${FINDING_COLUMNS} FROM compliance_findings ${where} ORDER BY host, profile, rule_id
      LIMIT ${where.param(f.limit)}`,
    where.args,
  );
  return rows;
}

/** A finding's history row. */
export interface FindingHistoryEntry extends FindingChange {
  seq: number;
}

/** The history of a host's findings (one profile, one rule), oldest first. */
export async function findingHistory(
  db: Queryable,
  f: { host: string; profile?: string; ruleId?: string; limit: number },
): Promise<FindingHistoryEntry[]> {
  const where = new Filters().add('host = ?', f.host).add('profile = ?', f.profile).add('rule_id = ?', f.ruleId);
  const { rows } = await db.query<FindingHistoryEntry>(
    `SELECT seq::int, host, profile, rule_id AS "ruleId", at, from_state AS "from", to_state AS "to",
            result_state AS "resultState", severity, observed, waiver_id AS "waiverId", reason
       FROM compliance_finding_history ${where} ORDER BY seq LIMIT ${where.param(f.limit)}`,
    where.args,
  );
  return rows;
}

/** Counts of one profile's findings, by state. */
export interface ProfileTally {
  profile: string;
  hosts: number;
  counts: Record<FindingState, number>;
}

const TALLY = `count(DISTINCT host)::int AS hosts,
  count(*) FILTER (WHERE state = 'pass')::int AS "pass",
  count(*) FILTER (WHERE state = 'fail')::int AS "fail",
  count(*) FILTER (WHERE state = 'error')::int AS "error",
  count(*) FILTER (WHERE state = 'not-applicable')::int AS "not-applicable",
  count(*) FILTER (WHERE state = 'waived')::int AS "waived",
  count(*) FILTER (WHERE state = 'fix-pending')::int AS "fix-pending"`;

type TallyRow = { profile: string; hosts: number } & Record<FindingState, number>;
const asTally = (r: TallyRow): ProfileTally => ({
  profile: r.profile,
  hosts: r.hosts,
  counts: {
    pass: r.pass,
    fail: r.fail,
    error: r.error,
    'not-applicable': r['not-applicable'],
    waived: r.waived,
    'fix-pending': r['fix-pending'],
  },
});

/** Per profile, the fleet's findings by state (one row per profile). */
export async function fleetTallies(db: Queryable): Promise<ProfileTally[]> {
  const { rows } = await db.query<TallyRow>(
    `SELECT profile, ${TALLY} FROM compliance_findings GROUP BY profile ORDER BY profile`,
  );
  return rows.map(asTally);
}

/** A host's compliance: its findings, and per profile its tally. */
export async function hostCompliance(
  db: Queryable,
  host: string,
): Promise<{ findings: Finding[]; profiles: ProfileTally[] }> {
  const { rows: findings } = await db.query<Finding>(
    `SELECT ${FINDING_COLUMNS} FROM compliance_findings WHERE host = $1 ORDER BY profile, rule_id`,
    [host],
  );
  const { rows } = await db.query<TallyRow>(
    `SELECT profile, ${TALLY} FROM compliance_findings WHERE host = $1 GROUP BY profile ORDER BY profile`,
    [host],
  );
  return { findings, profiles: rows.map(asTally) };
}

// ---------------------------------------------------------------- waivers

/** Store a requested waiver and audit it, in one transaction. */
export async function requestWaiverAudited(db: Pool, w: Waiver): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.query(
      `INSERT INTO compliance_waivers (id, host, profile, rule, reason, risk_acceptance, requested_by, requested_at,
                                       expires_at, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'requested')`,
      [w.id, w.host, w.profile, w.rule, w.reason, w.riskAcceptance, w.requestedBy, w.requestedAt, w.expiresAt],
    );
    await appendAudit(tx, {
      actorKind: 'person',
      actor: w.requestedBy,
      policyVersion: null,
      host: w.host === '*' ? null : w.host,
      action: 'compliance.waiver.request',
      reason: w.reason,
      after: waiverAudit(w),
    });
  });
}

function waiverAudit(w: Waiver) {
  return {
    waiver: w.id,
    scope: { host: w.host, profile: w.profile, rule: w.rule },
    state: w.state,
    riskAcceptance: w.riskAcceptance,
    expiresAt: w.expiresAt,
    requestedBy: w.requestedBy,
    approvedBy: w.approvedBy,
  };
}

export async function findWaiver(db: Queryable, id: string): Promise<Waiver | null> {
  const { rows } = await db.query<Waiver>(`SELECT ${WAIVER_COLUMNS} FROM compliance_waivers WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export interface WaiverFilter {
  states?: WaiverState[];
  host?: string;
  profile?: string;
  limit: number;
}

/** Waivers, newest request first. */
export async function listWaivers(db: Queryable, f: WaiverFilter): Promise<Waiver[]> {
  const where = new Filters().add('state = ANY(?)', f.states).add('host = ?', f.host).add('profile = ?', f.profile);
  const { rows } = await db.query<Waiver>(
    `SELECT ${WAIVER_COLUMNS} FROM compliance_waivers ${where} ORDER BY requested_at DESC, id
      LIMIT ${where.param(f.limit)}`,
    where.args,
  );
  return rows;
}

/** How many findings a waiver covers now (state `waived` under it). */
export async function findingsWaivedBy(db: Queryable, ids: string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; n: number }>(
    `SELECT waiver_id AS id, count(*)::int AS n FROM compliance_findings WHERE waiver_id = ANY($1::uuid[]) GROUP BY waiver_id`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.n]));
}

/** Findings a waiver's scope names whose state a waiver can change (a fail, or waived), locked. */
async function findingsInScope(tx: PoolClient, w: Waiver): Promise<Finding[]> {
  const { rows } = await tx.query<Finding>(
    `SELECT ${FINDING_COLUMNS} FROM compliance_findings
      WHERE profile = $1 AND ($2 = '*' OR host = $2)
        AND ($3 = '*' OR rule_id = $3 OR (right($3, 1) = '*' AND left(rule_id, length($3) - 1) = left($3, -1)))
        AND (result_state = 'fail' OR waiver_id = $4)
      ORDER BY host, profile, rule_id FOR UPDATE`,
    [w.profile, w.host, w.rule, w.id],
  );
  return rows;
}

export type WaiverDecision =
  | { waiver: Waiver; changes: FindingChange[] }
  | { refused: WaiverRefusal }
  | { notFound: true };

/**
 * A person approves, rejects or revokes a waiver: decided by the domain
 * (four eyes, states, expiry), stored, audited, and the findings in its
 * scope judged again, all in one transaction, so an approved waiver's
 * findings are `waived` and a revoked one's `fail` as soon as it commits.
 */
export async function decideWaiverAudited(
  db: Pool,
  id: string,
  action: WaiverAction,
  by: string,
  comment: string | null,
  now: Date,
): Promise<WaiverDecision> {
  return inTransaction(db, async (tx) => {
    const { rows } = await tx.query<Waiver>(
      `SELECT ${WAIVER_COLUMNS} FROM compliance_waivers WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const before = rows[0];
    if (!before) return { notFound: true as const };
    const d = decideWaiver(before, action, by, comment, now);
    if ('refused' in d) return d;
    const w = d.waiver;
    await tx.query(
      `UPDATE compliance_waivers SET state = $2, approved_by = $3, approved_at = $4, rejected_by = $5, rejected_at = $6,
              revoked_by = $7, revoked_at = $8, decision_comment = $9 WHERE id = $1`,
      [
        w.id,
        w.state,
        w.approvedBy,
        w.approvedAt,
        w.rejectedBy,
        w.rejectedAt,
        w.revokedBy,
        w.revokedAt,
        w.decisionComment,
      ],
    );
    await appendAudit(tx, {
      actorKind: 'person',
      actor: by,
      policyVersion: null,
      host: w.host === '*' ? null : w.host,
      action: `compliance.waiver.${action}`,
      reason: comment ?? `${action} waiver ${w.id}`,
      before: waiverAudit(before),
      after: waiverAudit(w),
    });
    const findings = await findingsInScope(tx, w);
    if (findings.length === 0) return { waiver: w, changes: [] };
    const waivers = await activeWaivers(tx, [w.profile], now);
    const judgements = findings.map((f) => rejudgeFinding(f, waivers, now));
    await saveJudgements(tx, judgements);
    return { waiver: w, changes: judgements.flatMap((j) => (j.change ? [j.change] : [])) };
  });
}

/**
 * The expiry review: every `waived` finding whose waiver no longer covers it
 * (expired, or revoked behind its back) is judged again now and, with no
 * other waiver, returns to `fail` with a history row. Run on a timer (the
 * moment the expiry passes, give or take the interval), not only at the next scan.
 */
export async function reviewWaiverExpiry(db: Pool, now: Date): Promise<FindingChange[]> {
  return inTransaction(db, async (tx) => {
    const { rows } = await tx.query<Finding>(
      `SELECT ${findingColumns('f')}
         FROM compliance_findings f JOIN compliance_waivers w ON w.id = f.waiver_id
        WHERE f.state = 'waived' AND (w.state <> 'approved' OR w.expires_at <= $1)
        ORDER BY f.host, f.profile, f.rule_id FOR UPDATE OF f`,
      [now],
    );
    if (rows.length === 0) return [];
    const waivers = await activeWaivers(tx, [...new Set(rows.map((r) => r.profile))], now);
    const judgements = rows.map((f) => rejudgeFinding(f, waivers, now));
    await saveJudgements(tx, judgements);
    return judgements.flatMap((j) => (j.change ? [j.change] : []));
  });
}
