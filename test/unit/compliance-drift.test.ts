/**
 * Drift to fix, pure parts (domain/compliance-drift.ts) and the policy
 * loader's rule for the `compliance-fix` step: which recorded results raise a
 * ComplianceDrift signal or resolve one, what it carries for the policies to
 * match, and when a fix drains the host.
 */
import { driftFingerprint, driftSignals, fixDrains, fixTargetOf, ruleKey } from '../../domain/compliance-drift';
import type { Finding, FindingChange, Judgement } from '../../domain/compliance-findings';
import type { ComplianceRule } from '../../domain/compliance';
import { parsePolicy } from '../../policies/loader';

const T = new Date('2026-12-08T00:00:00Z');
const fix = { ssh: 'chmod 0640 /etc/shadow', disruption: 'none' as const, drain: false };
const rules = new Map<string, Pick<ComplianceRule, 'id' | 'title' | 'fix'>>([
  [ruleKey('os-baseline', 'os.shadow-mode'), { id: 'os.shadow-mode', title: '/etc/shadow is protected', fix }],
  [ruleKey('os-baseline', 'os.no-fix'), { id: 'os.no-fix', title: 'no fix', fix: null }],
]);

function judged(ruleId: string, to: Finding['state'], from: Finding['state'] | null | 'same'): Judgement {
  const finding: Finding = {
    host: 'cmp-1',
    profile: 'os-baseline',
    ruleId,
    state: to,
    resultState: to === 'waived' || to === 'fix-pending' ? 'fail' : (to as Finding['resultState']),
    severity: 'critical',
    expected: 'mode 0640 or stricter',
    observed: 'mode 0644',
    reason: 'mode 0644 lets others read',
    firstSeen: T,
    lastSeen: T,
    lastChanged: T,
    waiverId: null,
    fixRemediationId: null,
  };
  const change: FindingChange | null =
    from === 'same' ? null : { ...finding, at: T, from, to, resultState: finding.resultState, reason: finding.reason };
  return { finding, change };
}

describe('drift signals from recorded results', () => {
  test('a failing rule with a fix raises a firing ComplianceDrift on every scan, labelled for the policies to match', () => {
    for (const from of [null, 'pass', 'same'] as const) {
      const [signal, ...rest] = driftSignals([judged('os.shadow-mode', 'fail', from)], rules);
      expect(rest).toEqual([]);
      expect(signal).toMatchObject({
        host: 'cmp-1',
        status: 'firing',
        severity: 'critical',
        fingerprint: driftFingerprint('cmp-1', 'os-baseline', 'os.shadow-mode'),
        labels: {
          alertname: 'ComplianceDrift',
          profile: 'os-baseline',
          rule: 'os.shadow-mode',
          disruption: 'none',
          drain: 'false',
        },
      });
      expect(signal!.annotations.description).toBe('expected mode 0640 or stricter; observed mode 0644');
    }
  });

  test('a rule without a fix, a rule in error, waived or under a fix raises nothing', () => {
    expect(driftSignals([judged('os.no-fix', 'fail', null)], rules)).toEqual([]);
    expect(driftSignals([judged('os.shadow-mode', 'error', 'pass')], rules)).toEqual([]);
    expect(driftSignals([judged('os.shadow-mode', 'waived', 'same')], rules)).toEqual([]);
    expect(driftSignals([judged('os.shadow-mode', 'fix-pending', 'same')], rules)).toEqual([]);
  });

  test('a drift that passes, is waived or stops applying resolves its alert; a pass that was never drift does not', () => {
    for (const [to, from] of [
      ['pass', 'fail'],
      ['pass', 'fix-pending'],
      ['waived', 'fail'],
      ['not-applicable', 'fail'],
    ] as const) {
      expect(driftSignals([judged('os.shadow-mode', to, from)], rules)).toEqual([
        expect.objectContaining({ status: 'resolved', fingerprint: 'compliance/cmp-1/os-baseline/os.shadow-mode' }),
      ]);
    }
    expect(driftSignals([judged('os.shadow-mode', 'pass', null)], rules)).toEqual([]);
    expect(driftSignals([judged('os.shadow-mode', 'pass', 'error')], rules)).toEqual([]);
  });

  test('the rule to fix is read from a ComplianceDrift signal only, and only when it names profile and rule', () => {
    expect(fixTargetOf('ComplianceDrift', { profile: 'os-baseline', rule: 'os.shadow-mode' })).toEqual({
      profile: 'os-baseline',
      ruleId: 'os.shadow-mode',
    });
    expect(fixTargetOf('HostDown', { profile: 'os-baseline', rule: 'os.shadow-mode' })).toBeNull();
    expect(fixTargetOf('ComplianceDrift', { profile: 'os-baseline' })).toBeNull();
  });
});

describe('when a fix drains the host', () => {
  test('when its rule says so, and before a reboot of a host with servers; never for a change in place', () => {
    expect(fixDrains({ disruption: 'none', drain: true }, 0)).toMatch(/rule says/);
    expect(fixDrains({ disruption: 'reboot', drain: false }, 3)).toBe(
      'the fix reboots the host and 3 servers run on it',
    );
    expect(fixDrains({ disruption: 'reboot', drain: false }, 0)).toBeNull();
    expect(fixDrains({ disruption: 'service-restart', drain: false }, 5)).toBeNull();
    expect(fixDrains({ disruption: 'none', drain: false }, 5)).toBeNull();
  });
});

describe('the compliance-fix step in policy files', () => {
  test('only a policy for ComplianceDrift lists it, and such a policy lists nothing else; the error names the line and the field', () => {
    expect(() =>
      parsePolicy('x.yaml', 'name: x\nmatch: { signals: [HostDown] }\nsteps:\n  - action: compliance-fix\n'),
    ).toThrow(
      /x.yaml:4:\d+: steps.0.action: compliance-fix applies a failing rule's fix: only a policy whose match.signals is \[ComplianceDrift\]/,
    );
    expect(() =>
      parsePolicy('y.yaml', 'name: y\nmatch: { signals: [ComplianceDrift] }\nsteps:\n  - action: power-cycle\n'),
    ).toThrow(/y.yaml:\d+:\d+: steps: a policy for ComplianceDrift has exactly one step, \{ action: compliance-fix \}/);
    expect(
      parsePolicy('z.yaml', 'name: z\nmatch: { signals: [ComplianceDrift] }\nsteps:\n  - action: compliance-fix\n')
        .policy.ladder,
    ).toEqual([{ action: 'compliance-fix' }]);
  });
});
