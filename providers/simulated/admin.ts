/**
 * Seeding and fault injection for the simulated fleet, used by the demo and
 * the tests. Not part of the provider interface: a real cloud has no such knobs.
 */
import type { Pool } from 'pg';
import {
  addSimulatedHost,
  pointSimulatedBmcAt,
  repairSimulatedHostByHand,
  setSimulatedBmcReadings,
  setSimulatedFault,
} from '../../db/simulated-fleet';

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
      const servers = Array.from({ length: shape.serversPerHost }, (_, i) => ({
        id: `${host}-vm${i + 1}`,
        name: `tenant-vm-${host}-${i + 1}`,
      }));
      await addSimulatedHost(db, host, zone, servers);
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
  const found = await setSimulatedFault(db, host, {
    unhealthy: fault.unhealthy ?? null,
    repairIneffective: fault.repairIneffective ?? false,
    migrationFails: fault.migrationFails ?? false,
    fixedOnlyBy: fault.fixedOnlyBy ?? null,
  });
  if (!found) throw new Error(`no simulated host ${host}`);
}

/** What the simulated BMC reports: set any of these to make a threshold cross (or clear). */
export interface HardwareFault {
  inletCelsius?: number;
  psusFailed?: number;
  correctableErrors?: number;
  bmcUnreachable?: boolean;
}

export async function injectHardwareFault(db: Pool, host: string, fault: HardwareFault): Promise<void> {
  const found = await setSimulatedBmcReadings(db, host, {
    inletCelsius: fault.inletCelsius ?? null,
    psusFailed: fault.psusFailed ?? null,
    correctableErrors: fault.correctableErrors ?? null,
    bmcUnreachable: fault.bmcUnreachable ?? null,
  });
  if (!found) throw new Error(`no simulated host ${host}`);
}

/** Point a simulated host's BMC at a real Redfish service (the tests' emulator) instead of the simulated one. */
export async function pointBmcAt(
  db: Pool,
  host: string,
  bmc: { address: string; systemId: string | null; credentialsRef: string | null },
): Promise<void> {
  await pointSimulatedBmcAt(db, host, bmc);
}

/** What an operator does by hand when a hand-off reaches them: fix the hardware (the inlet back to a normal 23 °C). */
export async function repairByHand(db: Pool, host: string): Promise<void> {
  await repairSimulatedHostByHand(db, host);
}
