/**
 * A simulated cloud's tenant resources, in memory, for reclaim's benchmark,
 * the demo and the workflow's integration tests: projects with owners,
 * servers, volumes, snapshots, images, floating IPs and ports — some unused
 * for a long time, most in use — and the steps reclaim takes on them. The
 * same seed gives the same cloud.
 */
import type { Capacity, ReclaimAction, ResourceKind, TenantResource } from '../../domain/reclaim';
import { NO_CAPACITY } from '../../domain/reclaim';
import type { ProjectInfo, ResourceKey, TenantCloud } from '../../domain/reclaim-cloud';

export interface TenantSeed {
  projects: number;
  servers: number;
  volumes: number;
  floatingIps: number;
  ports?: number;
  images?: number;
  snapshots?: number;
  /** Share of each kind left unused for long (0–1). */
  waste: number;
  /** The seed's "now": unused resources stopped 10–120 days before it. */
  now: Date;
  seed?: number;
}

/** A small deterministic PRNG (mulberry32): the same seed, the same cloud. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SimulatedTenantCloud implements TenantCloud {
  readonly name = 'simulated';
  private readonly resources = new Map<string, TenantResource>();
  private readonly projects: ProjectInfo[];
  private readonly owners = new Map<string, string[]>();
  /** What each reversible step took away, to restore it. */
  private readonly parked = new Map<string, TenantResource>();
  /** Every step taken, in order: what tests count. */
  readonly steps: Array<{ step: 'reversible' | 'restore' | 'remove'; key: string; action: ReclaimAction }> = [];

  constructor(seed: TenantSeed) {
    const rnd = random(seed.seed ?? 42);
    const day = 86_400_000;
    const ago = (days: number) => new Date(seed.now.getTime() - days * day).toISOString();
    this.projects = Array.from({ length: seed.projects }, (_, i) => ({
      id: `proj-${String(i + 1).padStart(3, '0')}`,
      name: `project-${i + 1}`,
      domainId: i % 5 === 0 ? 'research' : 'default',
      domainName: i % 5 === 0 ? 'research' : 'Default',
    }));
    this.projects.forEach((p, i) => this.owners.set(p.id, i % 7 === 6 ? [] : [`owner-${i + 1}@example.org`]));
    const project = () => this.projects[Math.floor(rnd() * this.projects.length)]!;
    const unused = () => rnd() < seed.waste;
    const add = (r: Omit<TenantResource, 'domainId' | 'tags' | 'metadata'> & Partial<TenantResource>) => {
      const p = this.projects.find((x) => x.id === r.projectId)!;
      this.resources.set(`${r.kind}/${r.id}`, { domainId: p.domainId, tags: [], metadata: {}, ...r });
    };
    const servers: string[] = [];
    for (let i = 0; i < seed.servers; i++) {
      const id = `srv-${i + 1}`;
      const idle = unused();
      servers.push(id);
      add({
        kind: 'server',
        id,
        name: `vm-${i + 1}`,
        projectId: project().id,
        status: idle ? (['SHUTOFF', 'SUSPENDED', 'PAUSED'] as const)[i % 3]! : 'ACTIVE',
        statusSince: idle ? ago(10 + Math.floor(rnd() * 110)) : ago(1),
        createdAt: ago(200),
        usedBy: [],
        capacity: { vcpus: 2 ** (i % 4), ramMb: 2048 * 2 ** (i % 4), diskGb: 20 * (1 + (i % 4)), ips: 0 },
        ...(i % 50 === 7 ? { tags: ['shipshape:keep'] } : {}),
      });
    }
    for (let i = 0; i < seed.volumes; i++) {
      const idle = unused();
      add({
        kind: 'volume',
        id: `vol-${i + 1}`,
        name: `data-${i + 1}`,
        projectId: project().id,
        status: idle ? 'available' : 'in-use',
        statusSince: idle ? ago(10 + Math.floor(rnd() * 110)) : ago(3),
        createdAt: ago(300),
        usedBy: idle || servers.length === 0 ? [] : [servers[i % servers.length]!],
        capacity: { ...NO_CAPACITY, diskGb: 10 * (1 + (i % 10)) },
      });
    }
    for (let i = 0; i < seed.floatingIps; i++) {
      const idle = unused();
      add({
        kind: 'floating-ip',
        id: `fip-${i + 1}`,
        name: `203.0.113.${i % 250}`,
        projectId: project().id,
        status: idle ? 'DOWN' : 'ACTIVE',
        statusSince: idle ? ago(2 + Math.floor(rnd() * 60)) : ago(5),
        createdAt: ago(100),
        usedBy: idle ? [] : [`port-of-${i + 1}`],
        capacity: { ...NO_CAPACITY, ips: 1 },
      });
    }
    const others: Array<[ResourceKind, number, string]> = [
      ['port', seed.ports ?? 0, 'port'],
      ['image', seed.images ?? 0, 'img'],
      ['volume-snapshot', seed.snapshots ?? 0, 'snap'],
    ];
    for (const [kind, count, prefix] of others)
      for (let i = 0; i < count; i++) {
        const idle = unused();
        add({
          kind,
          id: `${prefix}-${i + 1}`,
          name: `${prefix}-${i + 1}`,
          projectId: project().id,
          status: kind === 'port' ? (idle ? 'DOWN' : 'ACTIVE') : kind === 'image' ? 'active' : 'available',
          statusSince: ago(idle ? 60 + Math.floor(rnd() * 60) : 2),
          createdAt: ago(idle ? 200 : 5),
          usedBy: idle ? [] : [`srv-${1 + (i % Math.max(1, seed.servers))}`],
          capacity: { ...NO_CAPACITY, diskGb: kind === 'port' ? 0 : 5, ips: kind === 'port' ? 1 : 0 },
        });
      }
  }

  /** Change a resource as its owner would (start it, attach it): what a re-check then sees. */
  touch(key: ResourceKey, change: Partial<TenantResource>): void {
    const r = this.resources.get(`${key.kind}/${key.id}`);
    if (!r) throw new Error(`no ${key.kind} ${key.id}`);
    this.resources.set(`${key.kind}/${key.id}`, { ...r, ...change });
  }

  async listResources(kinds: readonly ResourceKind[]) {
    return {
      resources: [...this.resources.values()].filter((r) => kinds.includes(r.kind)),
      projects: this.projects,
    };
  }

  async project(id: string): Promise<ProjectInfo | null> {
    return this.projects.find((p) => p.id === id) ?? null;
  }

  async readResource(key: ResourceKey): Promise<TenantResource | null> {
    return this.resources.get(`${key.kind}/${key.id}`) ?? null;
  }

  async projectContacts(projectId: string): Promise<string[]> {
    return this.owners.get(projectId) ?? [];
  }

  async domainContact(projectId: string): Promise<string | null> {
    const p = this.projects.find((x) => x.id === projectId);
    return p ? `cloud-admins+${p.domainName ?? 'default'}@example.org`.toLowerCase() : null;
  }

  async reversibleStep(key: ResourceKey, action: ReclaimAction): Promise<Record<string, string>> {
    const k = `${key.kind}/${key.id}`;
    const r = this.resources.get(k);
    if (!r) throw new Error(`${key.kind} ${key.id} is gone`);
    this.steps.push({ step: 'reversible', key: k, action });
    this.parked.set(k, r);
    if (action === 'shelve')
      this.resources.set(k, { ...r, status: 'SHELVED_OFFLOADED', statusSince: new Date().toISOString() });
    else if (action === 'stop-and-lock')
      this.resources.set(k, { ...r, status: 'SHUTOFF', metadata: { ...r.metadata, locked: 'true' } });
    else if (action === 'snapshot-and-delete') {
      this.resources.delete(k);
      return { snapshotId: `snap-of-${key.id}` };
    }
    return {};
  }

  async restore(key: ResourceKey): Promise<void> {
    const k = `${key.kind}/${key.id}`;
    const before = this.parked.get(k);
    if (!before) throw new Error(`nothing to restore for ${k}`);
    this.steps.push({ step: 'restore', key: k, action: 'shelve' });
    this.resources.set(k, { ...before, status: key.kind === 'server' ? 'ACTIVE' : before.status });
    this.parked.delete(k);
  }

  async remove(key: ResourceKey, action: ReclaimAction): Promise<Capacity> {
    const k = `${key.kind}/${key.id}`;
    const r = this.resources.get(k) ?? this.parked.get(k);
    if (!r) throw new Error(`${key.kind} ${key.id} is gone`);
    this.steps.push({ step: 'remove', key: k, action });
    this.resources.delete(k);
    this.parked.delete(k);
    return r.capacity;
  }
}
