/**
 * Compliance scans: start one (audited), list recent ones, and read one. The
 * record (db/compliance-scans.ts) is written here when a person starts a
 * scan, and by the scan's workflow at its start and end, scheduled runs
 * included. A scan Temporal closed without the workflow's word (terminated,
 * canceled, timed out) is closed in the record when the API next reads it;
 * a scan only Temporal knows (no record) is read from Temporal as before.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import type { z } from 'zod';
import type { Logger } from '../../config/logger';
import { appendAudit } from '../../db/audit-log';
import { closeScan, findScan, listScans, recordScanStart, type ScanRecord } from '../../db/compliance-scans';
import { placesOfHosts } from '../../db/hosts';
import { SCAN_ID, scanWorkflowId, type ScanStatus } from '../../domain/compliance-scans';
import type { complianceScanWorkflow, ComplianceScanSummary } from '../../workflows/compliance-scan';
import { requireRole } from '../auth';
import { profilesDoNotLoad, readComplianceFolder } from '../compliance-folder';
import { AppError, notFound } from '../errors';
import { complianceScanBody, complianceScanListQuery, type complianceScanView } from '../schemas';
import { parse } from '../validate';

export interface ComplianceScansRouterDeps {
  db: Pool;
  /** Scans run as workflows on the worker (which alone holds SSH credentials). */
  client: Client;
  taskQueue: string;
  workflowIdPrefix: string;
  /** The profiles' folder as this API reads it (the worker's, by the same settings); none: not checked here. */
  profilesDir?: string;
  logger?: Logger;
}

type ScanView = z.infer<typeof complianceScanView>;

const TEMPORAL_STATUS: Record<string, ScanStatus> = {
  RUNNING: 'running',
  CONTINUED_AS_NEW: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'canceled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed-out',
};

/** A 422 naming each field and why: the request is well formed but makes no sense. */
function unprocessableFields(fields: Array<{ field: string; reason: string }>): AppError {
  const first = fields[0]!;
  return new AppError(422, 'validation_failed', `${first.field}: ${first.reason}`, { fields });
}

function viewOf(r: ScanRecord): ScanView {
  return {
    scanId: r.id,
    workflowId: r.workflowId,
    status: r.status,
    requestedBy: r.requestedBy,
    profiles: r.profiles,
    hosts: r.hosts,
    startedAt: r.startedAt.toISOString(),
    closedAt: r.finishedAt?.toISOString() ?? null,
    summary: (r.summary as ComplianceScanSummary | null) ?? null,
    error: r.error,
  };
}

/** The paging cursor: the last scan of a page (started at, id), opaque to callers. */
const cursorOf = (v: ScanView) => Buffer.from(JSON.stringify([v.startedAt, v.scanId])).toString('base64url');
function decodeCursor(text: string): { startedAt: Date; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') {
      const startedAt = new Date(v[0]);
      if (!isNaN(startedAt.getTime())) return { startedAt, id: v[1] };
    }
  } catch {
    // fall through
  }
  throw new AppError(400, 'validation_failed', 'query.after: is not a `next` this API gave', {
    fields: [{ field: 'query.after', reason: 'is not a `next` this API gave' }],
  });
}

/** How Temporal closed a run: its status, its summary when completed, why when failed. */
async function closedRun(handle: WorkflowHandle): Promise<{
  status: ScanStatus;
  closedAt: Date | null;
  startedAt: Date;
  summary: ComplianceScanSummary | null;
  error: string | null;
}> {
  const d = await handle.describe();
  const status = TEMPORAL_STATUS[d.status.name] ?? 'running';
  let summary: ComplianceScanSummary | null = null;
  let error: string | null = null;
  if (status === 'completed') summary = (await handle.result()) as ComplianceScanSummary;
  if (status === 'failed') {
    try {
      await handle.result();
    } catch (err) {
      const cause = err instanceof WorkflowFailedError ? (err.cause ?? err) : err;
      error = (cause as Error).message;
    }
  }
  return { status, closedAt: d.closeTime ?? null, startedAt: d.startTime, summary, error };
}

export function createComplianceScansRouter(deps: ComplianceScansRouterDeps): Router {
  const router = Router();

  /** A record still `running` whose run Temporal has closed is closed now, as Temporal has it. */
  async function settle(r: ScanRecord): Promise<ScanRecord> {
    if (r.status !== 'running') return r;
    let run;
    try {
      run = await closedRun(deps.client.workflow.getHandle(r.workflowId));
    } catch {
      return r; // past Temporal's retention, or Temporal away: the record is what there is
    }
    if (run.status === 'running') return r;
    await closeScan(deps.db, r.id, {
      status: run.status,
      finishedAt: run.closedAt ?? new Date(),
      summary: run.summary ?? undefined,
      error: run.error ?? (run.status === 'completed' ? null : `the scan's workflow was ${run.status}`),
    });
    return (await findScan(deps.db, r.id)) ?? r;
  }

  router.post('/v1/compliance/scans', requireRole('operator'), async (req, res) => {
    const body = parse(complianceScanBody, req.body ?? {}, 'body');
    const hosts = body.hosts ? [...new Set(body.hosts)] : null;
    if (hosts) {
      const known = new Set((await placesOfHosts(deps.db, hosts)).map((p) => p.id));
      const unknown = hosts.filter((h) => !known.has(h));
      if (unknown.length)
        throw unprocessableFields([
          { field: 'body.hosts', reason: `not in the inventory: ${unknown.slice(0, 10).join(', ')}` },
        ]);
    }
    // A folder that does not load would fail the scan at once: refuse it here, with the file and line.
    const folder = readComplianceFolder(deps.profilesDir);
    if ('invalid' in folder) throw profilesDoNotLoad(400, deps.profilesDir!, folder.invalid);
    if ('profiles' in folder && body.profiles) {
      const unknown = body.profiles.filter((n) => !folder.profiles.some((p) => p.name === n));
      if (unknown.length)
        throw unprocessableFields([
          {
            field: 'body.profiles',
            reason: `no compliance profile named ${unknown.join(', ')} (there are ${folder.profiles.map((p) => p.name).join(', ') || 'none'})`,
          },
        ]);
    }
    if ('unreadable' in folder)
      deps.logger?.warn({ why: folder.unreadable }, 'compliance scan started without the API checking its profiles');
    const scanId = randomUUID();
    const workflowId = scanWorkflowId(deps.workflowIdPrefix, scanId);
    const requestedBy = req.caller!.subject;
    // The person's action is on the record before it takes effect.
    await appendAudit(deps.db, {
      actorKind: 'person',
      actor: requestedBy,
      policyVersion: null,
      action: 'compliance scan started',
      reason: `${hosts ? `${hosts.length} host(s)` : 'every host'}; ${body.profiles?.join(', ') ?? 'every profile'}`,
      after: { scanId, hosts: hosts ?? 'all', profiles: body.profiles ?? 'all' },
    });
    let handle;
    try {
      handle = await deps.client.workflow.start<typeof complianceScanWorkflow>('complianceScanWorkflow', {
        args: [{ hosts: hosts ?? 'all', ...(body.profiles ? { profiles: body.profiles } : {}), requestedBy }],
        taskQueue: deps.taskQueue,
        workflowId,
      });
    } catch (err) {
      throw new AppError(503, 'scan_not_started', `the scan could not be started: ${(err as Error).message}`);
    }
    // The run's own start time, as the workflow records it; the API's clock if Temporal does not say.
    const startedAt = await handle
      .describe()
      .then((d) => d.startTime)
      .catch(() => new Date());
    // The workflow records the same start if it gets there first; either way the scan is listed at once.
    await recordScanStart(deps.db, {
      id: scanId,
      workflowId,
      profiles: body.profiles ?? null,
      hosts,
      requestedBy,
      startedAt,
    });
    res.status(202).json({ scanId });
  });

  router.get('/v1/compliance/scans', requireRole('viewer'), async (req, res) => {
    const q = parse(complianceScanListQuery, req.query, 'query');
    // One more than asked says whether there is a next page.
    const rows = await listScans(deps.db, {
      statuses: q.status,
      profile: q.profile,
      after: q.after === undefined ? undefined : decodeCursor(q.after),
      limit: q.limit + 1,
    });
    const page = await Promise.all(rows.slice(0, q.limit).map(settle));
    const views = page.map(viewOf);
    const next = rows.length > q.limit ? cursorOf(views[views.length - 1]!) : null;
    res.json({ scans: views, next });
  });

  router.get('/v1/compliance/scans/:id', requireRole('viewer'), async (req, res) => {
    const id = req.params.id as string;
    if (!SCAN_ID.test(id)) throw notFound(`no scan "${id}"`, { field: 'id' });
    const record = await findScan(deps.db, id);
    if (record) return void res.json(viewOf(await settle(record)));
    // Not recorded (started before the record existed): as Temporal has it.
    const workflowId = scanWorkflowId(deps.workflowIdPrefix, id);
    try {
      const run = await closedRun(deps.client.workflow.getHandle(workflowId));
      const view: ScanView = {
        scanId: id,
        workflowId,
        status: run.status,
        requestedBy: null,
        profiles: null,
        hosts: null,
        startedAt: run.startedAt.toISOString(),
        closedAt: run.closedAt?.toISOString() ?? null,
        summary: run.summary,
        error: run.error,
      };
      res.json(view);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(`no scan "${id}"`, { field: 'id' });
      throw err;
    }
  });

  return router;
}
