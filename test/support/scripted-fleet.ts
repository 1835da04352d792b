/**
 * A small in-memory cloud for workflow tests that need a moment a real cloud
 * cannot be timed to: a person re-enabling a host between two migrations, a
 * conductor answering 503 for a while, Nova refusing to lift a fence until
 * nova-compute restarts. It keeps Nova's and Ironic's rules that Shipshape
 * depends on (a fence is lifted only once the host's nova-compute has
 * restarted after an evacuation; a forced-down service reads down), and
 * `scene` hooks let a test act as the person or the outage at exact points.
 * The real activities run on top of it, on the real Temporal dev server.
 */
import { FailureType } from '../../domain/errors';
import {
  PermanentProviderError,
  type ComputeFleetFacts,
  type FleetProvider,
  type MoveKind,
  type MoveStatus,
  type ServerLocation,
} from '../../domain/provider';
import type { HostUtilisation } from '../../domain/telemetry';
import type { HostState, InventoryHost, ServerRef } from '../../domain/types';

export interface ScriptedHost {
  zone: string;
  power: 'on' | 'off';
  /** nova-compute is running on the host (it reports to Nova). */
  serviceRunning: boolean;
  enabled: boolean;
  disabledReason: string | null;
  forcedDown: boolean;
  maintenance: { reason: string | null; fault: string | null } | null;
  /** A hardware fault the host reports (it still runs, so its servers can live-migrate). */
  fault: string | null;
  /** What a power cycle does to the host: brings nova-compute back, or not. */
  powerCycleFixes: boolean;
}

interface Move {
  id: string;
  server: string;
  kind: MoveKind;
  source: string;
  dest: string;
  doneAt: number;
  /** Nova's evacuation record: 'done' once rebuilt elsewhere, 'completed' once the source's nova-compute has restarted. */
  status: 'running' | 'done' | 'completed';
}

/** Points where a test acts as a person or an outage. Throwing from one makes the provider call fail with that error. */
export interface Scene {
  /** A server move was requested. */
  moveStarted?(server: string, fleet: ScriptedFleet): void;
  /** A server move finished (the server is on its new host). */
  moveFinished?(server: string, fleet: ScriptedFleet): void;
  /** A power cycle or reboot is about to be requested. */
  beforePowerAction?(host: string, fleet: ScriptedFleet): void;
}

export class ScriptedFleet implements FleetProvider {
  readonly name = 'scripted';
  readonly hosts = new Map<string, ScriptedHost>();
  /** Server → host. */
  readonly servers = new Map<string, string>();
  readonly moves: Move[] = [];
  /** Every disruptive request the provider took, in order: what a test asserts was (not) done. */
  readonly actions: string[] = [];
  scene: Scene = {};
  moveMs = 300;
  powerOnMs = 300;
  private powerOnAt = new Map<string, number>();

  /** `zones`: zone → its hosts; every host starts healthy and in service with `serversPerHost` servers. */
  constructor(zones: Record<string, string[]>, serversPerHost: number) {
    for (const [zone, hosts] of Object.entries(zones)) {
      for (const h of hosts) {
        this.hosts.set(h, {
          zone,
          power: 'on',
          serviceRunning: true,
          enabled: true,
          disabledReason: null,
          forcedDown: false,
          maintenance: null,
          fault: null,
          powerCycleFixes: true,
        });
        for (let i = 1; i <= serversPerHost; i++) this.servers.set(`${h}-vm${i}`, h);
      }
    }
  }

  host(id: string): ScriptedHost {
    const h = this.hosts.get(id);
    if (!h) throw new PermanentProviderError(FailureType.UnknownHost, `no host ${id}`);
    return h;
  }

  /** The host broke: nova-compute stops reporting (and, with `off`, the host is powered off). */
  breakHost(id: string, opts: { off?: boolean } = {}): void {
    const h = this.host(id);
    h.serviceRunning = false;
    if (opts.off) h.power = 'off';
  }

  serversOn(host: string): string[] {
    this.settle();
    return [...this.servers]
      .filter(([, h]) => h === host)
      .map(([s]) => s)
      .sort();
  }

  private settle(): void {
    const now = Date.now();
    for (const m of this.moves) {
      if (m.status === 'running' && m.doneAt <= now) {
        m.status = m.kind === 'evacuate' ? 'done' : 'completed';
        this.servers.set(m.server, m.dest);
        this.scene.moveFinished?.(m.server, this);
      }
    }
    for (const [id, at] of this.powerOnAt) {
      if (at > now) continue;
      this.powerOnAt.delete(id);
      const h = this.host(id);
      h.power = 'on';
      if (!h.powerCycleFixes) continue;
      h.fault = null;
      this.computeRestarted(id);
    }
  }

  /** nova-compute started on the host: as Nova does, evacuations from it are cleaned up. */
  private computeRestarted(id: string): void {
    this.host(id).serviceRunning = true;
    for (const m of this.moves) if (m.source === id && m.status === 'done') m.status = 'completed';
  }

  async listHosts(): Promise<InventoryHost[]> {
    return [...this.hosts].map(([id, h]) => ({ id, zone: h.zone, roles: ['compute'], bmc: null }));
  }

  async readHostState(id: string): Promise<HostState> {
    this.settle();
    const h = this.host(id);
    const up = h.serviceRunning && h.power === 'on' && !h.forcedDown;
    const reasons = [
      ...(up ? [] : [h.forcedDown ? 'nova-compute forced down' : 'nova-compute down']),
      ...(h.fault ? [h.fault] : []),
    ];
    return {
      host: id,
      power: h.power,
      health: reasons.length ? 'critical' : 'ok',
      healthReasons: reasons,
      compute: { enabled: h.enabled, up, disabledReason: h.disabledReason },
      maintenance: h.maintenance,
      serverCount: this.serversOn(id).length,
    };
  }

  async disableCompute(id: string, reason: string): Promise<void> {
    Object.assign(this.host(id), { enabled: false, disabledReason: reason });
  }

  async enableCompute(id: string): Promise<void> {
    this.actions.push(`enable ${id}`);
    Object.assign(this.host(id), { enabled: true, disabledReason: null });
  }

  async listServersOnHost(id: string): Promise<ServerRef[]> {
    return this.serversOn(id).map((s) => ({ id: s, name: s, host: id }));
  }

  async locateServer(serverId: string): Promise<ServerLocation> {
    this.settle();
    const host = this.servers.get(serverId);
    if (!host) throw new PermanentProviderError(FailureType.ProviderRejected, `server ${serverId} does not exist`);
    const running = this.moves.find((m) => m.server === serverId && m.status === 'running');
    return { id: serverId, host, activeMoveId: running?.id ?? null };
  }

  async startServerMove(serverId: string, kind: MoveKind = 'live'): Promise<string> {
    const source = (await this.locateServer(serverId)).host;
    const src = this.host(source);
    if (kind === 'evacuate' && !src.forcedDown && src.serviceRunning) {
      throw new PermanentProviderError(
        FailureType.MigrationFailed,
        `Compute service of ${source} is still in use (not forced down)`,
      );
    }
    const dest = [...this.hosts].find(
      ([id, h]) => id !== source && h.zone === src.zone && h.enabled && h.serviceRunning && !h.forcedDown,
    )?.[0];
    if (!dest) throw new PermanentProviderError(FailureType.NoValidHost, `no valid host for ${serverId}`);
    const move: Move = {
      id: `m${this.moves.length + 1}`,
      server: serverId,
      kind,
      source,
      dest,
      doneAt: Date.now() + this.moveMs,
      status: 'running',
    };
    this.moves.push(move);
    this.actions.push(`${kind} ${serverId}`);
    this.scene.moveStarted?.(serverId, this);
    return move.id;
  }

  async getServerMove(moveId: string): Promise<MoveStatus> {
    this.settle();
    const m = this.moves.find((x) => x.id === moveId);
    if (!m) throw new PermanentProviderError(FailureType.ProviderRejected, `no move ${moveId}`);
    return { id: m.id, status: m.status === 'running' ? 'running' : 'completed', destination: m.dest, error: null };
  }

  private powerAction(id: string, kind: string): void {
    this.scene.beforePowerAction?.(id, this);
    this.actions.push(`${kind} ${id}`);
    this.host(id).power = 'off';
    this.powerOnAt.set(id, Date.now() + this.powerOnMs);
  }

  async requestPowerCycle(id: string): Promise<void> {
    this.powerAction(id, 'power-cycle');
  }

  async requestReboot(id: string): Promise<void> {
    this.powerAction(id, 'reboot');
  }

  async restartComputeService(id: string): Promise<void> {
    throw new PermanentProviderError(
      FailureType.ProviderRejected,
      `restarting nova-compute on ${id} is not possible through this cloud's APIs`,
    );
  }

  /** Nova's rule: the fence cannot be lifted while evacuations from the host wait for its nova-compute to restart. */
  async setFenced(id: string, fenced: boolean): Promise<void> {
    const h = this.host(id);
    if (!fenced && this.moves.some((m) => m.source === id && m.status === 'done')) {
      throw new PermanentProviderError(
        FailureType.ProviderRejected,
        `Unable to force up host ${id}: 'done' evacuation migration records remain`,
      );
    }
    this.actions.push(`${fenced ? 'fence' : 'unfence'} ${id}`);
    h.forcedDown = fenced;
  }

  async readUtilisation(): Promise<HostUtilisation> {
    return { vcpus: { used: 0, total: 0 }, ramMiB: { used: 0, total: 0 }, diskGiB: { used: 0, total: 0 }, agents: [] };
  }

  /** Every scripted host: its service as scripted, one aggregate per zone, one hypervisor version. */
  async readComputeFleet(): Promise<ComputeFleetFacts> {
    const hosts: ComputeFleetFacts['hosts'] = {};
    for (const [id, h] of this.hosts)
      hosts[id] = {
        computeService: { enabled: h.enabled, up: h.serviceRunning && !h.forcedDown, disabledReason: h.disabledReason },
        zones: [h.zone],
        aggregates: [h.zone],
        hypervisorVersion: '8002000',
      };
    return { readAt: new Date().toISOString(), hosts };
  }
}
