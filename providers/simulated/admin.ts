/**
 * Seeding and fault injection for the simulated fleet, used by the demo and
 * the tests. Not part of the provider interface: a real cloud has no such knobs.
 */
import type { Pool } from 'pg';

export interface FleetShape {
  zones: string[];
  hostsPerZone: number;
  serversPerHost: number;
}

export const DEMO_FLEET: FleetShape = { zones: ['zone-a', 'zone-b'], hostsPerZone: 12, serversPerHost: 4 };

export function simulatedHostName(zone: string, index: number): string {
  return `cmp-${zone.replace(/^zone-/, '')}-${String(index).padStart(2, '0')}`;
}

/** Create the fleet if it is not there yet (idempotent). */
export async function seedSimulatedFleet(db: Pool, shape: FleetShape): Promise<void> {
  for (const zone of shape.zones) {
    for (let h = 1; h <= shape.hostsPerZone; h++) {
      const host = simulatedHostName(zone, h);
      await db.query('INSERT INTO sim_hosts (id, zone) VALUES ($1, $2) ON CONFLICT DO NOTHING', [host, zone]);
      for (let s = 1; s <= shape.serversPerHost; s++) {
        const id = `${host}-vm${s}`;
        await db.query('INSERT INTO sim_servers (id, name, host) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
          id,
          `tenant-vm-${host}-${s}`,
          host,
        ]);
      }
    }
  }
}

export interface Fault {
  /** The host reports itself unhealthy with this reason. */
  unhealthy?: string;
  /** Power cycles and service restarts do not fix it. */
  repairIneffective?: boolean;
  /** Live migrations off this host fail. */
  migrationFails?: boolean;
  /** Only this repair action fixes the host. */
  fixedOnlyBy?: 'power-cycle' | 'reboot' | 'restart-compute-service';
}

export async function injectFault(db: Pool, host: string, fault: Fault): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE sim_hosts SET
       health = CASE WHEN $2::text IS NULL THEN health ELSE 'critical' END,
       health_reasons = CASE WHEN $2::text IS NULL THEN health_reasons ELSE ARRAY[$2::text] END,
       fault_repair_ineffective = $3, fault_migration_fails = $4, fault_fixed_only_by = $5
     WHERE id = $1`,
    [host, fault.unhealthy ?? null, fault.repairIneffective ?? false, fault.migrationFails ?? false, fault.fixedOnlyBy ?? null],
  );
  if (rowCount !== 1) throw new Error(`no simulated host ${host}`);
}

/** What the simulated BMC reports: set any of these to make a threshold cross (or clear). */
export interface HardwareFault {
  inletCelsius?: number;
  psusFailed?: number;
  correctableErrors?: number;
  bmcUnreachable?: boolean;
}

export async function injectHardwareFault(db: Pool, host: string, fault: HardwareFault): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE sim_hosts SET inlet_celsius = coalesce($2, inlet_celsius), psus_failed = coalesce($3, psus_failed),
            correctable_errors = coalesce($4, correctable_errors), bmc_unreachable = coalesce($5, bmc_unreachable)
      WHERE id = $1`,
    [host, fault.inletCelsius ?? null, fault.psusFailed ?? null, fault.correctableErrors ?? null, fault.bmcUnreachable ?? null],
  );
  if (rowCount !== 1) throw new Error(`no simulated host ${host}`);
}

/** Point a simulated host's BMC at a real Redfish service (the tests' emulator) instead of the simulated one. */
export async function pointBmcAt(db: Pool, host: string, bmc: { address: string; systemId: string | null; credentialsRef: string | null }): Promise<void> {
  await db.query('UPDATE sim_hosts SET bmc_address = $2, bmc_system_id = $3, bmc_credentials_ref = $4 WHERE id = $1', [
    host,
    bmc.address,
    bmc.systemId,
    bmc.credentialsRef,
  ]);
}

/** What an operator does by hand when a hand-off reaches them: fix the hardware (the inlet back to a normal 23 °C). */
export async function repairByHand(db: Pool, host: string): Promise<void> {
  await db.query(
    `UPDATE sim_hosts SET health = 'ok', health_reasons = '{}', power = 'on', power_on_due = NULL,
            fault_repair_ineffective = false, fault_migration_fails = false, fault_fixed_only_by = NULL,
            inlet_celsius = 23, psus_failed = 0, bmc_unreachable = false WHERE id = $1`,
    [host],
  );
}
