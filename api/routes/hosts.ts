/**
 * The current state of every host: pool state, health with reasons, labels,
 * pinned SSH host key, and the latest BMC and provider reading (power,
 * temperatures, fans, power supplies, CPU and memory health, firmware,
 * utilisation); its time series; the fleet summary; a read on demand; and a
 * person's replacement of a rebuilt host's SSH key (admin, audited).
 */
import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { findHost, hostExists, listHosts, tallyOfEveryHost, type HostRecord } from '../../db/hosts';
import { openRemediationsOnHost } from '../../db/remediations';
import {
  findPinnedHostKey,
  forgetPinnedHostKeyAudited,
  replacePinnedHostKeyAudited,
  type PinnedHostKey,
} from '../../db/ssh-host-keys';
import { lastSweep, telemetrySeries } from '../../db/telemetry';
import type { HostUtilisation } from '../../domain/telemetry';
import { POOL_STATES, ROLES } from '../../domain/types';
import type { refreshHostWorkflow } from '../../workflows/telemetry';
import { requireRole } from '../auth';
import { AppError, notFound } from '../errors';
import {
  hostListQuery,
  sshHostKeyRequest,
  telemetryQuery,
  type fleetSummary,
  type hostDetail,
  type hostView,
  type sshHostKeyChanged,
  type sshHostKeyView,
} from '../schemas';
import { parse } from '../validate';
import type { z } from 'zod';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** An address as it may be shown: any user information in the URL is dropped. */
export function displayAddress(address: string | null): string | null {
  if (!address) return null;
  try {
    const url = new URL(address);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(not a URL)';
  }
}

function summary(r: HostRecord): z.infer<typeof hostView> {
  const s = r.snapshot;
  return {
    id: r.id,
    zone: r.zone,
    roles: r.roles,
    poolState: r.poolState,
    health: r.health,
    healthReasons: r.healthReasons,
    healthCheckedAt: iso(r.healthCheckedAt),
    power: s.state?.power ?? s.bmc?.power ?? 'unknown',
    bmcReachable: r.bmcAddress ? s.bmcReachable : null,
    lastSeenAt: iso(r.lastSeenAt),
    openRemediationId: r.openRemediationId,
  };
}

function keyView(k: PinnedHostKey | null): z.infer<typeof sshHostKeyView> | null {
  return k
    ? { fingerprint: k.fingerprint, keyType: k.keyType, source: k.source, firstSeen: k.firstSeen.toISOString() }
    : null;
}

function detail(
  r: HostRecord,
  open: z.infer<typeof hostDetail>['openRemediations'],
  pinned: PinnedHostKey | null,
): z.infer<typeof hostDetail> {
  const s = r.snapshot;
  const b = s.bmc;
  return {
    ...summary(r),
    bmc: {
      address: displayAddress(r.bmcAddress),
      credentialsRef: r.bmcCredentialsRef,
      firmware: b?.bmcFirmware ?? null,
      readAt: iso(s.readAt),
      error: s.bmcError,
      gaps: b?.gaps ?? [],
    },
    system: b ? { health: b.health, biosVersion: b.biosVersion, processors: b.processors, memory: b.memory } : null,
    temperatures: b?.temperatures ?? [],
    fans: b?.fans ?? [],
    powerSupplies: b?.powerSupplies ?? [],
    powerConsumedWatts: b?.powerConsumedWatts ?? null,
    psuRedundancy: b?.psuRedundancy ?? 'unknown',
    events: b?.events ?? [],
    compute: s.state?.compute ?? null,
    serverCount: s.state?.serverCount ?? null,
    utilisation: s.utilisation,
    conditions: s.conditions ?? {},
    providerError: s.providerError,
    openRemediations: open,
    labels: r.labels,
    sshHostKey: keyView(pinned),
  };
}

export function createHostsRouter(deps: {
  db: Pool;
  client: Client;
  taskQueue: string;
  workflowIdPrefix: string;
}): Router {
  const router = Router();

  async function hostDetail(id: string): Promise<z.infer<typeof hostDetail>> {
    const host = await findHost(deps.db, id);
    if (!host) throw notFound(`no host "${id}" in the inventory`, { field: 'id' });
    const open = await openRemediationsOnHost(deps.db, id);
    return detail(
      host,
      open.map((o) => ({ id: o.id, phase: o.phase, policy: o.policyName, startedAt: o.startedAt.toISOString() })),
      await findPinnedHostKey(deps.db, id),
    );
  }

  router.get('/v1/hosts', requireRole('viewer'), async (req, res) => {
    const q = parse(hostListQuery, req.query, 'query');
    // One more than asked says whether there is a next page.
    const rows = await listHosts(deps.db, { ...q, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    res.json({ hosts: page.map(summary), next: rows.length > q.limit ? page[page.length - 1]!.id : null });
  });

  router.get('/v1/hosts/:id', requireRole('viewer'), async (req, res) => {
    res.json(await hostDetail(req.params.id as string));
  });

  router.get('/v1/hosts/:id/telemetry', requireRole('viewer'), async (req, res) => {
    const q = parse(telemetryQuery, req.query, 'query');
    const id = req.params.id as string;
    if (!(await hostExists(deps.db, id))) throw notFound(`no host "${id}" in the inventory`, { field: 'id' });
    const until = q.until ?? new Date();
    const since = q.since ?? new Date(until.getTime() - 24 * 3600 * 1000);
    const rows = await telemetrySeries(deps.db, { host: id, metric: q.metric, since, until, limit: q.limit + 1 });
    const truncated = rows.length > q.limit;
    const series: Record<string, Array<{ at: string; value: number }>> = {};
    for (const r of truncated ? rows.slice(1) : rows)
      (series[r.metric] ??= []).push({ at: r.at.toISOString(), value: r.value });
    res.json({ host: id, since: since.toISOString(), until: until.toISOString(), series, truncated });
  });

  /** Read the host now, through the worker (which alone holds BMC credentials), and answer with the new state. */
  router.post('/v1/hosts/:id/refresh', requireRole('operator'), async (req, res) => {
    const id = req.params.id as string;
    if (!(await hostExists(deps.db, id))) throw notFound(`no host "${id}" in the inventory`, { field: 'id' });
    try {
      await deps.client.workflow.execute<typeof refreshHostWorkflow>('refreshHostWorkflow', {
        args: [id],
        taskQueue: deps.taskQueue,
        workflowId: `${deps.workflowIdPrefix}telemetry-refresh/${id}`,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowExecutionTimeout: '2 minutes',
      });
    } catch (err) {
      throw new AppError(
        503,
        'refresh_failed',
        `reading ${id} now failed: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
      );
    }
    res.json(await hostDetail(id));
  });

  /**
   * Replace a host's pinned SSH key with the one it now shows (read on its console after a rebuild), or
   * forget it so the next scan pins what it shows. An admin's action, with why, audited in its transaction.
   */
  router.post('/v1/hosts/:id/ssh-host-key', requireRole('admin'), async (req, res) => {
    const id = req.params.id as string;
    const body = parse(sshHostKeyRequest, req.body ?? {}, 'body');
    if (!(await hostExists(deps.db, id))) throw notFound(`no host "${id}" in the inventory`, { field: 'id' });
    const person = req.caller!.subject;
    const change = body.forget
      ? await forgetPinnedHostKeyAudited(deps.db, { host: id, person, reason: body.reason })
      : await replacePinnedHostKeyAudited(deps.db, {
          host: id,
          fingerprint: body.fingerprint!,
          keyType: body.keyType!,
          person,
          reason: body.reason,
        });
    const answer: z.infer<typeof sshHostKeyChanged> = {
      host: id,
      before: keyView(change.before),
      after: keyView(change.after),
      warning:
        change.before?.source === 'inventory'
          ? `the inventory file states ${id}'s key (${change.before.fingerprint}): edit it there too, or the next worker start pins that key again`
          : null,
    };
    res.json(answer);
  });

  router.get('/v1/fleet/summary', requireRole('viewer'), async (_req, res) => {
    res.json(await fleetSummaryOf(deps.db));
  });

  return router;
}

type Summary = z.infer<typeof fleetSummary>;
type Totals = Summary['utilisation'];

async function fleetSummaryOf(db: Pool): Promise<Summary> {
  const rows = await tallyOfEveryHost(db);
  const totals = (): Totals => ({
    vcpus: { used: 0, total: 0 },
    ramMiB: { used: 0, total: 0 },
    diskGiB: { used: 0, total: 0 },
    agentsDown: 0,
  });
  const add = (t: Totals, u: HostUtilisation | null) => {
    if (!u) return;
    for (const k of ['vcpus', 'ramMiB', 'diskGiB'] as const) {
      t[k].used += u[k].used;
      t[k].total += u[k].total;
    }
    t.agentsDown += u.agents.filter((a) => !a.up).length;
  };
  const out: Summary = {
    hosts: rows.length,
    byHealth: { ok: 0, warning: 0, critical: 0, unknown: 0 },
    byPoolState: Object.fromEntries(POOL_STATES.map((p) => [p, 0])) as Summary['byPoolState'],
    byRole: Object.fromEntries(ROLES.map((r) => [r, 0])) as Summary['byRole'],
    byZone: {},
    utilisation: totals(),
    bmcUnreachable: 0,
    lastSweep: null,
  };
  for (const r of rows) {
    out.byHealth[r.health] = (out.byHealth[r.health] ?? 0) + 1;
    out.byPoolState[r.poolState] = (out.byPoolState[r.poolState] ?? 0) + 1;
    for (const role of r.roles as Array<keyof Summary['byRole']>) out.byRole[role] = (out.byRole[role] ?? 0) + 1;
    const z = (out.byZone[r.zone] ??= {
      hosts: 0,
      byHealth: { ok: 0, warning: 0, critical: 0, unknown: 0 },
      outOfService: 0,
      utilisation: totals(),
    });
    z.hosts++;
    z.byHealth[r.health] = (z.byHealth[r.health] ?? 0) + 1;
    if (r.poolState !== 'in-service') z.outOfService++;
    add(z.utilisation, r.utilisation);
    add(out.utilisation, r.utilisation);
    if (r.bmcReachable === false) out.bmcUnreachable++;
  }
  const s = await lastSweep(db);
  if (s) {
    out.lastSweep = {
      id: s.id,
      startedAt: s.startedAt.toISOString(),
      finishedAt: iso(s.finishedAt),
      hosts: s.hosts,
      readOk: s.readOk,
      readFailed: s.readFailed,
      signals: s.signals,
    };
  }
  return out;
}
