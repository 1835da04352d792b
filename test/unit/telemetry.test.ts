/** Health, thresholds and signal edges from BMC readings: pure decisions, table-tested. */
import { confirmedProblems } from '../../domain/policy';
import {
  assess,
  DEFAULT_THRESHOLDS,
  diffConditions,
  metricsOf,
  redundancyFromSupplies,
  type BmcReading,
  type PowerSupplyReading,
} from '../../domain/telemetry';
import type { HostState } from '../../domain/types';

function reading(change: Partial<BmcReading> = {}): BmcReading {
  return {
    power: 'on',
    health: 'ok',
    processors: { count: 2, model: 'x', health: 'ok' },
    memory: { totalGiB: 256, health: 'ok', correctableErrors: 5 },
    biosVersion: '1.0',
    temperatures: [
      { name: 'Inlet Temp', context: 'Intake', celsius: 24, upperWarning: 38, upperCritical: 42, health: 'ok' },
      { name: 'CPU1 Temp', context: 'CPU', celsius: 60, upperWarning: 85, upperCritical: 95, health: 'ok' },
    ],
    fans: [{ name: 'Fan 1', reading: 8000, units: 'RPM', health: 'ok' }],
    powerSupplies: [psu('PSU 1'), psu('PSU 2')],
    powerConsumedWatts: 350,
    psuRedundancy: 'ok',
    bmcFirmware: '5.0',
    events: [],
    sources: { thermal: 'Thermal', power: 'Power' },
    gaps: [],
    ...change,
  };
}
function psu(
  name: string,
  health: PowerSupplyReading['health'] = 'ok',
  state: string | null = 'Enabled',
): PowerSupplyReading {
  return { name, health, state, capacityWatts: 1100, outputWatts: 150 };
}
const read = (change: Partial<BmcReading> = {}) => ({ status: 'read' as const, reading: reading(change) });
const inlet = (celsius: number, upperWarning: number | null = 38, upperCritical: number | null = 42) =>
  read({
    temperatures: [{ name: 'Inlet Temp', context: 'Intake', celsius, upperWarning, upperCritical, health: null }],
  });

describe('assess: health and thresholds', () => {
  test.each([
    ['a healthy reading', read(), 'ok', []],
    ['inlet at the warning threshold', inlet(35), 'warning', ['InletTemperatureHigh']],
    ['inlet just below the warning threshold', inlet(34.9), 'ok', []],
    ['inlet at the critical threshold', inlet(40), 'critical', ['InletTemperatureHigh']],
    ["the sensor's own threshold is lower than ours", inlet(33, 32, 36), 'warning', ['InletTemperatureHigh']],
    [
      'an inlet named by name only',
      read({
        temperatures: [
          { name: 'System Inlet', context: null, celsius: 45, upperWarning: null, upperCritical: null, health: null },
        ],
      }),
      'critical',
      ['InletTemperatureHigh'],
    ],
    [
      'a CPU over its own critical threshold is critical but raises no inlet signal',
      read({
        temperatures: [
          { name: 'CPU1', context: 'CPU', celsius: 96, upperWarning: 85, upperCritical: 95, health: null },
        ],
      }),
      'critical',
      [],
    ],
    [
      'redundancy lost',
      read({ psuRedundancy: 'lost', powerSupplies: [psu('PSU 1'), psu('PSU 2', 'critical')] }),
      'critical',
      ['PowerSupplyRedundancyLost'],
    ],
    [
      'one failed supply, redundancy intact (of three)',
      read({ powerSupplies: [psu('1'), psu('2'), psu('3', 'critical')] }),
      'warning',
      [],
    ],
    ['health rollup critical', read({ health: 'critical' }), 'critical', ['HardwareHealthCritical']],
    ['a failed fan', read({ fans: [{ name: 'Fan 3', reading: 0, units: 'RPM', health: 'critical' }] }), 'critical', []],
    ['memory warning', read({ memory: { totalGiB: 256, health: 'warning', correctableErrors: null } }), 'warning', []],
    [
      'BMC unreachable',
      { status: 'failed' as const, kind: 'unreachable' as const, error: 'no answer' },
      'warning',
      ['BmcUnreachable'],
    ],
    [
      'BMC answered garbage',
      { status: 'failed' as const, kind: 'garbage' as const, error: 'PowerState: expected string' },
      'warning',
      ['BmcUnreachable'],
    ],
    ['no BMC and no provider state', { status: 'not-configured' as const }, 'unknown', []],
  ])('%s', (_name, bmc, health, conditions) => {
    const a = assess(bmc, null);
    expect(a.health).toBe(health);
    expect(Object.keys(a.conditions)).toEqual(conditions);
    if (health !== 'ok' && health !== 'unknown') expect(a.reasons.length).toBeGreaterThan(0);
  });

  test('correctable errors rising: the rise within the window against the threshold', () => {
    const at = (now: number, start: number | null) =>
      assess(read({ memory: { totalGiB: 256, health: 'ok', correctableErrors: now } }), null, DEFAULT_THRESHOLDS, {
        correctableErrorsAtWindowStart: start,
      });
    expect(at(110, 100).conditions.CorrectableMemoryErrorsRising).toMatchObject({ severity: 'warning' });
    expect(at(109, 100).conditions.CorrectableMemoryErrorsRising).toBeUndefined();
    expect(at(5000, null).conditions.CorrectableMemoryErrorsRising).toBeUndefined(); // no history yet: a count alone is not a rise
  });

  test("the provider's view counts too: a host powered off or reported unhealthy", () => {
    const state: HostState = {
      host: 'h',
      power: 'off',
      health: 'critical',
      healthReasons: ['kernel panic'],
      compute: { enabled: true, up: false, disabledReason: null },
      serverCount: 0,
    };
    const a = assess({ status: 'not-configured' }, state);
    expect(a.health).toBe('critical');
    expect(a.reasons).toEqual(['provider reports critical: kernel panic', 'powered off']);
  });
});

describe('redundancy from the supplies when the BMC reports no redundancy group', () => {
  test.each([
    [[psu('1'), psu('2')], 'ok'],
    [[psu('1'), psu('2', 'critical')], 'lost'],
    [[psu('1'), psu('2', 'ok', 'UnavailableOffline')], 'lost'],
    [[psu('1'), psu('2', null, 'Absent')], 'unknown'],
    [[psu('1')], 'unknown'],
    [[psu('1'), psu('2'), psu('3', 'critical')], 'ok'],
  ] as const)('%#', (supplies, expected) => {
    expect(redundancyFromSupplies([...supplies])).toBe(expected);
  });
});

describe('diffConditions: signals on edges only', () => {
  const hot = { InletTemperatureHigh: { severity: 'warning' as const, reason: 'inlet 36' } };
  const hotter = { InletTemperatureHigh: { severity: 'critical' as const, reason: 'inlet 41' } };
  const both = { bmc: true, reachability: true };

  test('new → firing; same → nothing; more severe → firing again; gone → resolved', () => {
    expect(diffConditions({}, hot, both).changes).toEqual([
      { name: 'InletTemperatureHigh', status: 'firing', severity: 'warning', reason: 'inlet 36' },
    ]);
    expect(diffConditions(hot, hot, both).changes).toEqual([]);
    expect(diffConditions(hot, hotter, both).changes).toMatchObject([{ status: 'firing', severity: 'critical' }]);
    const cleared = diffConditions(hotter, {}, both);
    expect(cleared.changes).toMatchObject([{ name: 'InletTemperatureHigh', status: 'resolved', severity: 'critical' }]);
    expect(cleared.next).toEqual({});
  });

  test('a condition whose source could not be read is carried over, neither raised nor resolved', () => {
    const r = diffConditions(
      hot,
      { BmcUnreachable: { severity: 'warning', reason: 'no answer' } },
      { bmc: false, reachability: true },
    );
    expect(r.next).toEqual({ ...hot, BmcUnreachable: { severity: 'warning', reason: 'no answer' } });
    expect(r.changes.map((c) => `${c.name}:${c.status}`)).toEqual(['BmcUnreachable:firing']);
  });
});

test('metrics: only what was reported', () => {
  expect(metricsOf(read(), null)).toEqual({
    bmc_reachable: 1,
    inlet_c: 24,
    max_temp_c: 60,
    power_watts: 350,
    correctable_errors: 5,
    psus_failed: 0,
    fans_failed: 0,
  });
  expect(metricsOf({ status: 'failed', kind: 'unreachable', error: 'x' }, null)).toEqual({ bmc_reachable: 0 });
  expect(metricsOf({ status: 'not-configured' }, null)).toEqual({});
});

describe('the BMC confirm checks', () => {
  const base: HostState = {
    host: 'h',
    power: 'on',
    health: 'ok',
    healthReasons: [],
    compute: { enabled: true, up: true, disabledReason: null },
    serverCount: 1,
  };
  test.each([
    [{ status: 'read', health: 'critical', reasons: ['inlet 41'] }, ['bmc-health'], ['BMC critical: inlet 41']],
    [{ status: 'read', health: 'ok', reasons: [] }, ['bmc-health', 'bmc-reachable'], []],
    [
      { status: 'failed', health: 'warning', reasons: ['BMC cannot be read (http): 500'] },
      ['bmc-reachable'],
      ['BMC cannot be read (http): 500'],
    ],
    [{ status: 'failed', health: 'warning', reasons: ['x'] }, ['bmc-health'], []],
    [undefined, ['bmc-health', 'bmc-reachable'], []],
  ] as const)('%j with %j', (bmc, checks, problems) => {
    const state = { ...base, bmc: bmc ? { ...bmc, reasons: [...bmc.reasons] } : undefined } as HostState;
    expect(confirmedProblems(state, checks)).toEqual(problems);
  });
  test('the default checks ignore the BMC, as policies written before them expect', () => {
    expect(confirmedProblems({ ...base, bmc: { status: 'read', health: 'critical', reasons: ['x'] } })).toEqual([]);
  });
});
