/**
 * The one interface every fleet provider implements, in domain words: the
 * simulated fleet (providers/simulated/) and OpenStack (providers/openstack/).
 * BMCs are not providers: Redfish and the simulated BMCs are reached through
 * providers/bmc.ts. Workflows never see a provider: activities call it, and
 * workers/composition.ts picks the one the configuration names.
 */
import type { LadderAction, RepairAction } from './remediation';
import type { HostUtilisation } from './telemetry';
import type { HostState, InventoryHost, ServerRef } from './types';

export interface ServerLocation {
  id: string;
  host: string;
  /** The move in flight for this server, if any (Nova: an in-progress live migration). */
  activeMoveId: string | null;
}

/** live migration; cold migration (stop, move, confirm); evacuation (rebuild elsewhere from a host that is down). */
export type MoveKind = 'live' | 'cold' | 'evacuate';

export interface MoveStatus {
  id: string;
  status: 'running' | 'completed' | 'failed';
  destination: string | null;
  error: string | null;
}

/** What the cloud says of one compute host, for compliance rules of kind `openstack`. */
export interface ComputeHostFacts {
  /** The host's nova-compute service; null when it has none. */
  computeService: { enabled: boolean; up: boolean; disabledReason: string | null } | null;
  /** Availability zones the host is in (Nova: its aggregates' zones, else the service's zone). */
  zones: string[];
  /** Host aggregates the host is in, by name. */
  aggregates: string[];
  /** The hypervisor's version as the cloud reports it (Nova: an integer such as 8002000 for 8.2.0); null: none. */
  hypervisorVersion: string | null;
}

/** Every compute host's facts, read at once: a scan of 1,000 hosts asks the cloud a few times, not 1,000. */
export interface ComputeFleetFacts {
  /** When it was read (ISO 8601). */
  readAt: string;
  /** By host name, as the inventory names hosts. */
  hosts: Record<string, ComputeHostFacts>;
}

export interface FleetProvider {
  readonly name: string;
  listHosts(): Promise<InventoryHost[]>;
  /** Re-read the host's real state from the provider (never from a cache). */
  readHostState(host: string): Promise<HostState>;
  disableCompute(host: string, reason: string): Promise<void>;
  enableCompute(host: string): Promise<void>;
  listServersOnHost(host: string): Promise<ServerRef[]>;
  locateServer(serverId: string): Promise<ServerLocation>;
  /**
   * Ask the scheduler to move a server elsewhere: a live migration, or a cold
   * migration (the server is stopped, moved and confirmed); returns the move's id.
   */
  startServerMove(serverId: string, kind?: MoveKind): Promise<string>;
  getServerMove(moveId: string): Promise<MoveStatus>;
  /** Request a power cycle; completion is observed through readHostState. */
  requestPowerCycle(host: string): Promise<void>;
  /** Request a graceful reboot; completion is observed through readHostState. */
  requestReboot(host: string): Promise<void>;
  restartComputeService(host: string): Promise<void>;
  /** Fence a host that is down (Nova: forced_down), so its servers can be evacuated; and lift it. */
  setFenced(host: string, fenced: boolean): Promise<void>;
  /** Capacity and what is allocated of it (vCPU, RAM, disk), and the status of the host's agents. */
  readUtilisation(host: string): Promise<HostUtilisation>;
  /** The compute service, zones, aggregates and hypervisor version of every compute host, in one reading. */
  readComputeFleet(): Promise<ComputeFleetFacts>;
}

/** A provider error that retrying cannot fix (unknown host, no valid host, ...). */
export class PermanentProviderError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentProviderError';
  }
}

/**
 * The repair actions a provider cannot take, and why. A policy that lists one
 * is refused when it is loaded, not discovered at 3 a.m. when its ladder
 * reaches the step. Providers not listed can take every action.
 */
const CANNOT: Readonly<Record<string, Partial<Record<RepairAction, string>>>> = {
  openstack: {
    'restart-compute-service':
      "restarting nova-compute needs a shell on the host, which OpenStack's APIs do not give; drop the step (power-cycle and reboot work through Ironic)",
  },
};

/** Why `provider` cannot take a ladder step's action; null when it can. */
export function stepRefusal(provider: string, action: LadderAction): string | null {
  const why = (CANNOT[provider] as Partial<Record<string, string>> | undefined)?.[action];
  return why ? `the ${provider} provider cannot take this step: ${why}` : null;
}
