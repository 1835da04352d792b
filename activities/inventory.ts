/** Bring Shipshape's host inventory in line with the provider's (new hosts added; existing rows keep their pool state). */
import type { Pool } from 'pg';
import type { FleetProvider } from '../domain/provider';

export async function syncInventory(db: Pool, provider: FleetProvider): Promise<number> {
  const hosts = await provider.listHosts();
  for (const h of hosts) {
    await db.query(
      `INSERT INTO hosts (id, zone, roles, provider) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET zone = EXCLUDED.zone, roles = EXCLUDED.roles, provider = EXCLUDED.provider, updated_at = now()`,
      [h.id, h.zone, h.roles, provider.name],
    );
  }
  return hosts.length;
}
