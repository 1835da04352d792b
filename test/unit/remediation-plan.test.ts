/** The remediation's decisions, one line of description per case (cluster-api MHC style). */
import type { ApprovalRule } from '../../domain/policy';
import type { RemediationPolicy } from '../../domain/remediation';
import {
  approvalPlan,
  drainPlan,
  healthSummary,
  type ApprovalPlan,
  type DrainPlan,
} from '../../domain/remediation-plan';
import type { HostState } from '../../domain/types';

function host(
  over: {
    power?: HostState['power'];
    up?: boolean;
    health?: HostState['health'];
    reasons?: string[];
    servers?: number;
  } = {},
): HostState {
  return {
    host: 'cmp-1',
    power: over.power ?? 'on',
    health: over.health ?? 'ok',
    healthReasons: over.reasons ?? [],
    serverCount: over.servers ?? 4,
    compute: { enabled: true, up: over.up ?? true, disabledReason: null },
  };
}

describe('healthSummary', () => {
  const cases: Array<[string, HostState, Parameters<typeof healthSummary>[1], string]> = [
    ['a host every default check passes reads healthy', host(), undefined, 'healthy'],
    [
      'a host that is off and down names both, in check order',
      host({ power: 'off', up: false, health: 'critical', reasons: ['nova-compute down'] }),
      undefined,
      'health critical: nova-compute down; power off; compute service down',
    ],
    ['checks the policy does not name are not read', host({ power: 'off', up: false }), ['power'], 'power off'],
  ];
  test.each(cases)('%s', (_what, state, checks, expected) => expect(healthSummary(state, checks)).toBe(expected));
});

describe('approvalPlan', () => {
  const rule = (r: Partial<ApprovalRule>): RemediationPolicy['approval'] => ({
    required: false,
    timeoutSeconds: 1800,
    rule: { mode: 'when', approverRoles: ['approver'], timeoutSeconds: 1800, onTimeout: 'escalate', ...r },
  });
  const facts = { zone: 'zone-a', serverCount: 30, severity: 'critical' as const };
  const cases: Array<[string, RemediationPolicy['approval'], ApprovalPlan]> = [
    ['mode never asks nobody', rule({ mode: 'never' }), { ask: false }],
    [
      'mode always asks, escalating when nobody decides',
      rule({ mode: 'always' }),
      { ask: true, why: 'the policy always asks for approval', onTimeout: 'escalate' },
    ],
    [
      "a host fuller than the limit asks, and the rule's timeout choice travels with it",
      rule({ when: { serversMoreThan: 20 }, onTimeout: 'reject' }),
      { ask: true, why: '30 servers on the host (more than 20)', onTimeout: 'reject' },
    ],
    [
      'a host within the limit is not asked about',
      rule({ when: { serversMoreThan: 40 }, onTimeout: 'proceed' }),
      { ask: false },
    ],
    [
      'a listed zone asks',
      rule({ when: { zones: ['zone-a'] }, onTimeout: 'proceed' }),
      { ask: true, why: 'zone zone-a asks for approval', onTimeout: 'proceed' },
    ],
    [
      'a policy from before rules that requires approval asks and escalates',
      { required: true, timeoutSeconds: 60 },
      { ask: true, why: 'policy p requires approval', onTimeout: 'escalate' },
    ],
    [
      'a policy from before rules that does not require it asks nobody',
      { required: false, timeoutSeconds: 60 },
      { ask: false },
    ],
  ];
  test.each(cases)('%s', (_what, approval, expected) =>
    expect(approvalPlan({ name: 'p', approval }, facts)).toEqual(expected),
  );
});

describe('drainPlan', () => {
  const on = () => true;
  const cases: Array<
    [string, RemediationPolicy['drain'], HostState, { approved: boolean; evacuationEnabled: () => boolean }, DrainPlan]
  > = [
    [
      'a policy that never evacuates live-migrates, even a host that is off',
      { emptyTimeoutSeconds: 900 },
      host({ power: 'off' }),
      { approved: false, evacuationEnabled: on },
      { move: 'live', coldFallback: false, askFirst: null },
    ],
    [
      "the cold-migration fallback is the policy's to allow",
      { emptyTimeoutSeconds: 900, coldMigrationFallback: true },
      host(),
      { approved: false, evacuationEnabled: on },
      { move: 'live', coldFallback: true, askFirst: null },
    ],
    [
      'when-host-down with a host that is up live-migrates',
      { emptyTimeoutSeconds: 900, evacuate: 'when-host-down' },
      host(),
      { approved: false, evacuationEnabled: on },
      { move: 'live', coldFallback: false, askFirst: null },
    ],
    [
      'when-host-down with a host that is off evacuates, a person approving first',
      { emptyTimeoutSeconds: 900, evacuate: 'when-host-down' },
      host({ power: 'off', up: false }),
      { approved: false, evacuationEnabled: on },
      {
        move: 'evacuate',
        coldFallback: false,
        askFirst:
          'cmp-1 is down (power off, compute service down): its 4 servers would be evacuated, rebuilt on other hosts',
      },
    ],
    [
      'a host whose compute service is down while powered on is down too',
      { emptyTimeoutSeconds: 900, evacuate: 'when-host-down', evacuationApproval: false },
      host({ up: false }),
      { approved: false, evacuationEnabled: on },
      { move: 'evacuate', coldFallback: false, askFirst: null },
    ],
    [
      'an evacuation a person already approved is not asked about twice',
      { emptyTimeoutSeconds: 900, evacuate: 'when-host-down' },
      host({ power: 'off' }),
      { approved: true, evacuationEnabled: on },
      { move: 'evacuate', coldFallback: false, askFirst: null },
    ],
    [
      'a run from before evacuation existed live-migrates',
      { emptyTimeoutSeconds: 900, evacuate: 'when-host-down' },
      host({ power: 'off' }),
      { approved: false, evacuationEnabled: () => false },
      { move: 'live', coldFallback: false, askFirst: null },
    ],
  ];
  test.each(cases)('%s', (_what, drain, state, context, expected) =>
    expect(drainPlan(drain, state, context)).toEqual(expected),
  );

  test('whether evacuation is enabled is asked only of a policy that evacuates (a workflow patch marker is recorded when asked)', () => {
    const asked = jest.fn(() => true);
    drainPlan({ emptyTimeoutSeconds: 900 }, host({ power: 'off' }), { approved: false, evacuationEnabled: asked });
    expect(asked).not.toHaveBeenCalled();
  });
});
