/**
 * The drain's two fallbacks (workflows/repair.ts): evacuation of a host that
 * is down, behind Shipshape's fence (Nova's forced_down), which Nova lifts only
 * once the host's nova-compute has restarted; and the cold migration of a
 * server whose live migration fails.
 */
import { policy, useHarness } from './support/harness';
import type { StubCloud } from './support/stub-cloud';

const h = useHarness();
const hostDown = (c: StubCloud) => void (c.host.serviceRunning = false);
const evacuating = (approval: boolean) =>
  policy(`name: host-down-evacuate
match: { signals: [HostDown] }
approval: { mode: never }
drain: { emptyTimeoutSeconds: 900, evacuate: when-host-down, evacuationApproval: ${approval} }
steps:
  - { action: power-cycle, timeoutSeconds: 600, fixWithinSeconds: 600 }
verify: { attempts: 6, intervalSeconds: 30 }
`);

describe('evacuation of a host that is down', () => {
  test('the host is fenced and its servers evacuated; Nova keeps the fence until the power cycle has restarted nova-compute, then Shipshape lifts it and returns the host', async () => {
    const r = await h.start(evacuating(false), (c) => {
      hostDown(c);
      c.repairs['power-cycle'] = 'fixes';
      c.bootSeconds = 240; // a real server takes minutes to boot
    });
    const v = await r.result();
    const host = r.cloud.host.name;

    expect(v.phase).toBe('returned');
    const fence = r.cloud.disruptiveActions.filter((a, i, all) => a !== all[i - 1]); // repeated refusals while it boots, once
    expect(fence).toEqual([
      'fence',
      `evacuate ${host}-vm1`,
      `evacuate ${host}-vm2`,
      'lift fence (refused)',
      'power-cycle',
      'lift fence (refused)',
      'lift fence',
    ]);
    expect(r.cloud.auditEntry('fence kept')?.reason).toMatch(/Nova refuses to unset forced_down/);
    const actions = r.cloud.auditActions;
    expect(actions.indexOf('fence kept')).toBeLessThan(actions.indexOf('power-cycle'));
    expect(actions.indexOf('power-cycle')).toBeLessThan(actions.indexOf('fence lifted'));
    expect(actions.indexOf('fence lifted')).toBeLessThan(actions.indexOf('verification passed'));
    expect(r.cloud.host).toMatchObject({ fenced: false, enabled: true, servers: [] });
    expect(v.poolState).toBe('in-service');
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
  });

  test('when the power cycle does not bring the host back, it goes to an operator with the fence still on, and the hand-off says how to lift it', async () => {
    const r = await h.start(evacuating(false), (c) => {
      hostDown(c);
      c.repairs['power-cycle'] = 'no-change';
    });
    await h.env.sleep('15 minutes');
    const v = await r.untilPhase('awaiting-operator');

    expect(v.handOff?.reason).toMatch(
      /^no step fixed the host: power-cycle done, still health warning: nova-compute not reporting; compute service down after 600s/,
    );
    expect(v.handOff?.reason).toContain(
      `Shipshape's fence is still on: nova-compute on ${r.cloud.host.name} is forced down`,
    );
    expect(v.handOff?.reason).toContain(`openstack compute service set --up ${r.cloud.host.name} nova-compute`);
    expect(r.cloud.host).toMatchObject({ fenced: true, enabled: false, servers: [] });
    expect(r.cloud.auditActions).not.toContain('fence lifted');
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([]);
  });

  test('a person approves an evacuation first: with no decision within 30 minutes the host goes to an operator unfenced, its servers where they were', async () => {
    const r = await h.start(evacuating(true), hostDown);
    const asked = await r.untilPhase('awaiting-approval');
    expect(r.cloud.auditEntry('approval requested')?.reason).toMatch(
      /is down \(power on, compute service down\): its 2 servers would be evacuated/,
    );
    expect(asked.poolState).toBe('in-service');

    await h.env.sleep('31 minutes');
    const v = await r.untilPhase('awaiting-operator');
    expect(v.handOff?.reason).toBe(`no approver decided on evacuating ${r.cloud.host.name} within 1800s`);
    expect(r.cloud.disruptiveActions).toEqual([]);
    expect(r.cloud.host).toMatchObject({
      fenced: false,
      enabled: true,
      servers: [`${r.cloud.host.name}-vm1`, `${r.cloud.host.name}-vm2`],
    });
  });
});

describe('a server whose live migration fails', () => {
  const coldFallback = (allowed: boolean) =>
    policy(`name: hardware-fault-cold
match: { signals: [HardwareFault] }
drain: { emptyTimeoutSeconds: 900, coldMigrationFallback: ${allowed} }
steps:
  - { action: power-cycle, fixWithinSeconds: 600 }
verify: { attempts: 6, intervalSeconds: 10 }
`);
  const oneServerStuck = (c: StubCloud) => {
    c.host.fault = 'PSU 2 failed';
    c.liveMigrationFails.add(`${c.host.name}-vm2`);
    c.repairs['power-cycle'] = 'fixes';
  };

  test('is cold-migrated when the policy allows it, the failure on the record, and the repair goes on', async () => {
    const r = await h.start(coldFallback(true), oneServerStuck, { signal: 'HardwareFault' });
    const v = await r.result();
    const host = r.cloud.host.name;

    expect(v.phase).toBe('returned');
    expect(r.cloud.disruptiveActions).toEqual([
      `live ${host}-vm1`,
      `live ${host}-vm2`,
      `cold ${host}-vm2`,
      'power-cycle',
    ]);
    expect(r.cloud.auditEntry('live migration failed')).toMatchObject({
      reason: expect.stringMatching(/^MigrationFailed: server cmp-\d+-vm2 could not be moved/),
      before: { server: `${host}-vm2`, host },
    });
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
  });

  test('without the fallback, the drain stops there and the host goes to an operator with the server named, no repair tried', async () => {
    const r = await h.start(coldFallback(false), oneServerStuck, { signal: 'HardwareFault' });
    const v = await r.untilPhase('awaiting-operator');
    const host = r.cloud.host.name;

    expect(v.handOff?.reason).toMatch(
      new RegExp(`^MigrationFailed: server ${host}-vm2 could not be moved off ${host}`),
    );
    expect(r.cloud.disruptiveActions).toEqual([`live ${host}-vm1`, `live ${host}-vm2`]);
    expect(r.cloud.host).toMatchObject({ enabled: false, servers: [`${host}-vm2`] });
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([]);
  });
});
