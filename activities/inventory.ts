/**
 * Bring Shipshape's host inventory in line with the provider's: new hosts are
 * added, zone, roles and BMC endpoint follow the provider, and existing rows
 * keep their pool state and health. One statement for the whole fleet.
 */
import type { Pool } from 'pg';
import { upsertInventory } from '../db/hosts';
import type { FleetProvider } from '../domain/provider';

export async function syncInventory(db: Pool, provider: FleetProvider): Promise<number> {
  const hosts = await provider.listHosts();
  await upsertInventory(db, hosts, provider.name);
  return hosts.length;
}
