/**
 * Approval with a timeout (domain/policy.ts `approvalReason`, the policy's
 * `onTimeout`): escalate, reject or proceed when no approver decides within
 * the policy's window, here the shipped 30 minutes, skipped on the test
 * server's clock.
 */
import { policy, shippedPolicy, useHarness } from './support/harness';
import type { StubCloud } from './support/stub-cloud';

const h = useHarness();
const faulty = (c: StubCloud) => void (c.host.fault = 'DIMM A1 uncorrectable errors');
const hardwareFault = (onTimeout: 'escalate' | 'reject' | 'proceed') =>
  policy(`name: hardware-fault
match: { signals: [HardwareFault] }
approval: { mode: always, approverRoles: [approver, admin], timeoutSeconds: 1800, onTimeout: ${onTimeout} }
steps:
  - { action: power-cycle, fixWithinSeconds: 600 }
verify: { attempts: 6, intervalSeconds: 10 }
`);

describe('no approver decides within the policy timeout', () => {
  test('escalate (the shipped hardware-fault policy): after 30 minutes, not 29, the host goes to an operator untouched and the page says why', async () => {
    const r = await h.start(shippedPolicy('hardware-fault'), faulty, { signal: 'HardwareFault' });
    await r.untilPhase('awaiting-approval');
    await h.env.sleep('29 minutes');
    expect((await r.view()).phase).toBe('awaiting-approval');

    await h.env.sleep('2 minutes');
    const v = await r.untilPhase('awaiting-operator');
    expect(v.handOff?.reason).toBe('no approver decided within 1800s');
    expect(r.cloud.notifications.map((n) => [n.kind, n.reason])).toEqual([
      ['approval-requested', `approve or reject remediation of ${r.cloud.host.name}`],
      ['approval-escalated', 'no approver decided within 1800s'],
    ]);
    expect(r.cloud.callsOf('disableCompute')).toEqual([]);
    expect(r.cloud.disruptiveActions).toEqual([]);
  });

  test('escalated, then handed back fixed: the host is verified and stays in the pool, and the lease is released', async () => {
    const r = await h.start(shippedPolicy('hardware-fault'), faulty, { signal: 'HardwareFault' });
    await r.untilPhase('awaiting-approval');
    await h.env.sleep('31 minutes');
    await r.untilPhase('awaiting-operator');

    r.cloud.host.fault = null; // the technician replaced the DIMM
    await r.handBack('technician-1', 'replaced DIMM A1');
    const v = await r.result();
    expect(v.phase).toBe('returned');
    expect(v.resolution).toEqual({ by: 'technician-1', note: 'replaced DIMM A1', fixedBy: null });
    expect(r.cloud.disruptiveActions).toEqual([]);
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
  });

  test('reject: after 30 minutes the remediation is rejected, the host untouched and in service, and the lease released', async () => {
    const r = await h.start(hardwareFault('reject'), faulty, { signal: 'HardwareFault' });
    const v = await r.result();
    expect(v.phase).toBe('rejected');
    expect(v.outcome?.reason).toBe('no approver decided within 1800s; the policy rejects on timeout');
    expect(Date.parse(v.outcome!.at) - r.startedAt).toBeGreaterThanOrEqual(1800 * 1000);
    expect(v.poolState).toBe('in-service');
    expect(r.cloud.disruptiveActions).toEqual([]);
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
  });

  test('proceed: after 30 minutes the timeout is recorded and the host is drained, repaired and returned', async () => {
    const r = await h.start(
      hardwareFault('proceed'),
      (c) => {
        faulty(c);
        c.repairs['power-cycle'] = 'fixes';
      },
      { signal: 'HardwareFault' },
    );
    const v = await r.result();
    expect(v.phase).toBe('returned');
    expect(r.cloud.auditEntry('approval timed out')?.reason).toBe(
      'no approver decided within 1800s; the policy proceeds on timeout',
    );
    const actions = r.cloud.auditActions;
    expect(actions.indexOf('approval timed out')).toBeLessThan(actions.indexOf('drain started'));
    expect(r.cloud.disruptiveActions).toEqual([
      `live ${r.cloud.host.name}-vm1`,
      `live ${r.cloud.host.name}-vm2`,
      'power-cycle',
    ]);
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
  });
});

describe('an approver decides within the timeout', () => {
  test('approved: the drain starts at once, without waiting out the 30 minutes', async () => {
    const r = await h.start(
      hardwareFault('escalate'),
      (c) => {
        faulty(c);
        c.repairs['power-cycle'] = 'fixes';
      },
      { signal: 'HardwareFault' },
    );
    await r.untilPhase('awaiting-approval');
    const started = await h.now();
    await r.approve('approver-1');
    const v = await r.result();
    expect(v.phase).toBe('returned');
    expect(Date.parse(v.outcome!.at) - started).toBeLessThan(60 * 1000);
    expect(r.cloud.auditEntry('approved')).toMatchObject({ actorKind: 'person', actor: 'approver-1' });
  });

  test('rejected: the remediation ends rejected with the approver and their comment on the record, the host untouched', async () => {
    const r = await h.start(hardwareFault('escalate'), faulty, { signal: 'HardwareFault' });
    await r.untilPhase('awaiting-approval');
    await r.reject('approver-1', 'vendor visit tomorrow; leave it in');
    const v = await r.result();
    expect(v.phase).toBe('rejected');
    expect(v.outcome?.reason).toBe('vendor visit tomorrow; leave it in');
    expect(r.cloud.auditEntry('remediation rejected')).toMatchObject({ actorKind: 'person', actor: 'approver-1' });
    expect(r.cloud.disruptiveActions).toEqual([]);
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
  });

  test('the person whose alert started the remediation may not approve it', async () => {
    const r = await h.start(hardwareFault('escalate'), faulty, { signal: 'HardwareFault', requestedBy: 'oncall-1' });
    await r.untilPhase('awaiting-approval');
    await expect(r.approve('oncall-1')).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/oncall-1 requested this remediation and may not approve it/) },
    });
    expect((await r.view()).phase).toBe('awaiting-approval');
  });
});
