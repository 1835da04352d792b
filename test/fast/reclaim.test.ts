/**
 * One resource's reclaim (workflows/reclaim.ts) on the time-skipping test
 * server with stub activities: the grace period is a durable timer counted
 * from the notice and never ends early, reminders come before its end, an
 * extension moves it on within the rule's maximum, the resource is read
 * again before every step (used, kept or exempted meanwhile: the reclaim
 * stops), the pause and caps hold destructive steps back, a restore within
 * the window undoes the step, and only after the window is it deleted.
 */
import { activityInfo } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { NoticeKind, ReclaimActivities } from '../../activities/reclaim-contract';
import type { ReclaimLifecycle } from '../../domain/reclaim';
import type { ReclaimInput, ReclaimView } from '../../domain/reclaim-case';
import {
  extendReclaimUpdate,
  reclaimViewQuery,
  restoreReclaimUpdate,
  stopReclaimUpdate,
} from '../../workflows/reclaim';
import { createTimeSkippingEnv } from './support/time-skipping';

const DAY = 86_400_000;
const bundlePath = process.env.SHIPSHAPE_TEST_BUNDLE;
const taskQueue = 'fast-reclaim';

/** The world as the stubs keep it; `at` is the server's (skipped) clock. */
class StubWorld {
  readonly notices: Array<{ kind: NoticeKind; at: number }> = [];
  readonly steps: Array<{ what: string; at: number }> = [];
  readonly audit: string[] = [];
  failures: string[] = [];
  /** What a re-read of the resource says, from a server time on. */
  usedFrom: number | null = null;
  /** Notices fail until this server time (the mail server is away). */
  mailAwayUntil = 0;
  /** The gate says no until this server time. */
  pausedUntil = 0;
  reversibleFails = false;
  /** Hold the first re-check until released (it comes at the end of the grace period when there are no reminders). */
  holdRecheck: { reached: () => void; released: Promise<void> } | null = null;

  activities(): ReclaimActivities {
    const now = () => activityInfo().currentAttemptScheduledTimestampMs;
    return {
      recheckReclaim: async () => {
        const hold = this.holdRecheck;
        if (hold) {
          this.holdRecheck = null;
          hold.reached();
          await hold.released;
        }
        return this.usedFrom !== null && now() >= this.usedFrom
          ? { still: false, reason: 'used by srv-9 (attached)' }
          : { still: true, reason: 'detached' };
      },
      resolveOwners: async () => ({ contacts: ['owner@example.org'], via: 'role owner on project web' }),
      sendReclaimNotice: async ({ kind }) => {
        if (now() < this.mailAwayUntil) throw new Error('SMTP 421: try again later');
        this.notices.push({ kind, at: now() });
        return { sentAt: new Date(now()).toISOString() };
      },
      recordReclaim: async ({ audit }) => void this.audit.push(audit.action),
      reclaimGate: async () =>
        now() < this.pausedUntil ? { go: false, why: 'reclaim is paused by ops', retryInMs: 3_600_000 } : { go: true },
      takeReversibleStep: async ({ action }) => {
        if (this.reversibleFails) throw new Error('Cinder 500 on snapshot');
        this.steps.push({ what: action, at: now() });
        return { restorePoint: { snapshotId: 'snap-1' } };
      },
      restoreResource: async () => void this.steps.push({ what: 'restore', at: now() }),
      deleteResource: async () => {
        this.steps.push({ what: 'delete', at: now() });
        return { freed: { vcpus: 0, ramMb: 0, diskGb: 100, ips: 0 } };
      },
      reportReclaimFailure: async ({ error }) => void this.failures.push(error),
    };
  }
}

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let world: StubWorld;
let n = 0;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  const template = new StubWorld().activities();
  const activities = Object.fromEntries(
    Object.keys(template).map((name) => [
      name,
      (...args: unknown[]) =>
        (world.activities() as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args),
    ]),
  );
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    activities,
    ...(bundlePath
      ? { workflowBundle: { codePath: bundlePath } }
      : { workflowsPath: require.resolve('../../workflows') }),
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});
const open: string[] = [];
beforeEach(() => {
  world = new StubWorld();
});
afterEach(async () => {
  // A reclaim a test left waiting (a restore window) ends here, so it cannot call the next test's stubs.
  for (const id of open.splice(0))
    await env.client.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
});

const LIFECYCLE: ReclaimLifecycle = {
  action: 'snapshot-and-delete',
  snapshotFirst: false,
  graceMs: 14 * DAY,
  remindBeforeMs: [7 * DAY, DAY],
  restoreWindowMs: 7 * DAY,
  maxExtensionMs: 30 * DAY,
};

async function start(lifecycle: Partial<ReclaimLifecycle> = {}) {
  const id = `reclaim-${++n}`;
  const input: ReclaimInput = {
    caseId: id,
    rule: {
      name: 'detached-volumes',
      version: '1+abc',
      check: { type: 'volume-detached', olderThanMs: 30 * DAY },
      scope: {},
      lifecycle: { ...LIFECYCLE, ...lifecycle },
    },
    resource: { kind: 'volume', id: `vol-${n}`, name: 'scratch', projectId: 'p1' },
    flaggedAt: new Date(await env.currentTimeMs()).toISOString(),
    reason: 'detached since 2026-10-01 (over 30 d)',
    capacity: { vcpus: 0, ramMb: 0, diskGb: 100, ips: 0 },
  };
  const startedAt = await env.currentTimeMs();
  const handle = await env.client.workflow.start('reclaimWorkflow', { taskQueue, workflowId: id, args: [input] });
  open.push(id);
  const view = () => handle.query(reclaimViewQuery);
  const untilPhase = async (phase: ReclaimView['phase']) => {
    for (let i = 0; i < 400; i++) {
      const v = await view();
      if (v.phase === phase) return v;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`never ${phase}; last ${(await view()).phase}`);
  };
  return { handle, view, untilPhase, startedAt, result: () => handle.result() as Promise<ReclaimView> };
}

const stepAt = (what: string) => world.steps.find((s) => s.what === what)?.at;

test('the whole lifecycle: notice, two reminders, the reversible step not before the grace period ends, deletion after the restore window', async () => {
  const r = await start();
  const v = await r.result();

  expect(v.phase).toBe('deleted');
  expect(world.notices.map((x) => x.kind)).toEqual(['notice', 'reminder', 'reminder', 'reclaimed', 'deleted']);
  const notice = world.notices[0]!.at;
  const within = (ms: number, want: number) => ms >= want && ms < want + 60_000;
  expect(within(world.notices[1]!.at - notice, 7 * DAY)).toBe(true);
  expect(within(world.notices[2]!.at - notice, 13 * DAY)).toBe(true);
  expect(stepAt('snapshot-and-delete')! - notice).toBeGreaterThanOrEqual(14 * DAY);
  expect(stepAt('delete')! - stepAt('snapshot-and-delete')!).toBeGreaterThanOrEqual(7 * DAY);
  expect(v.freed).toEqual({ vcpus: 0, ramMb: 0, diskGb: 100, ips: 0 });
  expect(v.restorePoint).toEqual({ snapshotId: 'snap-1' });
});

test('the grace period counts from the notice actually sent: a mail server away for six hours moves every step on by as much', async () => {
  const r0 = await env.currentTimeMs();
  world.mailAwayUntil = r0 + 6 * 3_600_000;
  const r = await start();
  await r.result();

  const notice = world.notices[0]!.at;
  expect(notice - r.startedAt).toBeGreaterThanOrEqual(6 * 3_600_000);
  expect(stepAt('snapshot-and-delete')! - notice).toBeGreaterThanOrEqual(14 * DAY);
});

test('an extension moves the end on; more than the rule allows in all is refused', async () => {
  const r = await start();
  await r.untilPhase('in-grace');
  const after = await r.handle.executeUpdate(extendReclaimUpdate, {
    args: [{ caseId: 'x', by: 'owner@example.org', extendMs: 20 * DAY, comment: 'quarter-end job' }],
  });
  expect(after.extendedMs).toBe(20 * DAY);
  await expect(
    r.handle.executeUpdate(extendReclaimUpdate, {
      args: [{ caseId: 'x', by: 'owner@example.org', extendMs: 11 * DAY }],
    }),
  ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/30 d of extensions in all; 10 d are left/) } });
  await r.result();
  expect(stepAt('snapshot-and-delete')! - world.notices[0]!.at).toBeGreaterThanOrEqual(34 * DAY);
});

test('a resource used during its grace period is left alone: the reclaim stops and says why', async () => {
  const t0 = await env.currentTimeMs();
  world.usedFrom = t0 + 10 * DAY;
  const v = await (await start()).result();

  expect(v.phase).toBe('stopped');
  expect(v.outcome?.reason).toMatch(/used by srv-9/);
  expect(world.steps).toEqual([]);
});

test('an exemption during the grace period stops it; nothing is done to the resource', async () => {
  const r = await start();
  await r.untilPhase('in-grace');
  await r.handle.executeUpdate(stopReclaimUpdate, {
    args: [{ caseId: 'x', by: 'ops@example.org', why: 'exempted', comment: 'legal hold until 2027' }],
  });
  const v = await r.result();
  expect(v).toMatchObject({
    phase: 'stopped',
    outcome: { reason: 'exempted by ops@example.org: legal hold until 2027' },
  });
  expect(world.steps).toEqual([]);
});

test('restored within the window: the step is undone and nothing is deleted', async () => {
  const r = await start();
  await r.untilPhase('in-grace');
  await env.sleep(15 * DAY); // past the grace period: the reversible step is taken
  await r.untilPhase('restore-window');
  await expect(
    r.handle.executeUpdate(extendReclaimUpdate, { args: [{ caseId: 'x', by: 'owner@example.org', extendMs: DAY }] }),
  ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/only a grace period can be extended/) } });
  await r.handle.executeUpdate(restoreReclaimUpdate, { args: [{ caseId: 'x', by: 'ops@example.org' }] });
  const v = await r.result();
  expect(v.phase).toBe('restored');
  expect(world.steps.map((s) => s.what)).toEqual(['snapshot-and-delete', 'restore']);
});

test('the pause holds the reversible step back until it is lifted', async () => {
  const t0 = await env.currentTimeMs();
  world.pausedUntil = t0 + 20 * DAY;
  await (await start()).result();
  expect(stepAt('snapshot-and-delete')! - t0).toBeGreaterThanOrEqual(20 * DAY);
  expect(world.audit).toContain('held back');
});

test('a notify-only rule only tells; a floating IP is released right after its grace period, never earlier', async () => {
  const notify = await (await start({ action: 'notify-only' })).result();
  expect(notify.phase).toBe('notified');
  expect(world.steps).toEqual([]);

  world = new StubWorld();
  const r = await start({ action: 'release' });
  const v = await r.result();
  expect(v.phase).toBe('released');
  expect(world.steps.map((s) => s.what)).toEqual(['delete']);
  expect(stepAt('delete')! - world.notices[0]!.at).toBeGreaterThanOrEqual(14 * DAY);
});

test('a step that keeps failing ends the reclaim as failed, into the inbox, the resource untouched', async () => {
  world.reversibleFails = true;
  const v = await (await start()).result();
  expect(v.phase).toBe('failed');
  expect(world.failures).toEqual([expect.stringMatching(/Cinder 500 on snapshot/)]);
});

test('an extension that arrives while the end of the grace period is being re-checked still counts: nothing acts before the new deadline', async () => {
  let reached!: () => void;
  let release!: () => void;
  const atRecheck = new Promise<void>((ok) => (reached = ok));
  world.holdRecheck = { reached, released: new Promise<void>((ok) => (release = ok)) };
  const r = await start({ remindBeforeMs: [] });
  await r.untilPhase('in-grace');
  await env.sleep(14 * DAY + 1_000); // past the grace period (time skips only while the test waits on the server)
  await atRecheck; // the workflow is reading the resource again
  const extended = await r.handle.executeUpdate(extendReclaimUpdate, {
    args: [{ caseId: 'x', by: 'owner@example.org', extendMs: 5 * DAY }],
  });
  expect(extended.extendedMs).toBe(5 * DAY);
  release();
  await r.result();
  expect(stepAt('snapshot-and-delete')! - world.notices[0]!.at).toBeGreaterThanOrEqual(19 * DAY);
});
