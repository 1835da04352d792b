/**
 * The parts of DMTF Redfish resources Shipshape reads, validated with zod.
 * Every property is optional (vendors differ) but a property that is there
 * must have the right type: a BMC answering `"PowerState": 7` is garbage,
 * not a host with unknown power.
 */
import { z } from 'zod';

const num = z.number().nullish();
const str = z.string().nullish();
export const link = z.looseObject({ '@odata.id': z.string() });
const status = z.looseObject({ State: str, Health: str, HealthRollup: str }).nullish();

export const collection = z.looseObject({ Members: z.array(z.looseObject({ '@odata.id': z.string().optional() })) });

export const serviceRoot = z.looseObject({
  Systems: link.nullish(),
  Chassis: link.nullish(),
  Managers: link.nullish(),
  SessionService: link.nullish(),
  Links: z.looseObject({ Sessions: link.nullish() }).nullish(),
});

export const system = z.looseObject({
  Id: str,
  PowerState: str,
  BiosVersion: str,
  Status: status,
  ProcessorSummary: z.looseObject({ Count: num, Model: str, Status: status }).nullish(),
  MemorySummary: z.looseObject({ TotalSystemMemoryGiB: num, Status: status, Metrics: link.nullish() }).nullish(),
  Links: z.looseObject({ Chassis: z.array(link).nullish(), ManagedBy: z.array(link).nullish() }).nullish(),
  LogServices: link.nullish(),
  Actions: z
    .looseObject({
      '#ComputerSystem.Reset': z
        .looseObject({ target: z.string(), 'ResetType@Redfish.AllowableValues': z.array(z.string()).nullish() })
        .nullish(),
    })
    .nullish(),
});

export const chassis = z.looseObject({
  Thermal: link.nullish(),
  Power: link.nullish(),
  ThermalSubsystem: link.nullish(),
  PowerSubsystem: link.nullish(),
  EnvironmentMetrics: link.nullish(),
});

export const thermalTemperature = z.looseObject({
  Name: str,
  MemberId: str,
  ReadingCelsius: num,
  PhysicalContext: str,
  UpperThresholdNonCritical: num,
  UpperThresholdCritical: num,
  Status: status,
});
export const thermalFan = z.looseObject({
  Name: str,
  FanName: str,
  MemberId: str,
  Reading: num,
  ReadingUnits: str,
  Status: status,
});
export const thermal = z.looseObject({
  Temperatures: z.array(z.unknown()).nullish(),
  Fans: z.array(z.unknown()).nullish(),
});

export const powerSupply = z.looseObject({
  Name: str,
  MemberId: str,
  Status: status,
  PowerCapacityWatts: num,
  LastPowerOutputWatts: num,
});
export const redundancy = z.looseObject({ Name: str, Mode: str, MinNumNeeded: num, Status: status });
export const power = z.looseObject({
  PowerControl: z.array(z.looseObject({ PowerConsumedWatts: num })).nullish(),
  PowerSupplies: z.array(z.unknown()).nullish(),
  Redundancy: z.array(z.unknown()).nullish(),
});

const sensorExcerpt = z.looseObject({ Reading: num, DataSourceUri: str }).nullish();
export const thermalSubsystem = z.looseObject({ ThermalMetrics: link.nullish(), Fans: link.nullish(), Status: status });
export const thermalMetrics = z.looseObject({
  TemperatureReadingsCelsius: z
    .array(z.looseObject({ Reading: num, DeviceName: str, PhysicalContext: str, DataSourceUri: str }))
    .nullish(),
});
export const sensor = z.looseObject({
  Reading: num,
  Thresholds: z.looseObject({ UpperCaution: sensorExcerpt, UpperCritical: sensorExcerpt }).nullish(),
  Status: status,
});
export const fan = z.looseObject({
  Name: str,
  Id: str,
  SpeedPercent: z.looseObject({ Reading: num, SpeedRPM: num }).nullish(),
  Status: status,
});
export const powerSubsystem = z.looseObject({
  PowerSupplies: link.nullish(),
  PowerSupplyRedundancy: z
    .array(z.looseObject({ RedundancyType: str, MinNeededInGroup: num, Status: status }))
    .nullish(),
  Status: status,
});
export const subsystemPowerSupply = z.looseObject({ Name: str, Id: str, Status: status, PowerCapacityWatts: num });
export const environmentMetrics = z.looseObject({ PowerWatts: sensorExcerpt });

export const manager = z.looseObject({ FirmwareVersion: str, Model: str, LogServices: link.nullish() });
export const logService = z.looseObject({ Id: str, LogEntryType: str, Entries: link.nullish() });
export const logEntry = z.looseObject({ Id: str, Created: str, Severity: str, Message: str, EntryType: str });
export const memoryMetrics = z.looseObject({
  LifeTime: z.looseObject({ CorrectableECCErrorCount: num }).nullish(),
  CurrentPeriod: z.looseObject({ CorrectableECCErrorCount: num }).nullish(),
});

/** What a compliance scan reads of the system beyond `system`: each validated on its own, so one bad field is one error. */
export const systemModel = z.string().nullish();
export const chassisModel = z.looseObject({ Model: str });
/** DMTF Bios: attribute values are strings, numbers, booleans or null (null: no value; left out). */
export const bios = z.looseObject({
  Attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});
/** DMTF SecureBoot: SecureBootEnable is the setting the BMC enforces at the next boot. */
export const secureBoot = z.looseObject({ SecureBootEnable: z.boolean(), SecureBootCurrentBoot: str });
