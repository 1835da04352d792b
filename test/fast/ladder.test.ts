/**
 * The escalation ladder (workflows/repair.ts `drainAndClimbLadder`): each
 * repair step gets its `fixWithinSeconds` to make the host healthy before the
 * next is tried; a step that fails outright is climbed past at once; when the
 * ladder runs out, the host goes to an operator with every step's outcome.
 */
import { policy, shippedPolicy, useHarness } from './support/harness';
import type { ActivityName, Repair, StubCloud } from './support/stub-cloud';

const h = useHarness();
const LADDER: Repair[] = ['restart-compute-service', 'reboot', 'power-cycle'];
const ACTIVITY: Record<Repair, ActivityName> = {
  'restart-compute-service': 'restartComputeService',
  reboot: 'reboot',
  'power-cycle': 'powerCycle',
};
const hostDownLadder = policy(`name: host-down-ladder
match: { signals: [HostDown, NovaComputeDown] }
steps:
  - { action: restart-compute-service, timeoutSeconds: 300, fixWithinSeconds: 120 }
  - { action: reboot, timeoutSeconds: 900, fixWithinSeconds: 600 }
  - { action: power-cycle, timeoutSeconds: 600, fixWithinSeconds: 600 }
verify: { attempts: 6, intervalSeconds: 30 }
`);
const STILL_DOWN = 'health warning: nova-compute not reporting; compute service down';
const repairsOf = (c: StubCloud) => c.disruptiveActions.filter((a) => (LADDER as string[]).includes(a));
const hostDown = (c: StubCloud) => {
  c.host.serviceRunning = false;
  c.bootSeconds = 180;
};

describe('the ladder fixes the host', () => {
  // healthyWithin stops polling when the next check would fall past the deadline,
  // so a step is watched for its fixWithinSeconds less up to one poll interval (30 s).
  const POLL = 30;
  test.each([
    { step: 1, fixedBy: 'restart-compute-service' as Repair, after: 0 },
    { step: 2, fixedBy: 'reboot' as Repair, after: 120 },
    { step: 3, fixedBy: 'power-cycle' as Repair, after: 120 + 600 },
  ])(
    'at step $step ($fixedBy): each step before it was watched for its fixWithinSeconds ($after s in all), none after it runs, and the host is returned',
    async ({ step, fixedBy, after }) => {
      const r = await h.start(hostDownLadder, (c) => {
        hostDown(c);
        c.repairs[fixedBy] = 'fixes';
      });
      const v = await r.result();

      expect(v.phase).toBe('returned');
      expect(repairsOf(r.cloud)).toEqual(LADDER.slice(0, step));
      const tried = r.cloud.firstCall(ACTIVITY[fixedBy])!.at - r.cloud.firstCall('disableCompute')!.at;
      expect(tried).toBeGreaterThanOrEqual((after - POLL * (step - 1)) * 1000);
      expect(tried).toBeLessThanOrEqual((after + 60) * 1000);
      expect(r.cloud.host).toMatchObject({ enabled: true, servers: [] });
      expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
    },
  );

  test('a step that fails outright is climbed past at once, its failure on the step, and the next one fixes the host', async () => {
    const r = await h.start(hostDownLadder, (c) => {
      hostDown(c);
      c.repairs.reboot = 'fails';
      c.repairs['power-cycle'] = 'fixes';
    });
    const v = await r.result();

    expect(v.phase).toBe('returned');
    expect(repairsOf(r.cloud)).toEqual(LADDER);
    expect(r.cloud.firstCall('powerCycle')!.at - r.cloud.firstCall('reboot')!.at).toBeLessThan(60 * 1000);
    expect(v.steps.find((s) => s.name === 'reboot')).toMatchObject({
      status: 'failed',
      detail: `ProviderRejected: reboot of ${r.cloud.host.name} refused by the BMC`,
    });
  });
});

describe('the ladder runs out', () => {
  test('the host goes to an operator drained and out of the pool, the hand-off lists every step and how it ended, and the lease stays held', async () => {
    const r = await h.start(hostDownLadder, (c) => {
      hostDown(c);
      c.repairs.reboot = 'fails';
    });
    await h.env.sleep('30 minutes');
    const v = await r.untilPhase('awaiting-operator');
    const host = r.cloud.host.name;

    const reason =
      `no step fixed the host: restart-compute-service done, still ${STILL_DOWN} after 120s` +
      ` | reboot failed: ProviderRejected: reboot of ${host} refused by the BMC` +
      ` | power-cycle done, still ${STILL_DOWN} after 600s`;
    expect(v.handOff?.reason).toBe(reason);
    expect(r.cloud.notifications.at(-1)).toMatchObject({ kind: 'hand-off', reason });
    expect(v.poolState).toBe('awaiting-operator');
    expect(r.cloud.host).toMatchObject({ enabled: false, servers: [] });
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([]);

    r.cloud.host.serviceRunning = true; // the operator fixed nova-compute's configuration
    await r.handBack('operator-1', 'nova.conf had a stale transport_url');
    const done = await r.result();
    expect(done.phase).toBe('returned');
    expect(r.cloud.host.enabled).toBe(true);
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
  });
});

describe('a ladder that waits (the shipped inlet-temperature policy: tell facilities, wait 30 minutes)', () => {
  const hot = (c: StubCloud) => void (c.host.bmc = { health: 'warning', reasons: ['inlet 31 °C above 27 °C'] });

  test('a host still hot after the 30 minutes, and not before, goes to an operator', async () => {
    const r = await h.start(shippedPolicy('inlet-temperature'), hot, {
      signal: 'InletTemperatureHigh',
      severity: 'warning',
    });
    await r.untilPhase('repairing');
    await h.env.sleep('29 minutes');
    expect((await r.view()).phase).toBe('repairing');

    await h.env.sleep('2 minutes');
    const v = await r.untilPhase('awaiting-operator');
    expect(v.handOff?.reason).toBe('no step fixed the host: wait 1800s: still BMC warning: inlet 31 °C above 27 °C');
    expect(r.cloud.notifications.map((n) => n.kind)).toEqual(['notice', 'hand-off']);
    expect(r.cloud.notifications[0]!.reason).toMatch(/^Inlet temperature high: check the CRAC unit/);
  });

  test('a host that cooled down during the wait is verified and returned to the pool', async () => {
    const r = await h.start(
      shippedPolicy('inlet-temperature'),
      (c, startedAt) => {
        hot(c);
        c.changeAt(startedAt + 20 * 60 * 1000, (host) => void (host.bmc = { health: 'ok', reasons: [] }));
      },
      { signal: 'InletTemperatureHigh', severity: 'warning' },
    );
    const v = await r.result();
    expect(v.phase).toBe('returned');
    expect(repairsOf(r.cloud)).toEqual([]);
    expect(r.cloud.host).toMatchObject({ enabled: true, servers: [] });
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
  });
});
