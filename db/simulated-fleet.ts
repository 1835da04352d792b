/**
 * The simulated fleet's tables (sim_hosts, sim_servers, sim_migrations): a
 * fake cloud kept in PostgreSQL so that it survives worker restarts and its
 * provider is idempotent against it. Time moves it along: a migration or a
 * power-on completes when its due time has passed, settled on the next call.
 *
 * Written by the worker's simulated provider and BMC (what the fake cloud
 * does), and by the demo, the benchmarks and the tests through
 * providers/simulated/admin.ts (seeding and faults: what a real cloud has no
 * knob for).
 */
import type { HostRole, ServerRef } from '../domain/types';
import type { Queryable } from './pool';

/** A simulated host as its row has it. */
export interface SimulatedHost {
  id: string;
  zone: string;
  roles: HostRole[];
  power: 'on' | 'off';
  health: string;
  healthReasons: string[];
  computeEnabled: boolean;
  disabledReason: string | null;
  agentsDown: string[];
  vcpus: number;
  ramMiB: number;
  diskGiB: number;
  /** What the simulated BMC reports. */
  inletCelsius: number;
  psusFailed: number;
  correctableErrors: number;
  bmcUnreachable: boolean;
  bmcAddress: string | null;
  bmcCredentialsRef: string | null;
  bmcSystemId: string | null;
}

const HOST_COLUMNS = `id, zone, roles, power, health, health_reasons AS "healthReasons", compute_enabled AS "computeEnabled",
  disabled_reason AS "disabledReason", agents_down AS "agentsDown", vcpus, ram_mib AS "ramMiB", disk_gib AS "diskGiB",
  inlet_celsius AS "inletCelsius", psus_failed AS "psusFailed", correctable_errors AS "correctableErrors",
  bmc_unreachable AS "bmcUnreachable", bmc_address AS "bmcAddress", bmc_credentials_ref AS "bmcCredentialsRef", bmc_system_id AS "bmcSystemId"`;

/** SQL: does the host's fault resist `action`? (ineffective repairs, or a fault only another action fixes) */
const STUBBORN = (action: 'power-cycle' | 'restart-compute-service') =>
  `(fault_repair_ineffective OR coalesce(fault_fixed_only_by <> '${action}', false))`;

/** Complete every migration and power-on whose time has come. */
export async function settleDueSimulatedWork(db: Queryable): Promise<void> {
  await db.query(`
    WITH due AS (
      UPDATE sim_migrations
         SET status = CASE WHEN error IS NULL THEN 'completed' ELSE 'failed' END
       WHERE status = 'running' AND due_at <= now()
      RETURNING server_id, dest, status)
    UPDATE sim_servers s SET host = due.dest
      FROM due WHERE s.id = due.server_id AND due.status = 'completed'`);
  await db.query(`
    UPDATE sim_hosts
       SET power = 'on', power_on_due = NULL,
           health = CASE WHEN ${STUBBORN('power-cycle')} THEN health ELSE 'ok' END,
           health_reasons = CASE WHEN ${STUBBORN('power-cycle')} THEN health_reasons ELSE '{}' END
     WHERE power_on_due IS NOT NULL AND power_on_due <= now()`);
}

export async function findSimulatedHost(db: Queryable, host: string): Promise<SimulatedHost | null> {
  const { rows } = await db.query<SimulatedHost>(`SELECT ${HOST_COLUMNS} FROM sim_hosts WHERE id = $1`, [host]);
  return rows[0] ?? null;
}

/** Every simulated host, by ID. */
export async function listSimulatedHosts(db: Queryable): Promise<SimulatedHost[]> {
  const { rows } = await db.query<SimulatedHost>(`SELECT ${HOST_COLUMNS} FROM sim_hosts ORDER BY id`);
  return rows;
}

export async function serversOnSimulatedHost(db: Queryable, host: string): Promise<ServerRef[]> {
  const { rows } = await db.query<ServerRef>('SELECT id, name, host FROM sim_servers WHERE host = $1 ORDER BY id', [
    host,
  ]);
  return rows;
}

export async function countServersOnSimulatedHost(db: Queryable, host: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sim_servers WHERE host = $1', [host]);
  return rows[0]?.n ?? 0;
}

/** What the host's servers are allocated, summed. */
export async function allocatedOnSimulatedHost(
  db: Queryable,
  host: string,
): Promise<{ vcpus: number; ram: number; disk: number }> {
  const { rows } = await db.query<{ vcpus: number; ram: number; disk: number }>(
    'SELECT coalesce(sum(vcpus), 0)::int AS vcpus, coalesce(sum(ram_mib), 0)::int AS ram, coalesce(sum(disk_gib), 0)::int AS disk FROM sim_servers WHERE host = $1',
    [host],
  );
  return rows[0] ?? { vcpus: 0, ram: 0, disk: 0 };
}

export async function disableSimulatedCompute(db: Queryable, host: string, reason: string): Promise<void> {
  await db.query('UPDATE sim_hosts SET compute_enabled = false, disabled_reason = $2 WHERE id = $1', [host, reason]);
}

export async function enableSimulatedCompute(db: Queryable, host: string): Promise<void> {
  await db.query('UPDATE sim_hosts SET compute_enabled = true, disabled_reason = NULL WHERE id = $1', [host]);
}

/** Where a server is and the migration it has in flight, if any; null when there is no such server. */
export async function locateSimulatedServer(
  db: Queryable,
  serverId: string,
): Promise<{ id: string; host: string; move: string | null } | null> {
  const { rows } = await db.query<{ id: string; host: string; move: string | null }>(
    `SELECT s.id, s.host, (SELECT m.id::text FROM sim_migrations m WHERE m.server_id = s.id AND m.status = 'running') AS move
       FROM sim_servers s WHERE s.id = $1`,
    [serverId],
  );
  return rows[0] ?? null;
}

/**
 * Start a live migration, like Nova's scheduler: the destination is the
 * enabled, healthy, powered-on host in the same zone with the fewest servers
 * (counting moves in flight). It fails at its due time when the source host
 * has the migration fault. Null when no host can take the server, or a
 * migration of it is already running.
 */
export async function startSimulatedMigration(
  db: Queryable,
  serverId: string,
  seconds: number,
): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(
    `WITH src AS (
       SELECT h.* FROM sim_servers s JOIN sim_hosts h ON h.id = s.host WHERE s.id = $1),
     dest AS (
       SELECT h.id,
              (SELECT count(*) FROM sim_servers x WHERE x.host = h.id)
            + (SELECT count(*) FROM sim_migrations m WHERE m.dest = h.id AND m.status = 'running') AS load
         FROM sim_hosts h, src
        WHERE h.zone = src.zone AND h.id <> src.id AND h.compute_enabled
          AND h.power = 'on' AND h.health = 'ok'
        ORDER BY load, h.id LIMIT 1)
     INSERT INTO sim_migrations (server_id, source, dest, status, error, due_at)
     SELECT $1, src.id, dest.id, 'running',
            CASE WHEN src.fault_migration_fails THEN 'simulated: live migration aborted by the hypervisor' END,
            now() + make_interval(secs => $2)
       FROM src, dest
     ON CONFLICT (server_id) WHERE status = 'running' DO NOTHING
     RETURNING id::text`,
    [serverId, seconds],
  );
  return rows[0]?.id ?? null;
}

export async function findSimulatedMigration(
  db: Queryable,
  moveId: string,
): Promise<{
  id: string;
  status: 'running' | 'completed' | 'failed';
  dest: string | null;
  error: string | null;
} | null> {
  const { rows } = await db.query<{
    id: string;
    status: 'running' | 'completed' | 'failed';
    dest: string | null;
    error: string | null;
  }>('SELECT id::text, status, dest, error FROM sim_migrations WHERE id = $1', [moveId]);
  return rows[0] ?? null;
}

/**
 * Power the host off now and on again in `seconds`; a power cycle is counted, a reboot is not. A host that is
 * off already is only powered on (in `seconds` unless a power-on is due already), and that is not a cycle: the
 * OpenStack provider, asked to cycle a host that is off, only powers it on too.
 */
export async function powerOffSimulatedHost(
  db: Queryable,
  host: string,
  seconds: number,
  kind: 'power-cycle' | 'reboot',
): Promise<void> {
  await db.query(
    `UPDATE sim_hosts SET power = 'off', power_cycles = power_cycles + CASE WHEN $3 AND power = 'on' THEN 1 ELSE 0 END,
            power_on_due = coalesce(power_on_due, now() + make_interval(secs => $2)) WHERE id = $1`,
    [host, seconds, kind === 'power-cycle'],
  );
}

/** Restarting the compute service fixes a powered-on host unless its fault resists it. */
export async function restartSimulatedComputeService(db: Queryable, host: string): Promise<void> {
  await db.query(
    `UPDATE sim_hosts SET health = 'ok', health_reasons = '{}'
      WHERE id = $1 AND power = 'on' AND NOT ${STUBBORN('restart-compute-service')}`,
    [host],
  );
}

// --- Seeding and faults (providers/simulated/admin.ts): the demo's, the benchmarks' and the tests' knobs.

/** Add a host and its servers unless they are there already. */
export async function addSimulatedHost(
  db: Queryable,
  host: string,
  zone: string,
  servers: readonly { id: string; name: string }[],
): Promise<void> {
  await db.query('INSERT INTO sim_hosts (id, zone) VALUES ($1, $2) ON CONFLICT DO NOTHING', [host, zone]);
  for (const s of servers)
    await db.query('INSERT INTO sim_servers (id, name, host) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
      s.id,
      s.name,
      host,
    ]);
}

/**
 * The sweep benchmark's fleet in two statements: `hosts` hosts named
 * bench-0000 … over ten zones, and 20 servers on every simulated host.
 */
export async function addBenchmarkFleet(db: Queryable, hosts: number): Promise<void> {
  await db.query(
    `INSERT INTO sim_hosts (id, zone) SELECT 'bench-' || lpad(i::text, 4, '0'), 'zone-' || (i % 10) FROM generate_series(0, $1 - 1) i`,
    [hosts],
  );
  await db.query(
    `INSERT INTO sim_servers (id, name, host) SELECT h.id || '-vm' || s, 'vm', h.id FROM sim_hosts h, generate_series(1, 20) s`,
  );
}

/** A fault as the host's row keeps it; absent fields clear that fault. */
export interface SimulatedFault {
  unhealthy: string | null;
  repairIneffective: boolean;
  migrationFails: boolean;
  fixedOnlyBy: string | null;
}

/** Set the host's fault; false when there is no such host. */
export async function setSimulatedFault(db: Queryable, host: string, f: SimulatedFault): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE sim_hosts SET
       health = CASE WHEN $2::text IS NULL THEN health ELSE 'critical' END,
       health_reasons = CASE WHEN $2::text IS NULL THEN health_reasons ELSE ARRAY[$2::text] END,
       fault_repair_ineffective = $3, fault_migration_fails = $4, fault_fixed_only_by = $5
     WHERE id = $1`,
    [host, f.unhealthy, f.repairIneffective, f.migrationFails, f.fixedOnlyBy],
  );
  return rowCount === 1;
}

/** Change what the host's simulated BMC reports (null: leave as it is); false when there is no such host. */
export async function setSimulatedBmcReadings(
  db: Queryable,
  host: string,
  r: {
    inletCelsius: number | null;
    psusFailed: number | null;
    correctableErrors: number | null;
    bmcUnreachable: boolean | null;
  },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE sim_hosts SET inlet_celsius = coalesce($2, inlet_celsius), psus_failed = coalesce($3, psus_failed),
            correctable_errors = coalesce($4, correctable_errors), bmc_unreachable = coalesce($5, bmc_unreachable)
      WHERE id = $1`,
    [host, r.inletCelsius, r.psusFailed, r.correctableErrors, r.bmcUnreachable],
  );
  return rowCount === 1;
}

/** Point one simulated host's BMC at a real Redfish service instead of the simulated one. */
export async function pointSimulatedBmcAt(
  db: Queryable,
  host: string,
  bmc: { address: string; systemId: string | null; credentialsRef: string | null },
): Promise<void> {
  await db.query('UPDATE sim_hosts SET bmc_address = $2, bmc_system_id = $3, bmc_credentials_ref = $4 WHERE id = $1', [
    host,
    bmc.address,
    bmc.systemId,
    bmc.credentialsRef,
  ]);
}

/** Point every simulated host's BMC at one Redfish service, each as the system named like the host (the sweep benchmark). */
export async function pointEverySimulatedBmcAt(db: Queryable, address: string, credentialsRef: string): Promise<void> {
  await db.query(`UPDATE sim_hosts SET bmc_address = $1, bmc_system_id = id, bmc_credentials_ref = $2`, [
    address,
    credentialsRef,
  ]);
}

/** What an operator does by hand when a hand-off reaches them: fix the hardware (the inlet back to a normal 23 °C). */
export async function repairSimulatedHostByHand(db: Queryable, host: string): Promise<void> {
  await db.query(
    `UPDATE sim_hosts SET health = 'ok', health_reasons = '{}', power = 'on', power_on_due = NULL,
            fault_repair_ineffective = false, fault_migration_fails = false, fault_fixed_only_by = NULL,
            inlet_celsius = 23, psus_failed = 0, bmc_unreachable = false WHERE id = $1`,
    [host],
  );
}
