/**
 * The simulated fleet: a fake cloud stored in PostgreSQL. It behaves like a
 * small Nova: services can be disabled with a reason, servers live-migrate
 * (taking a few seconds, one move in flight per server), power cycles take
 * time. Time moves it along: every call first settles what has come due, so
 * no background process is needed and a worker restart loses nothing.
 */
import type { Pool } from 'pg';
import {
  allocatedOnSimulatedHost,
  countServersOnSimulatedHost,
  disableSimulatedCompute,
  enableSimulatedCompute,
  findSimulatedHost,
  findSimulatedMigration,
  listSimulatedHosts,
  locateSimulatedServer,
  powerOffSimulatedHost,
  restartSimulatedComputeService,
  serversOnSimulatedHost,
  settleDueSimulatedWork,
  startSimulatedMigration,
  type SimulatedHost,
} from '../../db/simulated-fleet';
import { FailureType } from '../../domain/errors';
import {
  PermanentProviderError,
  type ComputeFleetFacts,
  type FleetProvider,
  type MoveStatus,
  type ServerLocation,
} from '../../domain/provider';
import type { AgentStatus, HostUtilisation } from '../../domain/telemetry';
import type { HostRole, HostState, InventoryHost, ServerRef } from '../../domain/types';

/** Every simulated hypervisor's version, as Nova reports libvirt 8.2.0. */
export const SIMULATED_HYPERVISOR_VERSION = '8002000';

const AGENTS: Record<HostRole, string> = {
  compute: 'nova-compute',
  network: 'neutron-openvswitch-agent',
  storage: 'cinder-volume',
};

export interface SimulatedTimings {
  migrationSeconds: number;
  powerOnSeconds: number;
  /**
   * How long a power call takes (default 0); the host goes off halfway through. A slow provider is slow on
   * both sides of the cut: before it, the request waits to be taken; after it, OpenStack waits for "power off".
   */
  powerCallSeconds?: number;
}

export class SimulatedFleet implements FleetProvider {
  readonly name = 'simulated';

  constructor(
    private readonly db: Pool,
    private readonly timings: SimulatedTimings,
  ) {}

  /** Complete every migration and power-on whose time has come. */
  private settle(): Promise<void> {
    return settleDueSimulatedWork(this.db);
  }

  private async hostRow(host: string): Promise<SimulatedHost> {
    const row = await findSimulatedHost(this.db, host);
    if (!row) throw new PermanentProviderError(FailureType.UnknownHost, `host ${host} is not in the simulated fleet`);
    return row;
  }

  async listHosts(): Promise<InventoryHost[]> {
    return (await listSimulatedHosts(this.db)).map((r) => ({
      id: r.id,
      zone: r.zone,
      roles: r.roles,
      // Every simulated host has a simulated BMC unless the tests point it at a Redfish emulator.
      bmc: { address: r.bmcAddress ?? `sim://${r.id}`, credentialsRef: r.bmcCredentialsRef, systemId: r.bmcSystemId },
    }));
  }

  async readHostState(host: string): Promise<HostState> {
    await this.settle();
    const row = await this.hostRow(host);
    const serverCount = await countServersOnSimulatedHost(this.db, host);
    const power = row.power;
    return {
      host,
      power,
      health: row.health as HostState['health'],
      healthReasons: row.healthReasons,
      compute: {
        enabled: row.computeEnabled,
        up: power === 'on',
        disabledReason: row.disabledReason ?? null,
      },
      serverCount,
    };
  }

  async disableCompute(host: string, reason: string): Promise<void> {
    await this.hostRow(host);
    await disableSimulatedCompute(this.db, host, reason);
  }

  async enableCompute(host: string): Promise<void> {
    await this.hostRow(host);
    await enableSimulatedCompute(this.db, host);
  }

  async listServersOnHost(host: string): Promise<ServerRef[]> {
    await this.settle();
    await this.hostRow(host);
    return serversOnSimulatedHost(this.db, host);
  }

  async locateServer(serverId: string): Promise<ServerLocation> {
    await this.settle();
    const row = await locateSimulatedServer(this.db, serverId);
    if (!row) throw new PermanentProviderError(FailureType.ProviderRejected, `server ${serverId} does not exist`);
    return { id: row.id, host: row.host, activeMoveId: row.move };
  }

  /**
   * Like Nova's scheduler: the destination is the enabled, healthy, powered-on
   * host in the same zone with the fewest servers (counting moves in flight).
   */
  async startServerMove(serverId: string): Promise<string> {
    await this.settle();
    const started = await startSimulatedMigration(this.db, serverId, this.timings.migrationSeconds);
    if (started) return started;
    const location = await this.locateServer(serverId);
    if (location.activeMoveId) return location.activeMoveId;
    throw new PermanentProviderError(FailureType.NoValidHost, `no valid host to move server ${serverId} to`);
  }

  async getServerMove(moveId: string): Promise<MoveStatus> {
    await this.settle();
    const row = await findSimulatedMigration(this.db, moveId);
    if (!row) throw new PermanentProviderError(FailureType.ProviderRejected, `migration ${moveId} does not exist`);
    return { id: row.id, status: row.status, destination: row.dest, error: row.status === 'failed' ? row.error : null };
  }

  /** Like the OpenStack provider's: a host that is off already is only powered on, and that is not counted as a cycle. */
  async requestPowerCycle(host: string): Promise<void> {
    await this.hostRow(host);
    await this.halfACall();
    await powerOffSimulatedHost(this.db, host, this.timings.powerOnSeconds, 'power-cycle');
    await this.halfACall();
  }

  /** The simulation does not tell a reboot from a power cycle, except that it is not counted as one. */
  async requestReboot(host: string): Promise<void> {
    await this.hostRow(host);
    await this.halfACall();
    await powerOffSimulatedHost(this.db, host, this.timings.powerOnSeconds, 'reboot');
    await this.halfACall();
  }

  /** Half of a slow power call (tests kill a worker while one is in flight, on either side of the cut). */
  private async halfACall(): Promise<void> {
    const ms = ((this.timings.powerCallSeconds ?? 0) * 1000) / 2;
    if (ms > 0) await new Promise((ok) => setTimeout(ok, ms));
  }

  async restartComputeService(host: string): Promise<void> {
    await restartSimulatedComputeService(this.db, host);
  }

  /** The simulated fleet has no service heartbeat to fence: nothing to do. */
  async setFenced(host: string): Promise<void> {
    await this.hostRow(host);
  }

  async readUtilisation(host: string): Promise<HostUtilisation> {
    await this.settle();
    const row = await this.hostRow(host);
    const used = await allocatedOnSimulatedHost(this.db, host);
    const on = row.power === 'on';
    const down = row.agentsDown;
    const agents: AgentStatus[] = row.roles.map((role) => ({
      binary: AGENTS[role],
      role,
      up: on && !down.includes(AGENTS[role]),
      enabled: role === 'compute' ? row.computeEnabled : true,
    }));
    return {
      vcpus: { used: used.vcpus, total: row.vcpus },
      ramMiB: { used: used.ram, total: row.ramMiB },
      diskGiB: { used: used.disk, total: row.diskGiB },
      agents,
    };
  }

  /**
   * Like Nova's services, aggregates and hypervisors in one reading: every compute host's service (up when
   * powered on with nova-compute running), its zone, one aggregate per zone (`<zone>-hosts`), and one
   * hypervisor version for the whole fleet.
   */
  async readComputeFleet(): Promise<ComputeFleetFacts> {
    await this.settle();
    const hosts: ComputeFleetFacts['hosts'] = {};
    for (const r of await listSimulatedHosts(this.db)) {
      if (!r.roles.includes('compute')) continue;
      hosts[r.id] = {
        computeService: {
          enabled: r.computeEnabled,
          up: r.power === 'on' && !r.agentsDown.includes(AGENTS.compute),
          disabledReason: r.disabledReason ?? null,
        },
        zones: [r.zone],
        aggregates: [`${r.zone}-hosts`],
        hypervisorVersion: SIMULATED_HYPERVISOR_VERSION,
      };
    }
    return { readAt: new Date().toISOString(), hosts };
  }
}
