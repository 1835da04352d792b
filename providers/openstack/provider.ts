/**
 * The OpenStack provider: real hypervisors through Nova, Placement, Ironic,
 * Neutron and Cinder, behind the same interface as the simulated fleet.
 *
 * - Take-out: nova-compute disabled with the `shipshape:` reason, and the
 *   host's Neutron agents (admin_state_up false) and Cinder services
 *   (disabled with the reason) when it has the network or storage role.
 * - Moves: live migration with the scheduler choosing the target
 *   (`host: null`, `block_migration: "auto"`), tracked through the server and
 *   the migrations API. A move requested but not yet recorded by Nova is
 *   found again from the server's task state, so a worker restart never
 *   issues a second one.
 * - Power: through Ironic when the host is an Ironic node (by node name, or
 *   `extra.shipshape_host`): a power cycle is power off, seen off, power on.
 * - Zones: a host aggregate's `shipshape_zone` metadata, else the
 *   nova-compute service's availability zone.
 * - BMCs: a Redfish BMC in the node's driver_info, with the credentials
 *   reference the node's `extra.shipshape_bmc_credentials` names, else the
 *   fleet-wide one (Ironic masks passwords; only the worker resolves names).
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
import type { AgentStatus, HostUtilisation } from '../../domain/telemetry';
import type { BmcEndpoint, HostRole, HostState, InventoryHost, ServerRef } from '../../domain/types';
import { CREDENTIALS_NAME } from '../redfish/credentials';
import type { CloudConfig } from './cloud-config';
import { computeFleetFacts } from './compute-fleet';
import * as os from './schemas';
import { OpenStackError, OpenStackSession, parseAnswer } from './session';
import type { z } from 'zod';

/** Compute API microversions: 2.53 for service UUIDs and PUT /os-services/{id}; up to 2.90 is used. */
const NOVA_MIN = [2, 53] as const;
const NOVA_MAX = [2, 90] as const;
const IRONIC = { 'X-OpenStack-Ironic-API-Version': '1.46' };
const PLACEMENT = { 'OpenStack-API-Version': 'placement 1.10' };
/** A host missing from the last listing of Ironic nodes is looked for again once the listing is this old. */
const NODE_LISTING_MAX_AGE_MS = 60_000;
/**
 * Updates of a nova-compute service (disable, enable, force down) get this
 * long whatever api_timeout says: on a host that has just died Nova answers
 * them only after its RPC to the host times out (38–40 s measured).
 */
const SERVICE_UPDATE_TIMEOUT_MS = 120_000;
/** How long a requested live migration may go unrecorded by Nova before it counts as not started. */
const UNRECORDED_MOVE_MS = 60_000;
/** The Ironic node `extra` key naming the node's own BMC credentials entry. */
export const NODE_CREDENTIALS_KEY = 'shipshape_bmc_credentials';

type Node = z.infer<typeof os.ironicNode>;

function parseVersion(v: string): [number, number] {
  const [a, b] = v.split('.').map(Number);
  return [a ?? 0, b ?? 0];
}
const older = (a: readonly [number, number], b: readonly [number, number]) =>
  a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

export interface OpenStackOptions {
  /** The credentials reference given to BMCs found in Ironic's driver_info, unless the node names its own. */
  bmcCredentialsRef?: string | null;
}

export class OpenStackProvider implements FleetProvider {
  readonly name = 'openstack';
  readonly session: OpenStackSession;
  private novaVersion: string | null = null;
  /** Host → Ironic node UUID, from the last listing of every node. */
  private readonly nodeOfHost = new Map<string, string>();
  private nodesListedAt = 0;

  constructor(
    cloud: CloudConfig | OpenStackSession,
    private readonly options: OpenStackOptions = {},
  ) {
    this.session = cloud instanceof OpenStackSession ? cloud : new OpenStackSession(cloud);
  }

  // ---- plumbing ---------------------------------------------------------

  /** Negotiate the compute microversion once: the highest both sides know, at least 2.53. */
  private async novaHeaders(): Promise<Record<string, string>> {
    if (!this.novaVersion) {
      const root = await this.session.call('compute', 'GET', '/', os.versionsSchema);
      const max = root.version?.version ?? root.versions?.find((v) => v.status === 'CURRENT')?.version ?? null;
      if (!max)
        throw new OpenStackError(
          'compute: GET /: the API names no microversion (2.53 or later is needed)',
          null,
          false,
          null,
        );
      const server = parseVersion(max);
      if (older(server, NOVA_MIN)) {
        throw new OpenStackError(
          `compute: the cloud's maximum microversion is ${max}; Shipshape needs 2.53 or later`,
          null,
          false,
          null,
        );
      }
      const use = older(server, NOVA_MAX) ? server : NOVA_MAX;
      this.novaVersion = `${use[0]}.${use[1]}`;
    }
    return { 'X-OpenStack-Nova-API-Version': this.novaVersion, 'OpenStack-API-Version': `compute ${this.novaVersion}` };
  }

  private async nova<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.infer<S>> {
    return this.session.call('compute', method, path, schema, { headers: await this.novaHeaders(), body });
  }

  /** Update the host's nova-compute service (status, reason, forced_down), with the deadline such updates need. */
  private async updateComputeService(serviceId: string | number, change: Record<string, unknown>): Promise<void> {
    await this.session.call('compute', 'PUT', `/os-services/${serviceId}`, os.computeServiceAnswer, {
      headers: await this.novaHeaders(),
      body: change,
      minTimeoutMs: SERVICE_UPDATE_TIMEOUT_MS,
    });
  }

  /** A service the cloud does not run (no endpoint in the catalog) is simply absent. */
  private async optional<T>(serviceType: string, read: () => Promise<T>, absent: T): Promise<T> {
    return (await this.session.hasEndpoint(serviceType)) ? read() : absent;
  }

  /** The host's nova-compute service; an unknown host is a permanent error. */
  private async computeService(host: string): Promise<z.infer<typeof os.computeService>> {
    const { services } = await this.nova(
      'GET',
      `/os-services?binary=nova-compute&host=${encodeURIComponent(host)}`,
      os.computeServices,
    );
    const svc = services.find((s) => s.host === host);
    if (!svc) throw new PermanentProviderError(FailureType.UnknownHost, `no nova-compute service on host ${host}`);
    return svc;
  }

  private async hypervisor(host: string): Promise<z.infer<typeof os.hypervisor> | null> {
    const { hypervisors } = await this.nova(
      'GET',
      `/os-hypervisors?hypervisor_hostname_pattern=${encodeURIComponent(host)}&with_servers=true`,
      os.hypervisors,
    );
    return hypervisors.find((h) => h.service?.host === host || h.hypervisor_hostname === host) ?? null;
  }

  private async ironicNodes(): Promise<Node[]> {
    return this.optional(
      'baremetal',
      async () => {
        const out: Node[] = [];
        let path: string | undefined = '/v1/nodes?detail=true&limit=200';
        while (path) {
          const page: z.infer<typeof os.ironicNodes> = await this.session.call(
            'baremetal',
            'GET',
            path,
            os.ironicNodes,
            { headers: IRONIC },
          );
          out.push(...page.nodes);
          path = page.next && (await this.session.link('baremetal', page.next, 'the next link of GET /v1/nodes')).href;
        }
        return out;
      },
      [],
    );
  }

  /**
   * The host's Ironic node, read by its UUID. Which node belongs to which
   * host comes from listing every node, done again only when a host is not
   * in the last listing and that listing is a minute old: state is read
   * often (every poll of a power action), the whole node list is not.
   */
  private async nodeFor(host: string): Promise<Node | null> {
    let uuid = this.nodeOfHost.get(host);
    if (uuid === undefined && Date.now() - this.nodesListedAt > NODE_LISTING_MAX_AGE_MS) {
      this.rememberNodes(await this.ironicNodes());
      uuid = this.nodeOfHost.get(host);
    }
    if (!uuid) return null;
    const res = await this.session.request('baremetal', 'GET', `/v1/nodes/${uuid}`, { headers: IRONIC, accept: [404] });
    if (res.status === 404) {
      this.nodeOfHost.delete(host); // the node was deleted or re-enrolled: look again next time
      this.nodesListedAt = 0;
      return null;
    }
    return parseAnswer(os.ironicNode, res.body, `baremetal: GET /v1/nodes/${uuid}`);
  }

  private rememberNodes(nodes: Node[]): void {
    this.nodeOfHost.clear();
    for (const n of nodes) {
      const host = typeof n.extra?.shipshape_host === 'string' ? n.extra.shipshape_host : n.name;
      if (host) this.nodeOfHost.set(host, n.uuid);
      if (n.name && n.name !== host && !this.nodeOfHost.has(n.name)) this.nodeOfHost.set(n.name, n.uuid);
    }
    this.nodesListedAt = Date.now();
  }

  private async requireNode(host: string): Promise<Node> {
    const node = await this.nodeFor(host);
    if (!node)
      throw new PermanentProviderError(
        FailureType.ProviderRejected,
        `host ${host} is not an Ironic node (by name or extra.shipshape_host): no power control`,
      );
    return node;
  }

  private async neutronAgents(host: string) {
    return this.optional(
      'network',
      async () =>
        (await this.session.call('network', 'GET', `/v2.0/agents?host=${encodeURIComponent(host)}`, os.neutronAgents))
          .agents,
      [],
    );
  }

  private async cinderServices(host: string) {
    const type = await this.blockStorageType();
    if (!type) return [];
    const { services } = await this.session.call(
      type,
      'GET',
      `/os-services?host=${encodeURIComponent(host)}`,
      os.cinderServices,
    );
    return services.filter((s) => s.host === host || s.host.startsWith(`${host}@`));
  }

  private async blockStorageType(): Promise<string | null> {
    for (const t of ['block-storage', 'volumev3']) {
      if (await this.session.hasEndpoint(t)) return t;
    }
    return null;
  }

  // ---- inventory and state ---------------------------------------------

  /** Host → zone from host aggregates tagged with the metadata `shipshape_zone`; they win over availability zones. */
  private async aggregateZones(): Promise<Map<string, string>> {
    const { aggregates } = await this.nova('GET', '/os-aggregates', os.aggregates);
    const zones = new Map<string, string>();
    for (const a of aggregates) {
      const zone = a.metadata?.shipshape_zone;
      if (typeof zone === 'string' && zone) for (const h of a.hosts) zones.set(h, zone);
    }
    return zones;
  }

  async listHosts(): Promise<InventoryHost[]> {
    const { services } = await this.nova('GET', '/os-services?binary=nova-compute', os.computeServices);
    const [nodes, tagged] = await Promise.all([this.ironicNodes(), this.aggregateZones()]);
    this.rememberNodes(nodes);
    const hosts = new Map<string, InventoryHost>();
    for (const s of services) {
      const node = nodes.find((n) => n.name === s.host || n.extra?.shipshape_host === s.host) ?? null;
      hosts.set(s.host, {
        id: s.host,
        zone: tagged.get(s.host) ?? s.zone ?? 'nova',
        roles: ['compute'],
        bmc: node ? this.bmcOf(node) : null,
      });
    }
    const { agents } = await this.optional(
      'network',
      () => this.session.call('network', 'GET', '/v2.0/agents', os.neutronAgents),
      { agents: [] },
    );
    for (const a of agents) this.addRole(hosts, a.host, 'network', nodes);
    const storage = await this.blockStorageType();
    if (storage) {
      const { services: volumes } = await this.session.call(
        storage,
        'GET',
        '/os-services?binary=cinder-volume',
        os.cinderServices,
      );
      for (const v of volumes)
        this.addRole(hosts, v.host.split('@')[0] as string, 'storage', nodes, v.zone ?? undefined);
    }
    return [...hosts.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * Every compute host's service, aggregates, zones and hypervisor version: three listings (os-services,
   * os-aggregates, os-hypervisors/detail, paged) for the whole fleet, however many hosts it has.
   */
  async readComputeFleet(): Promise<ComputeFleetFacts> {
    const [{ services }, { aggregates }, hypervisors] = await Promise.all([
      this.nova('GET', '/os-services?binary=nova-compute', os.computeServices),
      this.nova('GET', '/os-aggregates', os.aggregates),
      this.hypervisorsWithVersions(),
    ]);
    return computeFleetFacts(services, aggregates, hypervisors, new Date());
  }

  private async hypervisorsWithVersions(): Promise<z.infer<typeof os.hypervisorVersioned>[]> {
    const out: z.infer<typeof os.hypervisorVersioned>[] = [];
    let path: string | undefined = '/os-hypervisors/detail?limit=1000';
    while (path) {
      const page: z.infer<typeof os.hypervisorsDetail> = await this.nova('GET', path, os.hypervisorsDetail);
      out.push(...page.hypervisors);
      const next = page.hypervisors_links?.find((l) => l.rel === 'next')?.href;
      path = next && (await this.session.link('compute', next, 'the next link of GET /os-hypervisors/detail')).href;
    }
    return out;
  }

  private addRole(hosts: Map<string, InventoryHost>, host: string, role: HostRole, nodes: Node[], zone?: string): void {
    const existing = hosts.get(host);
    if (existing) {
      if (!existing.roles.includes(role)) existing.roles.push(role);
      return;
    }
    const node = nodes.find((n) => n.name === host || n.extra?.shipshape_host === host) ?? null;
    hosts.set(host, { id: host, zone: zone ?? 'nova', roles: [role], bmc: node ? this.bmcOf(node) : null });
  }

  /** A Redfish BMC from Ironic's driver_info; Ironic masks the password, so the credentials come by reference. */
  private bmcOf(node: Node): BmcEndpoint | null {
    const info = node.driver_info ?? {};
    const address = typeof info.redfish_address === 'string' ? info.redfish_address : null;
    if (!address) return null;
    return {
      address: /^https?:\/\//.test(address) ? address : `https://${address}`,
      credentialsRef: this.credentialsRefOf(node),
      systemId: typeof info.redfish_system_id === 'string' ? (info.redfish_system_id.split('/').pop() ?? null) : null,
    };
  }

  /**
   * The node's own credentials reference (`extra.shipshape_bmc_credentials`),
   * else the fleet-wide one. Anything there but a credentials name is a
   * non-retryable error naming the node and the field, never the value (it
   * might be a password put in the wrong place): the inventory is left as it was.
   */
  private credentialsRefOf(node: Node): string | null {
    const own = node.extra?.[NODE_CREDENTIALS_KEY];
    if (own === undefined || own === null) return this.options.bmcCredentialsRef ?? null;
    if (typeof own === 'string' && CREDENTIALS_NAME.test(own)) return own;
    throw new OpenStackError(
      `baremetal: node ${node.name ?? node.uuid}: extra.${NODE_CREDENTIALS_KEY} must be the name of a BMC credentials entry (letters, digits, ".", "_", "-"; value not shown)`,
      null,
      false,
      null,
    );
  }

  async readHostState(host: string): Promise<HostState> {
    const svc = await this.computeService(host);
    const [hyp, node] = await Promise.all([this.hypervisor(host), this.nodeFor(host)]);
    const up = svc.state === 'up' && svc.forced_down !== true;
    const power: HostState['power'] = node
      ? node.power_state === 'power on'
        ? 'on'
        : node.power_state === 'power off'
          ? 'off'
          : 'unknown'
      : up
        ? 'on'
        : 'unknown';
    const reasons: string[] = [];
    if (!up) reasons.push(svc.forced_down ? 'nova-compute forced down' : 'nova-compute down');
    if (hyp && hyp.state === 'down') reasons.push('hypervisor down');
    if (node?.maintenance) reasons.push(`Ironic maintenance: ${node.maintenance_reason ?? 'no reason given'}`);
    return {
      host,
      power,
      health: !up || hyp?.state === 'down' ? 'critical' : node?.maintenance ? 'warning' : 'ok',
      healthReasons: reasons,
      compute: { enabled: svc.status === 'enabled', up, disabledReason: svc.disabled_reason },
      maintenance: node?.maintenance ? { reason: node.maintenance_reason ?? null, fault: node.fault ?? null } : null,
      serverCount: hyp?.servers?.length ?? (await this.listServersOnHost(host)).length,
    };
  }

  // ---- taking the host out and back ------------------------------------

  /** Disable nova-compute with the reason, and the host's Neutron agents and Cinder services. Already so: nothing is sent. */
  async disableCompute(host: string, reason: string): Promise<void> {
    const svc = await this.computeService(host);
    if (svc.status !== 'disabled' || svc.disabled_reason !== reason) {
      await this.updateComputeService(svc.id, { status: 'disabled', disabled_reason: reason });
    }
    for (const agent of await this.neutronAgents(host)) {
      if (agent.admin_state_up)
        await this.session.request('network', 'PUT', `/v2.0/agents/${agent.id}`, {
          body: { agent: { admin_state_up: false } },
        });
    }
    const storage = await this.blockStorageType();
    for (const s of await this.cinderServices(host)) {
      if (storage && s.status === 'enabled') {
        await this.session.request(storage, 'PUT', '/os-services/disable-log-reason', {
          body: { host: s.host, binary: s.binary, disabled_reason: reason },
        });
      }
    }
  }

  async enableCompute(host: string): Promise<void> {
    const svc = await this.computeService(host);
    if (svc.status !== 'enabled') await this.updateComputeService(svc.id, { status: 'enabled' });
    for (const agent of await this.neutronAgents(host)) {
      if (!agent.admin_state_up)
        await this.session.request('network', 'PUT', `/v2.0/agents/${agent.id}`, {
          body: { agent: { admin_state_up: true } },
        });
    }
    const storage = await this.blockStorageType();
    for (const s of await this.cinderServices(host)) {
      if (storage && s.status === 'disabled')
        await this.session.request(storage, 'PUT', '/os-services/enable', { body: { host: s.host, binary: s.binary } });
    }
  }

  /** Fence a dead host at once (Nova otherwise notices after its service timeout), so its servers can be evacuated. */
  async setFenced(host: string, forcedDown: boolean): Promise<void> {
    const svc = await this.computeService(host);
    if (svc.forced_down !== forcedDown) await this.updateComputeService(svc.id, { forced_down: forcedDown });
  }

  // ---- moving servers ----------------------------------------------------

  async listServersOnHost(host: string): Promise<ServerRef[]> {
    const out: ServerRef[] = [];
    let path: string | undefined = `/servers/detail?all_tenants=1&host=${encodeURIComponent(host)}&limit=1000`;
    while (path) {
      const page: z.infer<typeof os.servers> = await this.nova('GET', path, os.servers);
      for (const s of page.servers) if (s['OS-EXT-SRV-ATTR:host'] === host) out.push({ id: s.id, name: s.name, host });
      const next = page.servers_links?.find((l) => l.rel === 'next')?.href;
      path = next && (await this.session.link('compute', next, 'the next link of GET /servers/detail')).href;
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  private async server(serverId: string): Promise<z.infer<typeof os.server>> {
    const res = await this.session.request('compute', 'GET', `/servers/${serverId}`, {
      headers: await this.novaHeaders(),
      accept: [404],
    });
    if (res.status === 404)
      throw new PermanentProviderError(FailureType.ProviderRejected, `server ${serverId} does not exist`);
    return parseAnswer(os.serverAnswer, res.body, `compute: GET /servers/${serverId}`).server;
  }

  private async migrationsOf(serverId: string, kind: MoveKind): Promise<z.infer<typeof os.migration>[]> {
    const type = kind === 'live' ? 'live-migration' : kind === 'cold' ? 'migration' : 'evacuation';
    const { migrations } = await this.nova(
      'GET',
      `/os-migrations?instance_uuid=${serverId}&migration_type=${type}`,
      os.migrations,
    );
    return migrations.filter((m) => m.instance_uuid === serverId).sort((a, b) => b.id - a.id);
  }

  /**
   * Where the server is, and the move in flight for it: a live or cold
   * migration recorded by Nova, or one requested and not yet recorded (found
   * from the server's task state), so a retried activity never asks twice.
   */
  async locateServer(serverId: string): Promise<ServerLocation> {
    const s = await this.server(serverId);
    const host = s['OS-EXT-SRV-ATTR:host'] ?? '';
    const task = s['OS-EXT-STS:task_state'] ?? '';
    const live = s.status === 'MIGRATING' || task === 'migrating';
    const cold = ['RESIZE', 'VERIFY_RESIZE'].includes(s.status) || task.startsWith('resize_');
    const evacuating = s.status === 'REBUILD' || task.startsWith('rebuild');
    if (!live && !cold && !evacuating) return { id: serverId, host, activeMoveId: null };
    const kind: MoveKind = live ? 'live' : cold ? 'cold' : 'evacuate';
    const running = (await this.migrationsOf(serverId, kind)).find((m) => !isFinal(m.status));
    return {
      id: serverId,
      host,
      activeMoveId: running ? `${serverId}/${kind}/${running.id}` : `${serverId}/${kind}/requested@${Date.now()}`,
    };
  }

  /**
   * Ask the scheduler to move the server anywhere else (live:
   * `block_migration: "auto"`; cold: migrate, then confirm; evacuate: rebuild
   * elsewhere, the host being down and fenced); returns the move's id.
   */
  async startServerMove(serverId: string, kind: MoveKind = 'live'): Promise<string> {
    const where = await this.locateServer(serverId);
    if (where.activeMoveId) return where.activeMoveId;
    const before = (await this.migrationsOf(serverId, kind))[0]?.id ?? 0;
    const res = await this.session.request('compute', 'POST', `/servers/${serverId}/action`, {
      headers: await this.novaHeaders(),
      body:
        kind === 'live'
          ? { 'os-migrateLive': { host: null, block_migration: 'auto' } }
          : kind === 'cold'
            ? { migrate: null }
            : { evacuate: {} },
      accept: [400, 409],
    });
    if (res.status === 400 || res.status === 409) {
      const message = JSON.stringify(res.body);
      if (/no valid host/i.test(message))
        throw new PermanentProviderError(
          FailureType.NoValidHost,
          `no valid host to move server ${serverId} to: ${message}`,
        );
      throw new PermanentProviderError(
        FailureType.MigrationFailed,
        `${kind} migration of ${serverId} refused (HTTP ${res.status}): ${message}`,
      );
    }
    return `${serverId}/${kind}/after-${before}@${Date.now()}`;
  }

  async getServerMove(moveId: string): Promise<MoveStatus> {
    const [serverId, kindText, ref] = moveId.split('/') as [string, string, string];
    const kind: MoveKind = kindText === 'cold' || kindText === 'evacuate' ? kindText : 'live';
    const migrations = await this.migrationsOf(serverId, kind);
    let migration: z.infer<typeof os.migration> | undefined;
    if (/^\d+$/.test(ref)) migration = migrations.find((m) => m.id === Number(ref));
    else {
      // Requested, not yet recorded when the id was made: the first migration after the one known then.
      const after = ref.startsWith('after-') ? Number(ref.slice('after-'.length).split('@')[0]) : 0;
      migration = [...migrations].reverse().find((m) => m.id > after);
      if (!migration) {
        const since = Number(ref.split('@')[1]);
        const where = await this.locateServer(serverId);
        if (!where.activeMoveId && Date.now() - since > 5_000) {
          return {
            id: moveId,
            status: 'failed',
            destination: null,
            error: `${kind} migration of ${serverId} did not start (no migration recorded)`,
          };
        }
        if (Date.now() - since > UNRECORDED_MOVE_MS)
          return {
            id: moveId,
            status: 'failed',
            destination: null,
            error: `Nova recorded no ${kind} migration for ${serverId} within ${UNRECORDED_MOVE_MS / 1000}s`,
          };
        return { id: moveId, status: 'running', destination: null, error: null };
      }
    }
    if (!migration)
      throw new PermanentProviderError(FailureType.ProviderRejected, `migration ${moveId} does not exist`);
    const id = `${serverId}/${kind}/${migration.id}`;
    // A cold migration waits for confirmation once the server is up on the target.
    if (kind === 'cold' && migration.status === 'finished') {
      const s = await this.server(serverId);
      if (s.status === 'VERIFY_RESIZE') {
        await this.session.request('compute', 'POST', `/servers/${serverId}/action`, {
          headers: await this.novaHeaders(),
          body: { confirmResize: null },
          accept: [409],
        });
      }
      return { id, status: 'running', destination: migration.dest_compute, error: null };
    }
    if (['completed', 'confirmed', 'done'].includes(migration.status))
      return { id, status: 'completed', destination: migration.dest_compute, error: null };
    if (isFinal(migration.status)) {
      return {
        id,
        status: 'failed',
        destination: null,
        error: `${kind} migration ${migration.id} ended ${migration.status}${await this.faultOf(serverId, kind)}`,
      };
    }
    return { id, status: 'running', destination: migration.dest_compute, error: null };
  }

  /** Why the last action on a server failed, from its instance actions (the scheduler's "No valid host", a migration error). */
  private async faultOf(serverId: string, kind: MoveKind): Promise<string> {
    try {
      const { body } = await this.session.request('compute', 'GET', `/servers/${serverId}/os-instance-actions`, {
        headers: await this.novaHeaders(),
      });
      const actions =
        (body as { instanceActions?: Array<{ action: string; request_id: string; message?: string | null }> })
          .instanceActions ?? [];
      const last = actions.find(
        (a) => a.action === (kind === 'live' ? 'live-migration' : kind === 'cold' ? 'migrate' : 'evacuate'),
      );
      if (!last) return '';
      const { body: detail } = await this.session.request(
        'compute',
        'GET',
        `/servers/${serverId}/os-instance-actions/${last.request_id}`,
        { headers: await this.novaHeaders() },
      );
      const events =
        (
          detail as {
            instanceAction?: { events?: Array<{ event: string; result: string | null; details?: string | null }> };
          }
        ).instanceAction?.events ?? [];
      const failed = events.find((e) => e.result === 'Error');
      return failed
        ? `: ${failed.event}${failed.details ? `: ${failed.details}` : ''}`
        : last.message
          ? `: ${last.message}`
          : '';
    } catch {
      return '';
    }
  }

  // ---- power (Ironic) ------------------------------------------------------

  private async setPower(node: Node, target: 'power on' | 'power off' | 'rebooting' | 'soft rebooting'): Promise<void> {
    await this.session.request('baremetal', 'PUT', `/v1/nodes/${node.uuid}/states/power`, {
      headers: IRONIC,
      body: { target },
    });
  }

  private async waitForPower(node: Node, state: 'power on' | 'power off', timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await this.session.call('baremetal', 'GET', `/v1/nodes/${node.uuid}`, os.ironicNode, {
        headers: IRONIC,
      });
      if (now.power_state === state && !now.target_power_state) return;
      if (Date.now() > deadline)
        throw new OpenStackError(
          `baremetal: node ${node.name ?? node.uuid} did not reach ${state} within ${timeoutMs / 1000}s`,
          null,
          true,
          null,
        );
      await new Promise((ok) => setTimeout(ok, 1000));
    }
  }

  /** Power off, seen off, power on: a cycle that can be observed in the node's power state. */
  async requestPowerCycle(host: string): Promise<void> {
    const node = await this.requireNode(host);
    if (node.power_state !== 'power off') {
      await this.setPower(node, 'power off');
      await this.waitForPower(node, 'power off');
    }
    await this.setPower(node, 'power on');
  }

  async requestReboot(host: string): Promise<void> {
    await this.setPower(await this.requireNode(host), 'soft rebooting');
  }

  /** Restarting a service needs the host's own service manager: not possible through OpenStack's APIs. */
  async restartComputeService(host: string): Promise<void> {
    throw new PermanentProviderError(
      FailureType.ProviderRejected,
      `restarting nova-compute on ${host} is not possible through OpenStack's APIs`,
    );
  }

  // ---- utilisation -------------------------------------------------------

  async readUtilisation(host: string): Promise<HostUtilisation> {
    const hyp = await this.hypervisor(host);
    const rpName = hyp?.hypervisor_hostname ?? host;
    const { resource_providers: rps } = await this.session.call(
      'placement',
      'GET',
      `/resource_providers?name=${encodeURIComponent(rpName)}`,
      os.resourceProviders,
      { headers: PLACEMENT },
    );
    const rp = rps[0];
    const zero = { used: 0, total: 0 };
    let vcpus = zero;
    let ramMiB = zero;
    let diskGiB = zero;
    if (rp) {
      const [{ inventories }, { usages }] = await Promise.all([
        this.session.call('placement', 'GET', `/resource_providers/${rp.uuid}/inventories`, os.inventories, {
          headers: PLACEMENT,
        }),
        this.session.call('placement', 'GET', `/resource_providers/${rp.uuid}/usages`, os.usages, {
          headers: PLACEMENT,
        }),
      ]);
      const of = (rc: string) => {
        const inv = inventories[rc];
        return {
          used: usages[rc] ?? 0,
          total: inv ? Math.floor((inv.total - inv.reserved) * inv.allocation_ratio) : 0,
        };
      };
      vcpus = of('VCPU');
      ramMiB = of('MEMORY_MB');
      diskGiB = of('DISK_GB');
    }
    const svc = await this.computeService(host);
    const agents: AgentStatus[] = [
      {
        binary: 'nova-compute',
        role: 'compute',
        up: svc.state === 'up' && svc.forced_down !== true,
        enabled: svc.status === 'enabled',
      },
    ];
    for (const a of await this.neutronAgents(host))
      agents.push({ binary: a.binary, role: 'network', up: a.alive, enabled: a.admin_state_up });
    for (const s of await this.cinderServices(host))
      agents.push({ binary: s.binary, role: 'storage', up: s.state === 'up', enabled: s.status === 'enabled' });
    return { vcpus, ramMiB, diskGiB, agents };
  }
}

/** A migration that will not change any more ('finished' is not: a cold migration then waits for confirmation). */
function isFinal(status: string): boolean {
  return ['completed', 'confirmed', 'error', 'failed', 'cancelled', 'aborted', 'done', 'reverted'].includes(status);
}
