/** Pure decision logic, table-driven, no services. */
import { labelMatches, parseMatcher } from '../../domain/label-matcher';
import { approvalReason, confirmedProblems, type ApprovalRule, type PolicyMatch } from '../../domain/policy';
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
    ['stood-down', true, 'out-of-service'],
    ['stood-down', false, 'in-service'],
  ];
  test.each(cases)('a host whose remediation is %s (touched: %s) is %s', (phase, touched, expected) => {
    expect(poolStateFor(phase, touched)).toBe(expected);
  });
});

describe('confirmedProblems with every check', () => {
  const healthy: HostState = {
    host: 'h',
    power: 'on',
    health: 'ok',
    healthReasons: [],
    serverCount: 2,
    compute: { enabled: true, up: true, disabledReason: null },
  };
  const cases: [string, Partial<HostState>, string[]][] = [
    ['a healthy, powered, reporting host has none', {}, []],
    [
      'a disabled but healthy host has none (disabling is not a fault)',
      { compute: { enabled: false, up: true, disabledReason: 'x' } },
      [],
    ],
    [
      'critical health names the reasons',
      { health: 'critical', healthReasons: ['PSU 1 failed', 'fan 2'] },
      ['health critical: PSU 1 failed; fan 2'],
    ],
    ['warning health without reasons', { health: 'warning' }, ['health warning']],
    ['unknown health counts', { health: 'unknown' }, ['health unknown']],
    [
      'powered off',
      { power: 'off', compute: { enabled: true, up: false, disabledReason: null } },
      ['power off', 'compute service down'],
    ],
    ['power unknown', { power: 'unknown' }, ['power unknown']],
    [
      'compute service down only',
      { compute: { enabled: true, up: false, disabledReason: null } },
      ['compute service down'],
    ],
  ];
  test.each(cases)('%s', (_name, change, expected) => {
    expect(confirmedProblems({ ...healthy, ...change })).toEqual(expected);
  });
});

describe('matchPolicy', () => {
  const m = (signals: string[], extra: Partial<PolicyMatch> = {}): PolicyMatch => ({
    signals,
    labels: [],
    severities: null,
    roles: null,
    zones: null,
    ...extra,
  });
  const policies = [
    { name: 'prod-only', match: m(['HostDown'], { labels: [parseMatcher('env="prod"')!] }) },
    { name: 'host-down', match: m(['HostDown', 'NovaComputeDown']) },
    { name: 'storage', match: m(['DiskFailed'], { roles: ['storage'] }) },
    { name: 'critical-in-b', match: m(['HardwareFault'], { severities: ['critical'], zones: ['zone-b'] }) },
  ];
  const host = { zone: 'zone-a', roles: ['compute'] };
  const cases: [string, string, Record<string, string>, string, typeof host, string | null][] = [
    ['a label matcher that holds picks the first policy', 'HostDown', { env: 'prod' }, 'critical', host, 'prod-only'],
    ['a label matcher that fails falls through to the next', 'HostDown', { env: 'dev' }, 'critical', host, 'host-down'],
    ['names are exact', 'hostdown', {}, 'critical', host, null],
    ['a role the host lacks does not match', 'DiskFailed', {}, 'critical', host, null],
    [
      'a role the host has matches',
      'DiskFailed',
      {},
      'critical',
      { zone: 'zone-a', roles: ['compute', 'storage'] },
      'storage',
    ],
    [
      'severity and zone must both hold',
      'HardwareFault',
      {},
      'critical',
      { zone: 'zone-b', roles: [] },
      'critical-in-b',
    ],
    ['a lower severity does not match', 'HardwareFault', {}, 'warning', { zone: 'zone-b', roles: [] }, null],
    ['another zone does not match', 'HardwareFault', {}, 'critical', host, null],
  ];
  test.each(cases)('%s', (_name, signal, labels, severity, h, expected) => {
    expect(
      matchPolicy(policies, { name: signal, labels, severity: severity as 'critical', host: h })?.name ?? null,
    ).toBe(expected);
  });
});

describe('label matchers, as Alertmanager reads them', () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ['env="prod"', { env: 'prod' }, true],
    ['env="prod"', { env: 'production' }, false],
    ['env!="prod"', {}, true],
    ['instance=~"cmp-.*"', { instance: 'cmp-a-01:9100' }, true],
    ['instance=~"cmp"', { instance: 'cmp-a-01' }, false], // anchored
    ['job!~"test.*"', { job: 'node' }, true],
    ['team=""', {}, true], // a missing label is the empty string
    ['msg="say \\"hi\\""', { msg: 'say "hi"' }, true],
  ];
  test.each(cases)('%s against %o is %s', (text, labels, expected) => {
    expect(labelMatches(parseMatcher(text)!, labels)).toBe(expected);
  });
  test.each(['env', 'env=prod', '1env="x"', 'env=~"("'])('%s is not a matcher', (text) => {
    expect(parseMatcher(text)).toBeNull();
  });
});

describe('approvalReason', () => {
  const rule = (r: Partial<ApprovalRule>): ApprovalRule => ({
    mode: 'when',
    approverRoles: ['approver'],
    timeoutSeconds: 60,
    onTimeout: 'escalate',
    ...r,
  });
  const facts = { zone: 'zone-a', serverCount: 12, severity: 'warning' as const };
  const cases: [string, ApprovalRule, string | null][] = [
    ['never asks', rule({ mode: 'never' }), null],
    ['always asks', rule({ mode: 'always' }), 'the policy always asks for approval'],
    [
      'more servers than the limit asks',
      rule({ when: { serversMoreThan: 10 } }),
      '12 servers on the host (more than 10)',
    ],
    ['fewer servers does not', rule({ when: { serversMoreThan: 20 } }), null],
    ['a listed zone asks', rule({ when: { zones: ['zone-a'] } }), 'zone zone-a asks for approval'],
    ['a listed severity asks', rule({ when: { severities: ['warning'] } }), 'severity warning asks for approval'],
  ];
  test.each(cases)('%s', (_name, r, expected) => {
    expect(approvalReason(r, facts)).toBe(expected);
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
