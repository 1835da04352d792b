/**
 * The current state of every host: pool state, health with reasons, and the
 * latest BMC and provider reading (power, temperatures, fans, power
 * supplies, CPU and memory health, firmware, utilisation); its time series;
 * the fleet summary; and a read on demand.
 */
import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import type { BmcReading, HostUtilisation } from '../../domain/telemetry';
import { POOL_STATES, ROLES, type HostState } from '../../domain/types';
import type { refreshHostWorkflow } from '../../workflows/telemetry';
import { requireRole } from '../auth';
import { AppError, notFound } from '../errors';
import { Filters } from '../filters';
import { hostListQuery, telemetryQuery, type fleetSummary, type hostDetail, type hostView } from '../schemas';
import { parse } from '../validate';
import type { z } from 'zod';

const SELECT_HOSTS = `
  SELECT h.id, h.zone, h.roles, h.pool_state, h.health, h.health_reasons, h.health_checked_at, h.last_seen_at,
         h.bmc_address, h.bmc_credentials_ref,
         s.read_at, s.bmc_reachable, s.bmc_error, s.provider_error, s.bmc, s.state, s.utilisation, s.conditions,
         (SELECT r.id FROM remediations r WHERE r.host = h.id AND r.closed_at IS NULL) AS open_remediation_id
    FROM hosts h LEFT JOIN host_snapshots s ON s.host = h.id`;

interface HostRow {
  id: string;
  zone: string;
  roles: string[];
  pool_state: z.infer<typeof hostView>['poolState'];
  health: z.infer<typeof hostView>['health'];
  health_reasons: string[];
  health_checked_at: Date | null;
  last_seen_at: Date | null;
  bmc_address: string | null;
  bmc_credentials_ref: string | null;
  read_at: Date | null;
  bmc_reachable: boolean | null;
  bmc_error: string | null;
  provider_error: string | null;
  bmc: BmcReading | null;
  state: HostState | null;
  utilisation: HostUtilisation | null;
  conditions: z.infer<typeof hostDetail>['conditions'] | null;
  open_remediation_id: string | null;
}

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

function summary(r: HostRow): z.infer<typeof hostView> {
  return {
    id: r.id,
    zone: r.zone,
    roles: r.roles,
    poolState: r.pool_state,
    health: r.health,
    healthReasons: r.health_reasons,
    healthCheckedAt: iso(r.health_checked_at),
    power: r.state?.power ?? r.bmc?.power ?? 'unknown',
    bmcReachable: r.bmc_address ? r.bmc_reachable : null,
    lastSeenAt: iso(r.last_seen_at),
    openRemediationId: r.open_remediation_id,
  };
}

function detail(r: HostRow, open: z.infer<typeof hostDetail>['openRemediations']): z.infer<typeof hostDetail> {
  const b = r.bmc;
  return {
    ...summary(r),
    bmc: {
      address: displayAddress(r.bmc_address),
      credentialsRef: r.bmc_credentials_ref,
      firmware: b?.bmcFirmware ?? null,
      readAt: iso(r.read_at),
      error: r.bmc_error,
      gaps: b?.gaps ?? [],
    },
    system: b ? { health: b.health, biosVersion: b.biosVersion, processors: b.processors, memory: b.memory } : null,
    temperatures: b?.temperatures ?? [],
    fans: b?.fans ?? [],
    powerSupplies: b?.powerSupplies ?? [],
    powerConsumedWatts: b?.powerConsumedWatts ?? null,
    psuRedundancy: b?.psuRedundancy ?? 'unknown',
    events: b?.events ?? [],
    compute: r.state?.compute ?? null,
    serverCount: r.state?.serverCount ?? null,
    utilisation: r.utilisation,
    conditions: r.conditions ?? {},
    providerError: r.provider_error,
    openRemediations: open,
  };
}

export function createHostsRouter(deps: { db: Pool; client: Client; taskQueue: string; workflowIdPrefix: string }): Router {
  const router = Router();

  async function hostDetail(id: string): Promise<z.infer<typeof hostDetail>> {
    const { rows } = await deps.db.query<HostRow>(`${SELECT_HOSTS} WHERE h.id = $1`, [id]);
    const row = rows[0];
    if (!row) throw notFound(`no host "${id}" in the inventory`, { field: 'id' });
    const { rows: open } = await deps.db.query<{ id: string; phase: string; policy: string; started_at: Date }>(
      'SELECT id, phase, policy_name AS policy, started_at FROM remediations WHERE host = $1 AND closed_at IS NULL ORDER BY started_at',
      [id],
    );
    return detail(row, open.map((o) => ({ id: o.id, phase: o.phase, policy: o.policy, startedAt: o.started_at.toISOString() })));
  }

  router.get('/v1/hosts', requireRole('viewer'), async (req, res) => {
    const q = parse(hostListQuery, req.query, 'query');
    const where = new Filters()
      .add('h.zone = ?', q.zone)
      .add('? = ANY(h.roles)', q.role)
      .add('h.health = ?', q.health)
      .add('h.pool_state = ?', q.poolState);
    const { rows } = await deps.db.query<HostRow>(`${SELECT_HOSTS} ${where} ORDER BY h.id`, where.args);
    res.json({ hosts: rows.map(summary) });
  });

  router.get('/v1/hosts/:id', requireRole('viewer'), async (req, res) => {
    res.json(await hostDetail(req.params.id as string));
  });

  router.get('/v1/hosts/:id/telemetry', requireRole('viewer'), async (req, res) => {
    const q = parse(telemetryQuery, req.query, 'query');
    const id = req.params.id as string;
    const { rowCount } = await deps.db.query('SELECT 1 FROM hosts WHERE id = $1', [id]);
    if (!rowCount) throw notFound(`no host "${id}" in the inventory`, { field: 'id' });
    const until = q.until ?? new Date();
    const since = q.since ?? new Date(until.getTime() - 24 * 3600 * 1000);
    const where = new Filters().add('host = ?', id).add('metric = ?', q.metric).add('at >= ?', since).add('at <= ?', until);
    const { rows } = await deps.db.query<{ metric: string; at: Date; value: number }>(
      `SELECT metric, at, value FROM (SELECT metric, at, value FROM telemetry_samples ${where} ORDER BY at DESC LIMIT ${where.param(q.limit + 1)}) t ORDER BY at`,
      where.args,
    );
    const truncated = rows.length > q.limit;
    const series: Record<string, Array<{ at: string; value: number }>> = {};
    for (const r of truncated ? rows.slice(1) : rows) (series[r.metric] ??= []).push({ at: r.at.toISOString(), value: r.value });
    res.json({ host: id, since: since.toISOString(), until: until.toISOString(), series, truncated });
  });

  /** Read the host now, through the worker (which alone holds BMC credentials), and answer with the new state. */
  router.post('/v1/hosts/:id/refresh', requireRole('operator'), async (req, res) => {
    const id = req.params.id as string;
    const { rowCount } = await deps.db.query('SELECT 1 FROM hosts WHERE id = $1', [id]);
    if (!rowCount) throw notFound(`no host "${id}" in the inventory`, { field: 'id' });
    try {
      await deps.client.workflow.execute<typeof refreshHostWorkflow>('refreshHostWorkflow', {
        args: [id],
        taskQueue: deps.taskQueue,
        workflowId: `${deps.workflowIdPrefix}telemetry-refresh/${id}`,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowExecutionTimeout: '2 minutes',
      });
    } catch (err) {
      throw new AppError(503, 'refresh_failed', `reading ${id} now failed: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
    }
    res.json(await hostDetail(id));
  });

  router.get('/v1/fleet/summary', requireRole('viewer'), async (_req, res) => {
    res.json(await fleetSummaryOf(deps.db));
  });

  return router;
}

type Summary = z.infer<typeof fleetSummary>;
type Totals = Summary['utilisation'];

async function fleetSummaryOf(db: Pool): Promise<Summary> {
  const { rows } = await db.query<{
    zone: string;
    roles: string[];
    health: keyof Summary['byHealth'];
    pool_state: keyof Summary['byPoolState'];
    utilisation: HostUtilisation | null;
    bmc_reachable: boolean | null;
  }>('SELECT h.zone, h.roles, h.health, h.pool_state, s.utilisation, s.bmc_reachable FROM hosts h LEFT JOIN host_snapshots s ON s.host = h.id');
  const totals = (): Totals => ({ vcpus: { used: 0, total: 0 }, ramMiB: { used: 0, total: 0 }, diskGiB: { used: 0, total: 0 }, agentsDown: 0 });
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
    out.byPoolState[r.pool_state] = (out.byPoolState[r.pool_state] ?? 0) + 1;
    for (const role of r.roles as Array<keyof Summary['byRole']>) out.byRole[role] = (out.byRole[role] ?? 0) + 1;
    const z = (out.byZone[r.zone] ??= { hosts: 0, byHealth: { ok: 0, warning: 0, critical: 0, unknown: 0 }, outOfService: 0, utilisation: totals() });
    z.hosts++;
    z.byHealth[r.health] = (z.byHealth[r.health] ?? 0) + 1;
    if (r.pool_state !== 'in-service') z.outOfService++;
    add(z.utilisation, r.utilisation);
    add(out.utilisation, r.utilisation);
    if (r.bmc_reachable === false) out.bmcUnreachable++;
  }
  const { rows: sweeps } = await db.query<{ id: string; started_at: Date; finished_at: Date | null; hosts: number; read_ok: number; read_failed: number; signals: number }>(
    'SELECT * FROM telemetry_sweeps ORDER BY started_at DESC LIMIT 1',
  );
  const s = sweeps[0];
  if (s) {
    out.lastSweep = {
      id: s.id,
      startedAt: s.started_at.toISOString(),
      finishedAt: iso(s.finished_at),
      hosts: s.hosts,
      readOk: s.read_ok,
      readFailed: s.read_failed,
      signals: s.signals,
    };
  }
  return out;
}
