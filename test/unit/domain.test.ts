/** Pure decision logic, table-driven, no services. */
import { hostProblems } from '../../domain/health';
import { matchPolicy } from '../../domain/policy-match';
import { disableReason, poolStateFor, type Phase } from '../../domain/remediation';
import type { HostState } from '../../domain/types';
import { roleAtLeast } from '../../domain/types';

describe('poolStateFor', () => {
  const cases: [Phase, boolean, string][] = [
    ['auditing', false, 'in-service'],
    ['awaiting-approval', false, 'in-service'],
    ['draining', true, 'draining'],
    ['repairing', true, 'in-remediation'],
    ['verifying', true, 'in-remediation'],
    ['returning', true, 'in-remediation'],
    ['awaiting-operator', true, 'awaiting-operator'],
    ['returned', false, 'in-service'],
    ['false-alarm', false, 'in-service'],
    ['rejected', false, 'in-service'],
    ['cancelled', true, 'out-of-service'],
    ['cancelled', false, 'in-service'],
  ];
  test.each(cases)('a host whose remediation is %s (touched: %s) is %s', (phase, touched, expected) => {
    expect(poolStateFor(phase, touched)).toBe(expected);
  });
});

describe('hostProblems', () => {
  const healthy: HostState = {
    host: 'h', power: 'on', health: 'ok', healthReasons: [], serverCount: 2,
    compute: { enabled: true, up: true, disabledReason: null },
  };
  const cases: [string, Partial<HostState>, string[]][] = [
    ['a healthy, powered, reporting host has none', {}, []],
    ['a disabled but healthy host has none (disabling is not a fault)', { compute: { enabled: false, up: true, disabledReason: 'x' } }, []],
    ['critical health names the reasons', { health: 'critical', healthReasons: ['PSU 1 failed', 'fan 2'] }, ['health critical: PSU 1 failed; fan 2']],
    ['warning health without reasons', { health: 'warning' }, ['health warning']],
    ['unknown health counts', { health: 'unknown' }, ['health unknown']],
    ['powered off', { power: 'off', compute: { enabled: true, up: false, disabledReason: null } }, ['power off', 'compute service down']],
    ['power unknown', { power: 'unknown' }, ['power unknown']],
    ['compute service down only', { compute: { enabled: true, up: false, disabledReason: null } }, ['compute service down']],
  ];
  test.each(cases)('%s', (_name, change, expected) => {
    expect(hostProblems({ ...healthy, ...change })).toEqual(expected);
  });
});

describe('matchPolicy', () => {
  const policies = [
    { name: 'host-down', signals: ['HostDown', 'NovaComputeDown'] },
    { name: 'hardware', signals: ['HardwareFault', 'HostDown'] },
  ];
  const cases: [string, string | null][] = [
    ['HostDown', 'host-down'],
    ['NovaComputeDown', 'host-down'],
    ['HardwareFault', 'hardware'],
    ['hostdown', null],
    ['DiskFull', null],
  ];
  test.each(cases)('%s is covered by %s (first match in file order wins)', (signal, expected) => {
    expect(matchPolicy(policies, signal)?.name ?? null).toBe(expected);
  });
});

describe('roles', () => {
  const cases: [Parameters<typeof roleAtLeast>[0], Parameters<typeof roleAtLeast>[1], boolean][] = [
    ['viewer', 'viewer', true],
    ['viewer', 'operator', false],
    ['operator', 'viewer', true],
    ['operator', 'approver', false],
    ['approver', 'operator', true],
    ['admin', 'approver', true],
  ];
  test.each(cases)('%s may act as %s: %s', (role, needed, expected) => {
    expect(roleAtLeast(role, needed)).toBe(expected);
  });
});

test('every compute service Shipshape disables carries a reason with its own prefix', () => {
  expect(disableReason('r-1', 'HostDown')).toBe('shipshape: remediation r-1 (HostDown)');
});
