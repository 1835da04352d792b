/**
 * One resource's reclaim (issue 14): flagged → owners told → reminders → the
 * grace period (a durable timer: it survives restarts and cannot run early)
 * → a reversible step → the restore window → the deletion, with the freed
 * capacity recorded. Every step re-reads the resource first: used, kept or
 * exempted meanwhile, the reclaim stops and says why. The grace period counts
 * from when the owners were told, never from when the resource was flagged.
 * Destructive steps wait for the global pause and the deletion caps.
 *
 * People's levers are Updates: the owner extends (within the rule's maximum),
 * an operator stops it (an exemption) or restores within the window.
 */
import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Recheck } from '../activities/reclaim-contract';
import type { ProfileActivities } from './activity-profiles';
import { extensionRefusal, reclaimTimes } from '../domain/reclaim';
import {
  isReclaimFinal,
  type ReclaimAsk,
  type ReclaimInput,
  type ReclaimPhase,
  type ReclaimView,
} from '../domain/reclaim-case';
import { FailureType } from '../domain/errors';
import { describeFailure } from './remediation-state';

export const reclaimViewQuery = defineQuery<ReclaimView>('reclaim-view');
export const extendReclaimUpdate = defineUpdate<ReclaimView, [ReclaimAsk & { extendMs: number }]>('extend');
/** An exemption (recorded by the API) or an operator's stop: the reclaim ends and leaves the resource as it is. */
export const stopReclaimUpdate = defineUpdate<ReclaimView, [ReclaimAsk & { why: 'exempted' | 'stopped' }]>('stop');
export const restoreReclaimUpdate = defineUpdate<ReclaimView, [ReclaimAsk]>('restore');

/** Bookkeeping and reads: retried until the database and the cloud answer. */
const books = proxyActivities<ProfileActivities<'reclaimBooks'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
/** Notices: retried for a day; the grace period does not start before the first one is sent. */
const notices = proxyActivities<ProfileActivities<'reclaimNotices'>>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '10 seconds', maximumInterval: '30 minutes' },
});
/** Changes to the resource: a few tries, then the reclaim fails into the inbox. */
const changes = proxyActivities<ProfileActivities<'reclaimChanges'>>({
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

class Stopped extends Error {}

export async function reclaimWorkflow(input: ReclaimInput): Promise<ReclaimView> {
  const { rule, resource } = input;
  const { lifecycle } = rule;
  const view: ReclaimView = {
    caseId: input.caseId,
    rule: { name: rule.name, version: rule.version },
    resource,
    phase: 'notifying',
    reason: input.reason,
    capacity: input.capacity,
    flaggedAt: input.flaggedAt,
    owners: null,
    noticeAt: null,
    graceEnds: null,
    deleteAfter: null,
    extendedMs: 0,
    extensions: [],
    action: lifecycle.action,
    restorePoint: null,
    outcome: null,
    freed: null,
  };
  let stop: (ReclaimAsk & { why: 'exempted' | 'stopped' }) | null = null;
  let restore: ReclaimAsk | null = null;
  let extended = 0; // bumped by each extension, so a wait starts again with the new deadline

  const canStop = () => !isReclaimFinal(view.phase) && view.phase !== 'deleting';
  setHandler(reclaimViewQuery, () => view);
  setHandler(
    extendReclaimUpdate,
    (ask) => {
      view.extendedMs += ask.extendMs;
      view.extensions.push({ by: ask.by, ms: ask.extendMs, at: new Date().toISOString(), comment: ask.comment ?? '' });
      extended++;
      return view;
    },
    {
      validator: (ask) => {
        if (view.phase !== 'notifying' && view.phase !== 'in-grace')
          throw ApplicationFailure.create({
            type: FailureType.WrongPhase,
            message: `the reclaim is ${view.phase}: only a grace period can be extended`,
            nonRetryable: true,
          });
        const refused = extensionRefusal(lifecycle, view.extendedMs, ask.extendMs);
        if (refused)
          throw ApplicationFailure.create({ type: FailureType.WrongPhase, message: refused, nonRetryable: true });
      },
    },
  );
  setHandler(
    stopReclaimUpdate,
    (ask) => {
      stop = ask;
      return view;
    },
    {
      validator: (_ask) => {
        if (!canStop())
          throw ApplicationFailure.create({
            type: FailureType.WrongPhase,
            message: `the reclaim is ${view.phase}: too late to stop it`,
            nonRetryable: true,
          });
      },
    },
  );
  setHandler(
    restoreReclaimUpdate,
    (ask) => {
      restore = ask;
      return view;
    },
    {
      validator: (_ask) => {
        if (view.phase !== 'restore-window')
          throw ApplicationFailure.create({
            type: FailureType.WrongPhase,
            message: `the reclaim is ${view.phase}: only a resource in its restore window can be restored`,
            nonRetryable: true,
          });
      },
    },
  );

  const record = (action: string, reason: string, actor?: string) =>
    books.recordReclaim({ view, audit: { action, reason, ...(actor ? { actor } : {}) } });
  const enter = async (phase: ReclaimPhase, action: string, reason: string) => {
    view.phase = phase;
    await record(action, reason);
  };
  const finish = async (phase: ReclaimPhase, reason: string, actor?: string): Promise<ReclaimView> => {
    view.phase = phase;
    view.outcome = { phase, reason, at: new Date().toISOString() };
    await record(`reclaim ${phase}`, reason, actor);
    return view;
  };
  const stopped = (s: ReclaimAsk & { why: 'exempted' | 'stopped' }) =>
    finish('stopped', `${s.why} by ${s.by}${s.comment ? `: ${s.comment}` : ''}`, s.by);
  /** Re-read the resource; throws Stopped (the reclaim ends) when it is no longer what the rule flags. */
  const recheck = async (when: string, stage: 'grace' | 'restore-window' = 'grace') => {
    const r: Recheck = await books.recheckReclaim({ rule, resource, stage, action: lifecycle.action });
    if (!r.still) throw new Stopped(`${when}: ${r.reason}`);
  };
  /** Wait until `at` (ms) or until someone asks something; true when the time came. */
  const waitUntil = (at: number, also: () => boolean = () => false) =>
    condition(() => stop !== null || also(), Math.max(0, at - Date.now())).then((asked) => !asked);

  try {
    await record('flagged', input.reason);
    view.owners = await books.resolveOwners({ projectId: resource.projectId });
    // The notice names a deadline no later than the real one, which counts from when it is sent.
    const told = reclaimTimes(lifecycle, new Date(), 0);
    view.graceEnds = told.graceEnds.toISOString();
    view.deleteAfter = told.deleteAfter?.toISOString() ?? null;
    const sent = await notices.sendReclaimNotice({ kind: 'notice', view });
    view.noticeAt = sent.sentAt;

    // The grace period, counted from the notice; an extension moves its end (and the reminders) on.
    let reminded = Date.parse(sent.sentAt);
    for (;;) {
      // Taken before anything that waits: an extension that arrives while this pass records or re-checks starts it again.
      const seen = extended;
      const times = reclaimTimes(lifecycle, new Date(view.noticeAt), view.extendedMs);
      view.graceEnds = times.graceEnds.toISOString();
      view.deleteAfter = times.deleteAfter?.toISOString() ?? null;
      if (view.phase !== 'in-grace')
        await enter(
          'in-grace',
          'owners notified',
          `${view.owners.contacts.join(', ')} (${view.owners.via}); reclaim not before ${view.graceEnds}`,
        );
      else await record('extended', `reclaim not before ${view.graceEnds}`, view.extensions.at(-1)?.by);
      const next = times.reminders.find((r) => r.getTime() > reminded);
      const due = next ?? times.graceEnds;
      const came = await waitUntil(due.getTime(), () => extended !== seen);
      if (stop) return await stopped(stop);
      if (!came) continue; // extended: the deadlines again
      if (next) {
        await recheck('before a reminder');
        await notices.sendReclaimNotice({ kind: 'reminder', view });
        reminded = next.getTime();
        continue;
      }
      await recheck('the grace period is over, but');
      if (lifecycle.action === 'notify-only')
        return await finish('notified', `the grace period ended ${view.graceEnds}; the rule only notifies`);
      await gate('reversible');
      if (extended !== seen) continue; // extended while re-checked or held back: the new deadline counts
      // No await between this check and the phase change: from here on, an extension is refused.
      view.phase = 'reclaiming';
      break;
    }

    if (lifecycle.action === 'release' || lifecycle.action === 'delete') {
      // No reversible step: an address cannot be promised back, and `delete` says so. The notice told the owner.
      const done = lifecycle.action === 'release' ? 'released' : 'deleted';
      view.phase = 'deleting';
      await record(lifecycle.action === 'release' ? 'releasing' : 'deleting', 'the grace period is over');
      const { freed } = await changes.deleteResource({
        caseId: view.caseId,
        resource,
        action: lifecycle.action,
        restorePoint: null,
      });
      view.freed = freed;
      await notices.sendReclaimNotice({ kind: done, view });
      return await finish(done, `${done} after the grace period (${view.graceEnds})`);
    }
    await enter('reclaiming', 'reclaiming', `${lifecycle.action}${lifecycle.snapshotFirst ? ' after a snapshot' : ''}`);
    const step = await changes.takeReversibleStep({
      caseId: view.caseId,
      resource,
      action: lifecycle.action,
      snapshotFirst: lifecycle.snapshotFirst,
    });
    view.restorePoint = step.restorePoint;
    const deleteAfter = Date.now() + lifecycle.restoreWindowMs;
    view.deleteAfter = new Date(deleteAfter).toISOString();
    await enter('restore-window', `${lifecycle.action} done`, `restorable until ${view.deleteAfter}`);
    await notices.sendReclaimNotice({ kind: 'reclaimed', view });

    await waitUntil(deleteAfter, () => restore !== null);
    if (restore) {
      const by = (restore as ReclaimAsk).by;
      await changes.restoreResource({
        caseId: view.caseId,
        resource,
        action: lifecycle.action,
        restorePoint: view.restorePoint,
      });
      await notices.sendReclaimNotice({ kind: 'restored', view });
      return await finish('restored', `restored by ${by}`, by);
    }
    if (stop) return await stopped(stop);
    await recheck('the restore window is over, but', 'restore-window');
    await gate('delete');
    await enter('deleting', 'deleting', `the restore window ended ${view.deleteAfter}`);
    const { freed } = await changes.deleteResource({
      caseId: view.caseId,
      resource,
      action: lifecycle.action,
      restorePoint: view.restorePoint,
    });
    view.freed = freed;
    await notices.sendReclaimNotice({ kind: 'deleted', view });
    return await finish('deleted', `deleted after the restore window (${view.deleteAfter})`);
  } catch (err) {
    if (err instanceof Stopped) {
      await notices.sendReclaimNotice({ kind: 'stopped', view }).catch(() => undefined);
      return finish('stopped', `no longer to reclaim — ${err.message}`);
    }
    const why = describeFailure(err);
    await books.reportReclaimFailure({ view, error: why });
    return finish('failed', why);
  }

  /** Wait while the pause or a cap holds the step back (an operator's stop ends the wait). */
  async function gate(step: 'reversible' | 'delete'): Promise<void> {
    let shown = '';
    for (;;) {
      const g = await books.reclaimGate({ caseId: view.caseId, projectId: resource.projectId, step });
      if (g.go) return;
      if (g.why !== shown) {
        shown = g.why;
        await record('held back', g.why);
      }
      await waitUntil(Date.now() + g.retryInMs);
      if (stop)
        throw new Stopped(
          `${(stop as ReclaimAsk & { why: string }).why} by ${(stop as ReclaimAsk).by} while held back`,
        );
    }
  }
}
