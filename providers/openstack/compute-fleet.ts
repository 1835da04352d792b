/**
 * The compute fleet as a compliance scan sees it, from three Nova listings
 * read once for every host: nova-compute services (enabled, up, the reason
 * it was disabled), host aggregates (names and availability zones) and
 * hypervisors (versions). Pure: the provider reads, this puts them together.
 */
import type { z } from 'zod';
import type { ComputeFleetFacts, ComputeHostFacts } from '../../domain/provider';
import type * as os from './schemas';

type Service = z.infer<typeof os.computeService>;
type Aggregate = z.infer<typeof os.aggregates>['aggregates'][number];
type Hypervisor = z.infer<typeof os.hypervisorVersioned>;

/**
 * Every host with a nova-compute service or a hypervisor. A host's zones are
 * the availability zones of its aggregates, else its service's zone (Nova's
 * default zone when no aggregate names one); its hypervisor version is the
 * integer Nova reports, as text.
 */
export function computeFleetFacts(
  services: readonly Service[],
  aggregates: readonly Aggregate[],
  hypervisors: readonly Hypervisor[],
  readAt: Date,
): ComputeFleetFacts {
  const hosts: Record<string, ComputeHostFacts> = {};
  const entry = (host: string): ComputeHostFacts =>
    (hosts[host] ??= { computeService: null, zones: [], aggregates: [], hypervisorVersion: null });

  for (const s of services) {
    if (s.binary !== 'nova-compute') continue;
    entry(s.host).computeService = {
      enabled: s.status === 'enabled',
      up: s.state === 'up',
      disabledReason: s.status === 'disabled' ? (s.disabled_reason ?? null) : null,
    };
  }
  for (const h of hypervisors) {
    const host = h.service?.host ?? h.hypervisor_hostname;
    const version = h.hypervisor_version;
    if (version !== null && version !== undefined) entry(host).hypervisorVersion = String(version);
    else entry(host);
  }
  const zonesOf = new Map<string, Set<string>>();
  for (const a of aggregates) {
    for (const host of a.hosts) {
      entry(host).aggregates.push(a.name);
      if (a.availability_zone) {
        const zones = zonesOf.get(host) ?? new Set<string>();
        zones.add(a.availability_zone);
        zonesOf.set(host, zones);
      }
    }
  }
  for (const s of services) {
    if (s.binary !== 'nova-compute' || zonesOf.has(s.host) || !s.zone) continue;
    zonesOf.set(s.host, new Set([s.zone]));
  }
  for (const [host, facts] of Object.entries(hosts)) {
    facts.aggregates.sort();
    facts.zones = [...(zonesOf.get(host) ?? [])].sort();
  }
  return { readAt: readAt.toISOString(), hosts };
}
