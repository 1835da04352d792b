/**
 * Bring Shipshape's host inventory in line with the provider's: new hosts are
 * added, zone, roles and BMC endpoint follow the provider, and existing rows
 * keep their pool state and health. One statement for the whole fleet.
 */
import type { Pool } from 'pg';
import type { FleetProvider } from '../domain/provider';

export async function syncInventory(db: Pool, provider: FleetProvider): Promise<number> {
  const hosts = await provider.listHosts();
  await db.query(
    `INSERT INTO hosts (id, zone, roles, provider, bmc_address, bmc_credentials_ref, bmc_system_id)
     SELECT h.id, h.zone, ARRAY(SELECT jsonb_array_elements_text(h.roles)), $2, h.bmc_address, h.bmc_credentials_ref, h.bmc_system_id
       FROM jsonb_to_recordset($1::jsonb) AS h(id text, zone text, roles jsonb, bmc_address text, bmc_credentials_ref text, bmc_system_id text)
     ON CONFLICT (id) DO UPDATE SET zone = EXCLUDED.zone, roles = EXCLUDED.roles, provider = EXCLUDED.provider,
       bmc_address = EXCLUDED.bmc_address, bmc_credentials_ref = EXCLUDED.bmc_credentials_ref, bmc_system_id = EXCLUDED.bmc_system_id,
       updated_at = CASE WHEN (hosts.zone, hosts.roles, hosts.bmc_address, hosts.bmc_credentials_ref, hosts.bmc_system_id)
                              IS DISTINCT FROM (EXCLUDED.zone, EXCLUDED.roles, EXCLUDED.bmc_address, EXCLUDED.bmc_credentials_ref, EXCLUDED.bmc_system_id)
                         THEN now() ELSE hosts.updated_at END`,
    [
      JSON.stringify(
        hosts.map((h) => ({
          id: h.id,
          zone: h.zone,
          roles: h.roles,
          bmc_address: h.bmc?.address ?? null,
          bmc_credentials_ref: h.bmc?.credentialsRef ?? null,
          bmc_system_id: h.bmc?.systemId ?? null,
        })),
      ),
      provider.name,
    ],
  );
  return hosts.length;
}
