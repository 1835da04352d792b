/**
 * The simulated fleet: a fake cloud stored in PostgreSQL. It behaves like a
 * small Nova: services can be disabled with a reason, servers live-migrate
 * (taking a few seconds, one move in flight per server), power cycles take
 * time. Time moves it along: every call first settles what has come due, so
 * no background process is needed and a worker restart loses nothing.
 */
import type { Pool, PoolClient } from 'pg';
import { FailureType } from '../../domain/errors';
import { PermanentProviderError, type FleetProvider, type MoveStatus, type ServerLocation } from '../../domain/provider';
import type { AgentStatus, HostUtilisation } from '../../domain/telemetry';
import type { HostRole, HostState, InventoryHost, ServerRef } from '../../domain/types';

const AGENTS: Record<HostRole, string> = { compute: 'nova-compute', network: 'neutron-openvswitch-agent', storage: 'cinder-volume' };

/** SQL: does the host's fault resist `action`? (ineffective repairs, or a fault only another action fixes) */
const STUBBORN = (action: string) => `(fault_repair_ineffective OR coalesce(fault_fixed_only_by <> '${action}', false))`;

export interface SimulatedTimings {
  migrationSeconds: number;
  powerOnSeconds: number;
}

export class SimulatedFleet implements FleetProvider {
  readonly name = 'simulated';

  constructor(
    private readonly db: Pool,
    private readonly timings: SimulatedTimings,
  ) {}

  /** Complete every migration and power-on whose time has come. */
  private async settle(client: Pool | PoolClient = this.db): Promise<void> {
    await client.query(`
      WITH due AS (
        UPDATE sim_migrations
           SET status = CASE WHEN error IS NULL THEN 'completed' ELSE 'failed' END
         WHERE status = 'running' AND due_at <= now()
        RETURNING server_id, dest, status)
      UPDATE sim_servers s SET host = due.dest
        FROM due WHERE s.id = due.server_id AND due.status = 'completed'`);
    await client.query(`
      UPDATE sim_hosts
         SET power = 'on', power_on_due = NULL,
             health = CASE WHEN ${STUBBORN('power-cycle')} THEN health ELSE 'ok' END,
             health_reasons = CASE WHEN ${STUBBORN('power-cycle')} THEN health_reasons ELSE '{}' END
       WHERE power_on_due IS NOT NULL AND power_on_due <= now()`);
  }

  private async hostRow(host: string): Promise<Record<string, unknown>> {
    const { rows } = await this.db.query('SELECT * FROM sim_hosts WHERE id = $1', [host]);
    if (!rows[0]) throw new PermanentProviderError(FailureType.UnknownHost, `host ${host} is not in the simulated fleet`);
    return rows[0] as Record<string, unknown>;
  }

  async listHosts(): Promise<InventoryHost[]> {
    const { rows } = await this.db.query<{ id: string; zone: string; roles: HostRole[]; bmc_address: string | null; bmc_credentials_ref: string | null; bmc_system_id: string | null }>(
      'SELECT id, zone, roles, bmc_address, bmc_credentials_ref, bmc_system_id FROM sim_hosts ORDER BY id',
    );
    return rows.map((r) => ({
      id: r.id,
      zone: r.zone,
      roles: r.roles,
      // Every simulated host has a simulated BMC unless the tests point it at a Redfish emulator.
      bmc: { address: r.bmc_address ?? `sim://${r.id}`, credentialsRef: r.bmc_credentials_ref, systemId: r.bmc_system_id },
    }));
  }

  async readHostState(host: string): Promise<HostState> {
    await this.settle();
    const row = await this.hostRow(host);
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sim_servers WHERE host = $1', [host]);
    const power = row.power as 'on' | 'off';
    return {
      host,
      power,
      health: row.health as HostState['health'],
      healthReasons: row.health_reasons as string[],
      compute: {
        enabled: row.compute_enabled as boolean,
        up: power === 'on',
        disabledReason: (row.disabled_reason as string | null) ?? null,
      },
      serverCount: rows[0]?.n ?? 0,
    };
  }

  async disableCompute(host: string, reason: string): Promise<void> {
    await this.hostRow(host);
    await this.db.query('UPDATE sim_hosts SET compute_enabled = false, disabled_reason = $2 WHERE id = $1', [host, reason]);
  }

  async enableCompute(host: string): Promise<void> {
    await this.hostRow(host);
    await this.db.query('UPDATE sim_hosts SET compute_enabled = true, disabled_reason = NULL WHERE id = $1', [host]);
  }

  async listServersOnHost(host: string): Promise<ServerRef[]> {
    await this.settle();
    await this.hostRow(host);
    const { rows } = await this.db.query<ServerRef>('SELECT id, name, host FROM sim_servers WHERE host = $1 ORDER BY id', [host]);
    return rows;
  }

  async locateServer(serverId: string): Promise<ServerLocation> {
    await this.settle();
    const { rows } = await this.db.query<{ id: string; host: string; move: string | null }>(
      `SELECT s.id, s.host, (SELECT m.id::text FROM sim_migrations m WHERE m.server_id = s.id AND m.status = 'running') AS move
         FROM sim_servers s WHERE s.id = $1`,
      [serverId],
    );
    const row = rows[0];
    if (!row) throw new PermanentProviderError(FailureType.ProviderRejected, `server ${serverId} does not exist`);
    return { id: row.id, host: row.host, activeMoveId: row.move };
  }

  /**
   * Like Nova's scheduler: the destination is the enabled, healthy, powered-on
   * host in the same zone with the fewest servers (counting moves in flight).
   */
  async startServerMove(serverId: string): Promise<string> {
    await this.settle();
    const { rows } = await this.db.query<{ id: string }>(
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
      [serverId, this.timings.migrationSeconds],
    );
    if (rows[0]) return rows[0].id;
    const location = await this.locateServer(serverId);
    if (location.activeMoveId) return location.activeMoveId;
    throw new PermanentProviderError(FailureType.NoValidHost, `no valid host to move server ${serverId} to`);
  }

  async getServerMove(moveId: string): Promise<MoveStatus> {
    await this.settle();
    const { rows } = await this.db.query<{ id: string; status: MoveStatus['status']; dest: string | null; error: string | null }>(
      'SELECT id::text, status, dest, error FROM sim_migrations WHERE id = $1',
      [moveId],
    );
    const row = rows[0];
    if (!row) throw new PermanentProviderError(FailureType.ProviderRejected, `migration ${moveId} does not exist`);
    return { id: row.id, status: row.status, destination: row.dest, error: row.status === 'failed' ? row.error : null };
  }

  async requestPowerCycle(host: string): Promise<void> {
    await this.hostRow(host);
    await this.db.query(
      `UPDATE sim_hosts SET power = 'off', power_cycles = power_cycles + 1,
              power_on_due = now() + make_interval(secs => $2) WHERE id = $1`,
      [host, this.timings.powerOnSeconds],
    );
  }

  /** The simulation does not tell a reboot from a power cycle, except that it is not counted as one. */
  async requestReboot(host: string): Promise<void> {
    await this.hostRow(host);
    await this.db.query(`UPDATE sim_hosts SET power = 'off', power_on_due = now() + make_interval(secs => $2) WHERE id = $1`, [host, this.timings.powerOnSeconds]);
  }

  async restartComputeService(host: string): Promise<void> {
    await this.db.query(
      `UPDATE sim_hosts SET health = 'ok', health_reasons = '{}'
        WHERE id = $1 AND power = 'on' AND NOT ${STUBBORN('restart-compute-service')}`,
      [host],
    );
  }

  /** The simulated fleet has no service heartbeat to fence: nothing to do. */
  async setFenced(host: string): Promise<void> {
    await this.hostRow(host);
  }

  async readUtilisation(host: string): Promise<HostUtilisation> {
    await this.settle();
    const row = await this.hostRow(host);
    const { rows } = await this.db.query<{ vcpus: number; ram: number; disk: number }>(
      'SELECT coalesce(sum(vcpus), 0)::int AS vcpus, coalesce(sum(ram_mib), 0)::int AS ram, coalesce(sum(disk_gib), 0)::int AS disk FROM sim_servers WHERE host = $1',
      [host],
    );
    const used = rows[0] ?? { vcpus: 0, ram: 0, disk: 0 };
    const on = row.power === 'on';
    const down = row.agents_down as string[];
    const agents: AgentStatus[] = (row.roles as HostRole[]).map((role) => ({
      binary: AGENTS[role],
      role,
      up: on && !down.includes(AGENTS[role]),
      enabled: role === 'compute' ? (row.compute_enabled as boolean) : true,
    }));
    return {
      vcpus: { used: used.vcpus, total: row.vcpus as number },
      ramMiB: { used: used.ram, total: row.ram_mib as number },
      diskGiB: { used: used.disk, total: row.disk_gib as number },
      agents,
    };
  }
}
