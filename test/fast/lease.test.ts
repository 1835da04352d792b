/**
 * The capacity lease (workflows/capacity.ts takes it, RemediationState.finish
 * gives it back): released on every way a remediation ends, before the final
 * phase is recorded; a hand-off keeps it (see hand-off.test.ts and
 * ladder.test.ts). And the gate itself: a remediation waits while the guards
 * say no, and escalates when they say no for too long.
 */
import { FINAL_PHASES, type FinalPhase, type RemediationPolicy } from '../../domain/remediation';
import { policy, useHarness, type Remediation } from './support/harness';
import type { StubCloud } from './support/stub-cloud';

const h = useHarness();
const hostDown = policy(`name: host-down
match: { signals: [HostDown] }
steps:
  - { action: power-cycle, timeoutSeconds: 600, fixWithinSeconds: 600 }
verify: { attempts: 6, intervalSeconds: 10 }
`);
const withApproval = policy(`name: host-down-approved
match: { signals: [HostDown] }
approval: { mode: always, timeoutSeconds: 1800, onTimeout: escalate }
steps:
  - { action: power-cycle, timeoutSeconds: 600, fixWithinSeconds: 600 }
`);
const down = (c: StubCloud) => void (c.host.serviceRunning = false);

interface Exit {
  phase: FinalPhase;
  how: string;
  policy: RemediationPolicy;
  prepare: (c: StubCloud) => void;
  act?: (r: Remediation) => Promise<unknown>;
}

const EXITS: Exit[] = [
  {
    phase: 'returned',
    how: 'repaired and returned',
    policy: hostDown,
    prepare: (c) => (down(c), (c.repairs['power-cycle'] = 'fixes')),
  },
  { phase: 'false-alarm', how: 'the audit finds the host healthy', policy: hostDown, prepare: () => undefined },
  {
    phase: 'rejected',
    how: 'an approver rejects it',
    policy: withApproval,
    prepare: down,
    act: async (r) => (await r.untilPhase('awaiting-approval'), r.reject('approver-1', 'not now')),
  },
  {
    phase: 'cancelled',
    how: 'an operator cancels it',
    policy: withApproval,
    prepare: down,
    act: async (r) => (await r.untilPhase('awaiting-approval'), r.cancel('operator-1', 'duplicate ticket')),
  },
  {
    phase: 'stood-down',
    how: 'a person re-enables the host mid-drain',
    policy: hostDown,
    prepare: (c) => {
      down(c);
      const moving = c.hold('moveServerOffHost');
      void moving.reached.then(() => {
        Object.assign(c.host, { enabled: true, disabledReason: null }); // the person
        moving.release();
      });
    },
  },
];

test('the table covers every final phase', () => {
  expect(EXITS.map((e) => e.phase).sort()).toEqual([...FINAL_PHASES].sort());
});

test.each(EXITS)('$phase ($how): the lease is released once, before the final phase is recorded', async (exit) => {
  const r = await h.start(exit.policy, exit.prepare);
  await exit.act?.(r);
  const v = await r.result();

  expect(v.phase).toBe(exit.phase);
  expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
  const released = r.cloud.calls.findIndex((c) => c.name === 'releaseCapacity');
  const recordedFinal = r.cloud.calls.findIndex(
    (c) => c.name === 'recordProgress' && (c.args[0] as { view: { phase: string } }).view.phase === exit.phase,
  );
  expect(released).toBeGreaterThanOrEqual(0);
  expect(released).toBeLessThan(recordedFinal);
});

describe('the capacity gate', () => {
  const blocked = {
    acquired: false as const,
    blockers: [
      { guard: 'zone-concurrency' as const, reason: 'zone-a already has 1 host out for remediation (limit 1)' },
    ],
    pollSeconds: 10,
    waitTimeoutMinutes: 60,
  };

  test('while the guards say no, it waits in view, asking again every 10 s, and drains the host once they grant a lease', async () => {
    const r = await h.start(hostDown, (c, startedAt) => {
      down(c);
      c.repairs['power-cycle'] = 'fixes';
      c.capacity = (now) => (now < startedAt + 5 * 60 * 1000 ? blocked : { acquired: true, trippedBreaker: null });
    });
    const waiting = await r.untilPhase('waiting-for-capacity');
    expect(waiting.waitingFor).toEqual(blocked.blockers);
    expect(waiting.poolState).toBe('in-service');

    const v = await r.result();
    expect(v.phase).toBe('returned');
    const asked = r.cloud.calls.filter((c) => c.name === 'acquireCapacity').map((c) => c.at);
    expect(asked[1]! - asked[0]!).toBeGreaterThanOrEqual(10 * 1000);
    expect(asked.length).toBeGreaterThanOrEqual(25); // about every 10 s for 5 minutes, then granted
    expect(asked.length).toBeLessThanOrEqual(31);
    expect(r.cloud.firstCall('disableCompute')!.at).toBeGreaterThanOrEqual(r.startedAt + 5 * 60 * 1000);
  });

  test('when they say no for the whole hour the guards allow, the host goes to an operator untouched', async () => {
    const r = await h.start(hostDown, (c) => {
      down(c);
      c.capacity = () => ({ ...blocked, pollSeconds: 120 });
    });
    await r.untilPhase('waiting-for-capacity');
    await h.env.sleep('61 minutes');
    const v = await r.untilPhase('awaiting-operator');

    expect(v.handOff?.reason).toBe(
      'waited 60 min for capacity: zone-a already has 1 host out for remediation (limit 1)',
    );
    expect(r.cloud.disruptiveActions).toEqual([]);
    expect(r.cloud.callsOf('disableCompute')).toEqual([]);
  });
});
