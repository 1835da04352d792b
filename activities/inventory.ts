/**
 * Bring Shipshape's host inventory in line with the provider's: new hosts are
 * added, zone, roles and BMC endpoint follow the provider, and existing rows
 * keep their pool state and health. One statement for the whole fleet.
 */
import type { Pool } from 'pg';
import type { Inventory } from '../config/inventory-file';
import { setHostLabels, upsertInventory } from '../db/hosts';
import { removeSshEndpointsExcept, upsertSshEndpoints } from '../db/ssh-endpoints';
import { pinHostKeyFromInventory } from '../db/ssh-host-keys';
import type { FleetProvider } from '../domain/provider';

export async function syncInventory(db: Pool, provider: FleetProvider): Promise<number> {
  const hosts = await provider.listHosts();
  await upsertInventory(db, hosts, provider.name);
  return hosts.length;
}

/**
 * Bring the SSH endpoints in line with the inventory file (the whole truth for
 * them: endpoints it no longer names go), pin the host keys it states and set
 * every host's labels (run it after the provider's sync, so its hosts have
 * rows). Pins of hosts it no longer names stay: a host's identity outlives its
 * endpoint. Returns the number of endpoints.
 */
export async function syncInventoryFile(db: Pool, inventory: Inventory): Promise<number> {
  await upsertSshEndpoints(db, inventory.ssh);
  await removeSshEndpointsExcept(
    db,
    inventory.ssh.map((e) => e.host),
  );
  for (const e of inventory.ssh) if (e.hostKey) await pinHostKeyFromInventory(db, { host: e.host, ...e.hostKey });
  await setHostLabels(db, inventory.labels);
  return inventory.ssh.length;
}
