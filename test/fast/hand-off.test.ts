/**
 * A long hand-off (workflows/remediation.ts `resumeHandOff`): the host waits
 * with an operator for as long as they need, alerts keep arriving, and the
 * workflow continues as new when Temporal suggests it, carrying the view,
 * the alert count and Shipshape's fence into the next run.
 *
 * The test server suggests continuing as new at 4,096 history events (or 4 MiB)
 * and takes no smaller limit, so the test sends an alert storm: a few
 * thousand alerts, 250 at a time.
 */
import type { AlertDelivery } from '../../domain/remediation';
import { policy, useHarness, type Remediation } from './support/harness';

const h = useHarness();
const evacuating = policy(`name: host-down-evacuate
match: { signals: [HostDown] }
drain: { emptyTimeoutSeconds: 900, evacuate: when-host-down, evacuationApproval: false }
steps:
  - { action: power-cycle, timeoutSeconds: 600, fixWithinSeconds: 600 }
verify: { attempts: 6, intervalSeconds: 60 }
`);

/** A host whose power cycle did not bring it back: with an operator, Shipshape's fence still on. */
async function handedOffFenced(): Promise<Remediation> {
  const r = await h.start(evacuating, (c) => {
    c.host.serviceRunning = false;
    c.repairs['power-cycle'] = 'no-change';
  });
  await h.env.sleep('15 minutes');
  await r.untilPhase('awaiting-operator');
  return r;
}

/** Alerts, 250 at a time, until the workflow has continued as new; returns every answer. */
async function alertStorm(r: Remediation, firstRunId: string): Promise<AlertDelivery[]> {
  const answers: AlertDelivery[] = [];
  for (let batch = 0; batch < 20; batch++) {
    const sent = Array.from({ length: 250 }, (_, i) => r.alert(`storm-${batch}-${i}`) as Promise<AlertDelivery>);
    answers.push(...(await Promise.all(sent)));
    if ((await r.handle.describe()).runId !== firstRunId) return answers;
  }
  throw new Error(`no continue-as-new after ${answers.length} alerts`);
}

test('14 days with an operator: nothing times out, nobody is paged again, and the lease stays held', async () => {
  const r = await handedOffFenced();
  const pages = r.cloud.notifications.length;
  await h.env.sleep('14 days');

  const v = await r.view();
  expect(v.phase).toBe('awaiting-operator');
  expect((await h.now()) - r.startedAt).toBeGreaterThanOrEqual(14 * 24 * 3600 * 1000);
  expect(r.cloud.notifications).toHaveLength(pages);
  expect(r.cloud.callsOf('releaseCapacity')).toEqual([]);
});

test('an alert storm during a long hand-off continues the workflow as new, keeping the hand-off, the alert count, the steps and the fence; the hand-back reaches the new run, which lifts the fence and returns the host', async () => {
  const r = await handedOffFenced();
  await h.env.sleep('3 days');
  const before = await r.view();
  expect(before.handOff?.reason).toContain("Shipshape's fence is still on");
  const firstRunId = (await r.handle.describe()).runId;

  const answers = await alertStorm(r, firstRunId);
  expect(answers.every((a) => a.outcome === 'suppressed')).toBe(true);
  const firstRun = await h.env.client.workflow.getHandle(r.workflowId, firstRunId).describe();
  expect(firstRun.status.name).toBe('CONTINUED_AS_NEW');
  const secondRunId = (await r.handle.describe()).runId;
  expect(secondRunId).not.toBe(firstRunId);

  const after = await r.view();
  expect(after).toMatchObject({
    phase: 'awaiting-operator',
    handOff: before.handOff,
    steps: before.steps,
    remediationId: r.remediationId,
  });
  expect(after.signals.received).toBe(before.signals.received + answers.length);
  expect(r.cloud.notifications.filter((n) => n.kind === 'hand-off')).toHaveLength(1);
  expect(r.cloud.callsOf('releaseCapacity')).toEqual([]);

  // The operator found a kernel panic, rebooted the host, and nova-compute started again.
  Object.assign(r.cloud.host, { serviceRunning: true, evacuatedSinceRestart: false });
  await r.handBack('operator-1', 'kernel panic on boot; fixed the initramfs, rebooted');
  const v = await r.result();

  expect(v.phase).toBe('returned');
  expect(r.cloud.records.find((x) => x.audit?.action === 'fence lifted')?.runId).toBe(secondRunId);
  expect(r.cloud.host).toMatchObject({ fenced: false, enabled: true });
  expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
});
