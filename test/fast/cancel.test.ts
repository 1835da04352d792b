/**
 * An operator's cancel (the `cancel` Update, workflows/messages.ts) in every
 * phase a remediation can be in: it stops before the next step, never returns
 * the host to the pool itself, says where the host was left, and gives the
 * capacity lease back.
 */
import { ACTIVE_PHASES, type Phase, type RemediationPolicy } from '../../domain/remediation';
import { policy, shippedPolicy, useHarness, type Remediation } from './support/harness';
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
const downAndFixable = (c: StubCloud) => {
  down(c);
  c.repairs['power-cycle'] = 'fixes';
};
const UNTOUCHED = 'host left in service, untouched';
const leftOut = (servers: number) =>
  `host left out of the pool (compute service disabled), ${servers} servers still on it`;

interface Row {
  phase: Phase;
  how: string;
  policy: RemediationPolicy;
  prepare: (c: StubCloud) => void;
  /** Bring the remediation to the moment of the cancel; returns what lets it go on afterwards. */
  reach: (r: Remediation) => Promise<() => void>;
  where: string;
  poolState: 'in-service' | 'out-of-service';
  /** What was done to the host in all (with `vm1`, `vm2` for its servers). */
  done: string[];
}

/** Hold a call until the cancel is in, then let it answer. */
const during = (gate: (c: StubCloud) => { reached: Promise<void>; release(): void }) => async (r: Remediation) => {
  const g = gate(r.cloud);
  await g.reached;
  return g.release;
};
const inPhase = (phase: Phase) => async (r: Remediation) => {
  await r.untilPhase(phase);
  return () => undefined;
};

const ROWS: Row[] = [
  {
    phase: 'auditing',
    how: 'while the host is being audited',
    policy: hostDown,
    prepare: down,
    reach: during((c) => c.hold('auditHost')),
    where: UNTOUCHED,
    poolState: 'in-service',
    done: [],
  },
  {
    phase: 'awaiting-approval',
    how: 'while an approver is awaited',
    policy: withApproval,
    prepare: down,
    reach: inPhase('awaiting-approval'),
    where: UNTOUCHED,
    poolState: 'in-service',
    done: [],
  },
  {
    phase: 'waiting-for-capacity',
    how: 'while the guards hold it back',
    policy: hostDown,
    prepare: (c) => {
      down(c);
      c.capacity = () => ({
        acquired: false,
        blockers: [{ guard: 'zone-concurrency', reason: 'zone-a already has 1 host out for remediation (limit 1)' }],
        pollSeconds: 10,
        waitTimeoutMinutes: 60,
      });
    },
    reach: inPhase('waiting-for-capacity'),
    where: UNTOUCHED,
    poolState: 'in-service',
    done: [],
  },
  {
    phase: 'draining',
    how: 'while the first server is moving',
    policy: hostDown,
    prepare: downAndFixable,
    reach: during((c) => c.hold('moveServerOffHost')),
    where: leftOut(1),
    poolState: 'out-of-service',
    done: ['live vm1'],
  },
  {
    phase: 'repairing',
    how: 'while the host power-cycles',
    policy: hostDown,
    prepare: downAndFixable,
    reach: during((c) => c.hold('powerCycle')),
    where: leftOut(0),
    poolState: 'out-of-service',
    done: ['live vm1', 'live vm2', 'power-cycle'],
  },
  {
    phase: 'verifying',
    how: 'while the repaired host is checked',
    policy: hostDown,
    prepare: downAndFixable,
    reach: during((c) => c.hold('auditHost', () => c.phase === 'verifying')),
    where: leftOut(0),
    poolState: 'out-of-service',
    done: ['live vm1', 'live vm2', 'power-cycle'],
  },
  {
    phase: 'returning',
    how: 'after verification passed, before the host is enabled',
    policy: hostDown,
    prepare: downAndFixable,
    reach: during((c) => c.hold('recordProgress', (record) => record.view.phase === 'returning')),
    where: leftOut(0),
    poolState: 'out-of-service',
    done: ['live vm1', 'live vm2', 'power-cycle'],
  },
  {
    phase: 'awaiting-operator',
    how: 'while the host is with an operator',
    policy: hostDown,
    prepare: (c) => {
      down(c);
      c.liveMigrationFails.add(`${c.host.name}-vm2`); // the drain fails: handed off
    },
    reach: inPhase('awaiting-operator'),
    where: leftOut(1),
    poolState: 'out-of-service',
    done: ['live vm1', 'live vm2'],
  },
];

test('the table covers every phase a remediation can be cancelled in', () => {
  expect(ROWS.map((r) => r.phase).sort()).toEqual([...ACTIVE_PHASES].sort());
});

test.each(ROWS)(
  'cancelled $how ($phase): nothing more is done, the host is left as it was ($poolState), the record says so, and the lease is released',
  async (row) => {
    const r = await h.start(row.policy, row.prepare);
    const goOn = await row.reach(r);
    expect((await r.view()).phase).toBe(row.phase);

    await r.cancel('operator-1', 'maintenance window over, stop');
    goOn();
    const v = await r.result();

    expect(v.phase).toBe('cancelled');
    expect(v.outcome?.reason).toBe(`maintenance window over, stop; ${row.where}`);
    expect(v.poolState).toBe(row.poolState);
    expect(r.cloud.auditEntry('remediation cancelled')).toMatchObject({ actorKind: 'person', actor: 'operator-1' });
    expect(r.cloud.disruptiveActions).toEqual(
      row.done.map((a) => a.replace(/vm\d/, (vm) => `${r.cloud.host.name}-${vm}`)),
    );
    expect(r.cloud.callsOf('enableCompute')).toEqual([]);
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
  },
);

test("a cancel during the inlet policy's 30-minute wait ends the wait at once", async () => {
  const r = await h.start(
    shippedPolicy('inlet-temperature'),
    (c) => void (c.host.bmc = { health: 'warning', reasons: ['inlet 31 °C above 27 °C'] }),
    { signal: 'InletTemperatureHigh' },
  );
  await r.untilStep('wait 1800s');
  await r.cancel('facilities-1', 'the CRAC unit is fixed; we will watch it');
  const v = await r.result();

  expect(v.phase).toBe('cancelled');
  expect(Date.parse(v.outcome!.at) - r.startedAt).toBeLessThan(60 * 1000);
  expect(v.outcome?.reason).toBe(`the CRAC unit is fixed; we will watch it; ${leftOut(0)}`);
  expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
});

test('cancelled from Temporal itself (UI or CLI) during the wait: recorded like an operator cancel, the lease released, and the run ends cancelled', async () => {
  const r = await h.start(
    shippedPolicy('inlet-temperature'),
    (c) => void (c.host.bmc = { health: 'warning', reasons: ['inlet 31 °C above 27 °C'] }),
    { signal: 'InletTemperatureHigh' },
  );
  // Idle in its timer: the test server fails a cancellation that races an activity's completion (ACTIVITY_UNKNOWN).
  await r.untilStep('wait 1800s');
  await r.handle.cancel();
  await expect(r.result()).rejects.toThrow('Workflow execution cancelled');

  const last = r.cloud.records.at(-1)!;
  expect(last.view).toMatchObject({
    phase: 'cancelled',
    poolState: 'out-of-service',
    outcome: { reason: `workflow cancelled in Temporal; ${leftOut(0)}` },
  });
  expect(last.audit).toMatchObject({ action: 'remediation cancelled', actorKind: 'person', actor: 'temporal' });
  expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
});
