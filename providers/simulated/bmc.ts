/**
 * The simulated fleet's BMCs (`sim://<host>`): readings made from the
 * simulated host's row, shaped like a two-supply rack server reporting
 * through the older Thermal and Power resources. Faults are injected with
 * `injectHardwareFault`.
 */
import type { Pool } from 'pg';
import { findSimulatedHost, type SimulatedHost } from '../../db/simulated-fleet';
import type { RedfishField, RedfishSettings } from '../../domain/compliance-platform';
import type { BmcReading, TemperatureReading } from '../../domain/telemetry';
import { BmcError, type BmcClient } from '../bmc';
import type { ResetType } from '../redfish/client';

const temperature = (
  name: string,
  context: string,
  celsius: number,
  upperWarning: number,
  upperCritical: number,
): TemperatureReading => ({
  name,
  context,
  celsius,
  upperWarning,
  upperCritical,
  health: celsius >= upperCritical ? 'critical' : celsius >= upperWarning ? 'warning' : 'ok',
});

/** The system model every simulated BMC reports (listed in the shipped hardware-baseline profile). */
export const SIMULATED_MODEL = 'Shipshape Simulated';

export class SimulatedBmc implements BmcClient {
  constructor(
    private readonly db: Pool,
    private readonly host: string,
    private readonly powerActions: {
      requestPowerCycle(host: string): Promise<void>;
      requestReboot(host: string): Promise<void>;
    },
  ) {}

  private async row(): Promise<SimulatedHost> {
    const row = await findSimulatedHost(this.db, this.host);
    if (!row) throw new BmcError('unreachable', `sim://${this.host}: no such simulated BMC`);
    if (row.bmcUnreachable) throw new BmcError('unreachable', `sim://${this.host}: no answer within 10s`);
    return row;
  }

  async read(): Promise<BmcReading> {
    const row = await this.row();
    const inlet = row.inletCelsius;
    const failed = row.psusFailed;
    const on = row.power === 'on';
    return {
      power: on ? 'on' : 'off',
      health: failed > 0 ? 'warning' : 'ok',
      processors: { count: 2, model: 'Simulated Xeon 32-core', health: 'ok' },
      memory: { totalGiB: Math.round(row.ramMiB / 1024), health: 'ok', correctableErrors: row.correctableErrors },
      biosVersion: 'SIM-2.4.1',
      temperatures: [
        temperature('Inlet Temp', 'Intake', inlet, 38, 42),
        temperature('CPU1 Temp', 'CPU', on ? inlet + 30 : inlet, 85, 95),
        temperature('Exhaust Temp', 'Exhaust', on ? inlet + 14 : inlet, 65, 75),
      ],
      fans: [1, 2, 3, 4].map((i) => ({
        name: `Fan ${i}`,
        reading: on ? 7200 + Math.round(inlet * 40) : 0,
        units: 'RPM' as const,
        health: 'ok' as const,
      })),
      powerSupplies: [1, 2].map((i) => ({
        name: `PSU ${i}`,
        health: i <= failed ? ('critical' as const) : ('ok' as const),
        state: i <= failed ? 'UnavailableOffline' : 'Enabled',
        capacityWatts: 1100,
        outputWatts: i <= failed || !on ? 0 : 180,
      })),
      powerConsumedWatts: on ? 360 : 12,
      psuRedundancy: failed > 0 ? 'lost' : 'ok',
      bmcFirmware: 'SIM-BMC 5.10',
      events: [],
      sources: { thermal: 'simulated', power: 'simulated' },
      gaps: [],
    };
  }

  /**
   * The settings a compliance scan reads: every simulated host is the same model with the same firmware and a
   * UEFI BIOS with secure boot on, so the shipped hardware-baseline profile passes; PSU redundancy follows
   * the injected PSU faults. An unreachable simulated BMC fails the read, as a real one does.
   */
  async readSettings(fields: readonly RedfishField[]): Promise<RedfishSettings> {
    const row = await this.row();
    const all: RedfishSettings = {
      model: SIMULATED_MODEL,
      biosVersion: 'SIM-2.4.1',
      bmcFirmware: 'SIM-BMC 5.10',
      biosAttributes: {
        BootMode: 'Uefi',
        SecureBoot: 'Enabled',
        ProcVirtualization: 'Enabled',
        SriovGlobalEnable: 'Enabled',
      },
      secureBoot: true,
      psuRedundancy: row.psusFailed > 0 ? 'lost' : 'ok',
    };
    const need = new Set(fields);
    return {
      model: need.has('model') ? all.model : null,
      biosVersion: need.has('biosVersion') ? all.biosVersion : null,
      bmcFirmware: need.has('bmcFirmware') ? all.bmcFirmware : null,
      biosAttributes: need.has('biosAttributes') ? all.biosAttributes : null,
      secureBoot: need.has('secureBoot') ? all.secureBoot : null,
      psuRedundancy: need.has('psuRedundancy') ? all.psuRedundancy : 'unknown',
    };
  }

  async readPowerState(): Promise<'on' | 'off' | 'unknown'> {
    return (await this.row()).power === 'on' ? 'on' : 'off';
  }

  async powerCycle(): Promise<ResetType> {
    await this.reset('PowerCycle');
    return 'PowerCycle';
  }

  async reset(type: ResetType): Promise<void> {
    await this.row();
    if (type === 'PowerCycle' || type === 'ForceRestart') await this.powerActions.requestPowerCycle(this.host);
    else if (type === 'GracefulRestart') await this.powerActions.requestReboot(this.host);
    else throw new BmcError('unsupported', `sim://${this.host}: reset type ${type} is not simulated`);
  }
}
