/**
 * What reclaim needs of a cloud (issue 14): its tenant resources and
 * projects, the owners of a project, and the steps on a resource. The
 * OpenStack provider implements it over Nova, Cinder, Neutron, Glance and
 * Keystone; the simulated one over an in-memory cloud (benchmarks, the demo).
 */
import type { Capacity, ReclaimAction, ResourceKind, TenantResource } from './reclaim';

export interface ProjectInfo {
  id: string;
  name: string;
  domainId: string | null;
  domainName: string | null;
}

export interface ResourceKey {
  kind: ResourceKind;
  id: string;
}

export interface TenantCloud {
  readonly name: string;
  /** Every resource of these kinds across all projects, and the projects. */
  listResources(kinds: readonly ResourceKind[]): Promise<{ resources: TenantResource[]; projects: ProjectInfo[] }>;
  /** One project, for a re-check's scope (its name and domain); null when the cloud does not know it. */
  project(id: string): Promise<ProjectInfo | null>;
  /** One resource read again; null when it is gone. */
  readResource(key: ResourceKey): Promise<TenantResource | null>;
  /** The e-mail addresses of the users holding `role` on the project (Keystone role assignments). */
  projectContacts(projectId: string, role: string): Promise<string[]>;
  /** The domain's fallback contact, when it has one. */
  domainContact(projectId: string): Promise<string | null>;
  /** The reversible step: what it leaves to restore from. */
  reversibleStep(key: ResourceKey, action: ReclaimAction, snapshotFirst: boolean): Promise<Record<string, string>>;
  /** Undo the reversible step. */
  restore(key: ResourceKey, action: ReclaimAction, restorePoint: Record<string, string> | null): Promise<void>;
  /** Delete or release: what was freed. */
  remove(key: ResourceKey, action: ReclaimAction, restorePoint: Record<string, string> | null): Promise<Capacity>;
}
