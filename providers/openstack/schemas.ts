/**
 * Every field of an OpenStack answer that Shipshape relies on, validated
 * with zod. Extra fields are kept (looseObject); a missing or mistyped field
 * Shipshape needs makes the answer malformed: a non-retryable error naming it.
 */
import { z } from 'zod';

export const catalogSchema = z.looseObject({
  token: z.looseObject({
    expires_at: z.string(),
    catalog: z.array(
      z.looseObject({
        type: z.string(),
        endpoints: z.array(
          z.looseObject({
            interface: z.string(),
            url: z.string(),
            region: z.string().nullish(),
            region_id: z.string().nullish(),
          }),
        ),
      }),
    ),
  }),
});

export const versionsSchema = z.looseObject({
  version: z.looseObject({ version: z.string().nullish(), min_version: z.string().nullish() }).optional(),
  versions: z
    .array(z.looseObject({ id: z.string(), status: z.string().optional(), version: z.string().nullish() }))
    .optional(),
});

export const computeService = z.looseObject({
  id: z.union([z.string(), z.number()]),
  binary: z.string(),
  host: z.string(),
  zone: z.string().nullish(),
  status: z.enum(['enabled', 'disabled']),
  state: z.enum(['up', 'down']),
  disabled_reason: z.string().nullable(),
  forced_down: z.boolean().optional(),
});
export const computeServices = z.looseObject({ services: z.array(computeService) });
export const computeServiceAnswer = z.looseObject({ service: computeService });

export const hypervisor = z.looseObject({
  id: z.union([z.string(), z.number()]),
  hypervisor_hostname: z.string(),
  state: z.enum(['up', 'down']),
  status: z.enum(['enabled', 'disabled']),
  servers: z.array(z.looseObject({ uuid: z.string(), name: z.string() })).optional(),
  service: z.looseObject({ host: z.string() }).optional(),
});
export const hypervisors = z.looseObject({
  hypervisors: z.array(hypervisor),
  hypervisors_links: z.array(z.looseObject({ rel: z.string(), href: z.string() })).optional(),
});

/** GET /os-hypervisors/detail, the parts a compliance scan reads: whose it is and its version (an integer). */
export const hypervisorVersioned = z.looseObject({
  hypervisor_hostname: z.string(),
  hypervisor_type: z.string().nullish(),
  hypervisor_version: z.number().int().nullish(),
  service: z.looseObject({ host: z.string() }).nullish(),
});
export const hypervisorsDetail = z.looseObject({
  hypervisors: z.array(hypervisorVersioned),
  hypervisors_links: z.array(z.looseObject({ rel: z.string(), href: z.string() })).optional(),
});

export const server = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  'OS-EXT-SRV-ATTR:host': z.string().nullable(),
  'OS-EXT-STS:task_state': z.string().nullish(),
});
export const servers = z.looseObject({
  servers: z.array(server),
  servers_links: z.array(z.looseObject({ rel: z.string(), href: z.string() })).optional(),
});
export const serverAnswer = z.looseObject({ server });

export const migration = z.looseObject({
  id: z.number(),
  uuid: z.string().optional(),
  instance_uuid: z.string(),
  status: z.string(),
  migration_type: z.string().optional(),
  source_compute: z.string().nullable(),
  dest_compute: z.string().nullable(),
  created_at: z.string(),
});
export const migrations = z.looseObject({ migrations: z.array(migration) });

export const availabilityZones = z.looseObject({
  availabilityZoneInfo: z.array(
    z.looseObject({ zoneName: z.string(), hosts: z.record(z.string(), z.unknown()).nullable() }),
  ),
});
export const aggregates = z.looseObject({
  aggregates: z.array(
    z.looseObject({
      name: z.string(),
      hosts: z.array(z.string()),
      availability_zone: z.string().nullable(),
      metadata: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});

export const resourceProviders = z.looseObject({
  resource_providers: z.array(z.looseObject({ uuid: z.string(), name: z.string() })),
});
export const inventories = z.looseObject({
  inventories: z.record(
    z.string(),
    z.looseObject({ total: z.number(), reserved: z.number().default(0), allocation_ratio: z.number().default(1) }),
  ),
});
export const usages = z.looseObject({ usages: z.record(z.string(), z.number()) });

export const ironicNode = z.looseObject({
  uuid: z.string(),
  name: z.string().nullable(),
  power_state: z.string().nullable(),
  target_power_state: z.string().nullable().optional(),
  provision_state: z.string().nullable(),
  maintenance: z.boolean(),
  maintenance_reason: z.string().nullable().optional(),
  /** Set when Ironic put the node in maintenance itself (API 1.42+), e.g. "power failure". */
  fault: z.string().nullable().optional(),
  driver_info: z.record(z.string(), z.unknown()).optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
});
export const ironicNodes = z.looseObject({ nodes: z.array(ironicNode), next: z.string().optional() });

export const neutronAgents = z.looseObject({
  agents: z.array(
    z.looseObject({
      id: z.string(),
      binary: z.string(),
      host: z.string(),
      alive: z.boolean(),
      admin_state_up: z.boolean(),
      agent_type: z.string().optional(),
    }),
  ),
});
export const cinderServices = z.looseObject({
  services: z.array(
    z.looseObject({
      binary: z.string(),
      host: z.string(),
      status: z.enum(['enabled', 'disabled']),
      state: z.enum(['up', 'down']),
      zone: z.string().nullish(),
      disabled_reason: z.string().nullable().optional(),
    }),
  ),
});
