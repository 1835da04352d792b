/**
 * Compliance findings and waivers as people use them (scans and profiles are
 * in compliance-scans.ts and compliance-profiles.ts): findings with filters
 * (JSON, or CSV to export), a host's compliance and its history, the fleet's
 * score per profile; waivers requested by an operator and approved, rejected
 * or revoked by an approver who is not the requester. Every waiver action is
 * one transaction in db/compliance-findings.ts with its audit record, and
 * judges the findings in its scope again, so the answer is where they stand now.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import type { z } from 'zod';
import {
  decideWaiverAudited,
  findWaiver,
  findingHistory,
  findingsWaivedBy,
  fleetTallies,
  hostCompliance,
  listFindings,
  listWaivers,
  requestWaiverAudited,
  type ProfileTally,
} from '../../db/compliance-findings';
import type { Logger } from '../../config/logger';
import { hostExists } from '../../db/hosts';
import {
  findingsCsv,
  waiverRequestProblems,
  type Finding,
  type Waiver,
  type WaiverAction,
} from '../../domain/compliance-findings';
import { requireRole } from '../auth';
import { AppError, conflict, forbidden, notFound } from '../errors';
import {
  complianceFindingsQuery,
  findingHistoryQuery,
  waiverApproveBody,
  waiverListQuery,
  waiverRejectBody,
  waiverRequestBody,
  waiverRevokeBody,
  type findingView,
  type profileScore,
  type waiverView,
} from '../schemas';
import { parse } from '../validate';
import { createComplianceProfilesRouter } from './compliance-profiles';
import { createComplianceScansRouter } from './compliance-scans';

export interface ComplianceRouterDeps {
  db: Pool;
  /** Scans run as workflows on the worker (which alone holds SSH credentials). */
  client: Client;
  taskQueue: string;
  workflowIdPrefix: string;
  /** The clock waivers are requested, decided and expired by; real time by default. */
  now?: () => Date;
  /** The profiles' folder as this API reads it (the worker's, by the same settings); none: profiles are not served. */
  profilesDir?: string;
  logger?: Logger;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function findingOut(f: Finding): z.infer<typeof findingView> {
  return {
    ...f,
    firstSeen: f.firstSeen.toISOString(),
    lastSeen: f.lastSeen.toISOString(),
    lastChanged: f.lastChanged.toISOString(),
  };
}

/** A profile's tally as a score: passed over what applies (pass, fail, error, fix-pending); waived apart. */
export function scoreOf(t: ProfileTally): z.infer<typeof profileScore> {
  const c = t.counts;
  const applicable = c.pass + c.fail + c.error + c['fix-pending'];
  return {
    profile: t.profile,
    hosts: t.hosts,
    counts: c,
    passed: c.pass,
    applicable,
    waived: c.waived,
    score: applicable === 0 ? null : Math.round((c.pass / applicable) * 10_000) / 10_000,
  };
}

const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);
function waiverOut(w: Waiver, waiving: number, now: Date): z.infer<typeof waiverView> {
  return {
    ...w,
    requestedAt: w.requestedAt.toISOString(),
    expiresAt: w.expiresAt.toISOString(),
    expired: w.expiresAt.getTime() <= now.getTime(),
    approvedAt: isoOrNull(w.approvedAt),
    rejectedAt: isoOrNull(w.rejectedAt),
    revokedAt: isoOrNull(w.revokedAt),
    waiving,
  };
}

/** The paging cursor: the last (host, profile, rule) of a page, opaque to callers. */
const cursorOf = (f: Finding) => Buffer.from(JSON.stringify([f.host, f.profile, f.ruleId])).toString('base64url');
function decodeCursor(text: string): [string, string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'string'))
      return v as [string, string, string];
  } catch {
    // fall through
  }
  throw new AppError(400, 'validation_failed', 'query.after: is not a `next` this API gave', {
    fields: [{ field: 'query.after', reason: 'is not a `next` this API gave' }],
  });
}

/** A 422 naming each field and why: the request is well formed but makes no sense. */
function unprocessableFields(fields: Array<{ field: string; reason: string }>): AppError {
  const first = fields[0]!;
  return new AppError(422, 'validation_failed', `${first.field}: ${first.reason}`, { fields });
}

export function createComplianceRouter(deps: ComplianceRouterDeps): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());
  router.use(createComplianceScansRouter(deps));
  router.use(createComplianceProfilesRouter(deps));

  router.get('/v1/compliance/findings', requireRole('viewer'), async (req, res) => {
    const q = parse(complianceFindingsQuery, req.query, 'query');
    // One more than asked says whether there is a next page.
    const rows = await listFindings(deps.db, {
      host: q.host,
      profile: q.profile,
      ruleId: q.rule,
      states: q.state,
      severities: q.severity,
      after: q.after === undefined ? undefined : decodeCursor(q.after),
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const next = rows.length > q.limit ? cursorOf(page[page.length - 1]!) : null;
    if (q.format === 'csv') {
      if (next) res.set('Shipshape-Next', next);
      res.type('text/csv; charset=utf-8').set('Content-Disposition', 'attachment; filename="findings.csv"');
      res.send(findingsCsv(page));
      return;
    }
    res.json({ findings: page.map(findingOut), next });
  });

  router.get('/v1/compliance/score', requireRole('viewer'), async (_req, res) => {
    res.json({ profiles: (await fleetTallies(deps.db)).map(scoreOf) });
  });

  router.get('/v1/compliance/hosts/:host', requireRole('viewer'), async (req, res) => {
    const host = req.params.host as string;
    if (!(await hostExists(deps.db, host))) throw notFound(`no host "${host}" in the inventory`, { field: 'host' });
    const c = await hostCompliance(deps.db, host);
    res.json({ host, profiles: c.profiles.map(scoreOf), findings: c.findings.map(findingOut) });
  });

  router.get('/v1/compliance/hosts/:host/history', requireRole('viewer'), async (req, res) => {
    const host = req.params.host as string;
    const q = parse(findingHistoryQuery, req.query, 'query');
    if (!(await hostExists(deps.db, host))) throw notFound(`no host "${host}" in the inventory`, { field: 'host' });
    const entries = await findingHistory(deps.db, { host, profile: q.profile, ruleId: q.rule, limit: q.limit });
    res.json({
      entries: entries.map((e) => ({
        seq: e.seq,
        profile: e.profile,
        ruleId: e.ruleId,
        at: e.at.toISOString(),
        from: e.from,
        to: e.to,
        resultState: e.resultState,
        severity: e.severity,
        observed: e.observed,
        waiverId: e.waiverId,
        reason: e.reason,
      })),
    });
  });

  router.get('/v1/compliance/waivers', requireRole('viewer'), async (req, res) => {
    const q = parse(waiverListQuery, req.query, 'query');
    const waivers = await listWaivers(deps.db, { states: q.state, host: q.host, profile: q.profile, limit: q.limit });
    const waiving = await findingsWaivedBy(
      deps.db,
      waivers.map((w) => w.id),
    );
    const at = now();
    res.json({ waivers: waivers.map((w) => waiverOut(w, waiving.get(w.id) ?? 0, at)) });
  });

  router.post('/v1/compliance/waivers', requireRole('operator'), async (req, res) => {
    const body = parse(waiverRequestBody, req.body ?? {}, 'body');
    const at = now();
    const request = { ...body, expiresAt: new Date(body.expiresAt) };
    const problems = waiverRequestProblems(request, at);
    if (problems.length) throw unprocessableFields(problems.map((p) => ({ ...p, field: `body.${p.field}` })));
    if (request.host !== '*' && !(await hostExists(deps.db, request.host)))
      throw unprocessableFields([{ field: 'body.host', reason: `no host "${request.host}" in the inventory` }]);
    const waiver: Waiver = {
      ...request,
      id: randomUUID(),
      state: 'requested',
      requestedBy: req.caller!.subject,
      requestedAt: at,
      approvedBy: null,
      approvedAt: null,
      rejectedBy: null,
      rejectedAt: null,
      revokedBy: null,
      revokedAt: null,
      decisionComment: null,
    };
    await requestWaiverAudited(deps.db, waiver);
    res.status(201).json(waiverOut(waiver, 0, at));
  });

  const BODIES = { approve: waiverApproveBody, reject: waiverRejectBody, revoke: waiverRevokeBody } as const;
  for (const action of ['approve', 'reject', 'revoke'] as const satisfies readonly WaiverAction[]) {
    router.post(`/v1/compliance/waivers/:id/${action}`, requireRole('approver'), async (req, res) => {
      const id = req.params.id as string;
      const body = parse(BODIES[action], req.body ?? {}, 'body');
      if (!UUID.test(id)) throw notFound(`no waiver "${id}"`, { field: 'id' });
      const at = now();
      const d = await decideWaiverAudited(deps.db, id, action, req.caller!.subject, body.comment ?? null, at);
      if ('notFound' in d) throw notFound(`no waiver "${id}"`, { field: 'id' });
      if ('refused' in d) {
        if (d.refused.code === 'self-approval') throw forbidden(d.refused.message);
        throw conflict(d.refused.message, { reason: d.refused.code });
      }
      const waiving = await findingsWaivedBy(deps.db, [id]);
      res.json({ ...waiverOut(d.waiver, waiving.get(id) ?? 0, at), changed: d.changes.length });
    });
  }

  router.get('/v1/compliance/waivers/:id', requireRole('viewer'), async (req, res) => {
    const id = req.params.id as string;
    const w = UUID.test(id) ? await findWaiver(deps.db, id) : null;
    if (!w) throw notFound(`no waiver "${id}"`, { field: 'id' });
    const waiving = await findingsWaivedBy(deps.db, [id]);
    res.json(waiverOut(w, waiving.get(id) ?? 0, now()));
  });

  return router;
}
