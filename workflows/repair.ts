/**
 * Taking the host out and repairing it: the drain (compute disabled with a
 * reason, every server moved away), then the policy's escalation ladder — or,
 * for runs that started before ladders existed, the flat list of repairs.
 */
import { condition, patched, sleep } from '@temporalio/workflow';
import { confirmedProblems } from '../domain/policy';
import { disableReason, type LadderStep } from '../domain/remediation';
import type { HostState, ServerMoveResult } from '../domain/types';
import { healthSummary } from '../domain/remediation-plan';
import { hostActions, serviceToggles, stepActions, trackedActions } from './activity-profiles';
import { PATCH } from './patches';
import {
  describeFailure,
  isInterruption,
  notify,
  standDownIfTakenOver,
  type RemediationState,
} from './remediation-state';

/**
 * Drain, then climb the policy's escalation ladder: each repair step gets its
 * own timeout and retries, and `fixWithinSeconds` to make the host healthy;
 * if it does not, the next step is tried. Returns why it failed, or null.
 */
export async function drainAndClimbLadder(r: RemediationState, ladder: LadderStep[]): Promise<string | null> {
  const { host, policy } = r.input;
  try {
    await drain(r);
    await r.enterPhase('repairing', {
      action: 'repair started',
      reason: `ladder: ${ladder.map((s) => s.action).join(' → ')}`,
    });
    const outcomes: string[] = [];
    let problems: string[] = [];
    for (const step of ladder) {
      if (step.action === 'notify') {
        await notify(r, 'notice', step.message ?? 'notice from the policy');
        continue;
      }
      if (step.action === 'compliance-fix') {
        // Only a compliance drift has a rule to fix (the loader keeps this step to such policies).
        outcomes.push('compliance-fix: this remediation has no compliance rule to fix');
        continue;
      }
      if (step.action === 'wait') {
        await r.step(`wait ${step.seconds}s`, () => condition(() => r.cancelRequested, (step.seconds ?? 0) * 1000));
        r.throwIfCancelled();
        if (patched(PATCH.checkAfterWait)) {
          problems = await healthyWithin(r, step.fixWithinSeconds ?? 0);
          if (problems.length === 0) return null;
          outcomes.push(`wait ${step.seconds}s: still ${problems.join('; ')}`);
        }
        continue;
      }
      const acts = stepActions(step);
      const timeoutSeconds = step.timeoutSeconds ?? 600;
      try {
        const after = await r.step(step.action, () =>
          step.action === 'power-cycle'
            ? acts.powerCycle({ host, timeoutSeconds })
            : step.action === 'reboot'
              ? acts.reboot({ host, timeoutSeconds })
              : acts.restartComputeService(host),
        );
        await r.record({
          action: step.action,
          reason: `ladder step ${outcomes.length + 1} of policy ${policy.name}`,
          after,
        });
      } catch (err) {
        if (isInterruption(err)) throw err;
        problems = [describeFailure(err)];
        outcomes.push(`${step.action} failed: ${problems[0]}`);
        continue; // a step that fails outright: climb on
      }
      const within = step.fixWithinSeconds ?? policy.verify.attempts * policy.verify.intervalSeconds;
      problems = await healthyWithin(r, within);
      if (problems.length === 0) return null;
      outcomes.push(`${step.action} done, still ${problems.join('; ')} after ${within}s`);
    }
    return `no step fixed the host: ${outcomes.join(' | ') || problems.join('; ')}`;
  } catch (err) {
    if (isInterruption(err)) throw err;
    return describeFailure(err);
  }
}

/** Poll the host until it is healthy or `seconds` pass; returns what is still wrong. */
async function healthyWithin(r: RemediationState, seconds: number): Promise<string[]> {
  const deadline = Date.now() + seconds * 1000;
  const every = Math.max(1, r.input.policy.verify.intervalSeconds) * 1000;
  for (let check = 1; ; check++) {
    const state = await checkHeldHost(r, `fixed? (check ${check})`);
    const problems = confirmedProblems(state, r.checks);
    if (problems.length === 0 || Date.now() + every > deadline) return problems;
    await sleep(every);
  }
}

/**
 * Read the host Shipshape holds, as its health checks and verification do:
 * a fence of Shipshape's own is lifted first when Nova allows it, because a
 * forced-down service reads "down" whether or not nova-compute came back;
 * a person's override stands Shipshape down.
 */
export async function checkHeldHost(r: RemediationState, name: string): Promise<HostState> {
  if (r.isFenced && patched(PATCH.liftFenceBeforeChecks))
    await tryLiftFence(r, 'a repair step is done: read nova-compute as it is');
  const state = await r.step(
    name,
    () => hostActions.auditHost(r.input.host),
    (s) => healthSummary(s, r.checks),
  );
  standDownIfTakenOver(r, state);
  return state;
}

/** Drain the host, then run the policy's repair steps. Returns why it failed, or null. */
export async function drainAndRepair(r: RemediationState): Promise<string | null> {
  const { host, policy } = r.input;
  try {
    await drain(r);

    await r.enterPhase('repairing', { action: 'repair started', reason: `policy steps: ${policy.repair.join(', ')}` });
    for (const action of policy.repair) {
      const acts = stepActions({ timeoutSeconds: 600 });
      const after = await r.step(action, () =>
        action === 'power-cycle' ? acts.powerCycle({ host, timeoutSeconds: 600 }) : acts.restartComputeService(host),
      );
      await r.record({ action, reason: `repair step of policy ${policy.name}`, after });
    }
    return null;
  } catch (err) {
    if (isInterruption(err)) throw err;
    return describeFailure(err);
  }
}

/** Take the host out of scheduling and move every server away. */
export async function drain(r: RemediationState): Promise<void> {
  const { host, remediationId, trigger } = r.input;
  r.takeOutOfPool();
  await r.enterPhase('draining', {
    action: 'drain started',
    reason: 'take the host out of scheduling and move its servers away',
  });
  const toggle = await r.step('disable compute service', () =>
    serviceToggles.disableCompute(host, disableReason(remediationId, trigger.name)),
  );
  await r.record({
    action: 'compute service disabled',
    reason: disableReason(remediationId, trigger.name),
    before: toggle.before,
    after: toggle.after,
  });
  if (r.drainPlan.move === 'evacuate') await fenceAndEvacuate(r);
  else await moveEveryServer(r);
}

/**
 * Evacuation needs the source host known to be down: fence it (Nova's
 * forced_down), rebuild every server elsewhere, then lift the fence — the
 * host stays disabled, so nothing is scheduled on it.
 */
async function fenceAndEvacuate(r: RemediationState): Promise<void> {
  const { host } = r.input;
  const fenced = await r.step('fence host', () => serviceToggles.fenceHost({ host, fenced: true }));
  r.fence();
  await r.record({
    action: 'host fenced',
    reason: `${host} is down: forced down so its servers can be evacuated`,
    after: fenced.compute,
  });
  try {
    await moveEveryServer(r, 'evacuate');
  } finally {
    await liftFence(r, 'evacuation over; the host stays disabled');
  }
}

/**
 * Lift the fence. Nova refuses while evacuation records wait for the host's
 * nova-compute to restart (the host's reboot does that): the fence is then
 * kept, and lifted again before the host returns. Returns whether it is lifted.
 */
export async function liftFence(r: RemediationState, why: string, withinSeconds = 0): Promise<boolean> {
  const deadline = Date.now() + withinSeconds * 1000;
  for (;;) {
    try {
      await lift(r, why);
      return true;
    } catch (err) {
      if (isInterruption(err)) throw err;
      if (Date.now() + 10_000 <= deadline) {
        await sleep(10_000); // a rebooting host starts nova-compute late
        continue;
      }
      await r.record({ action: 'fence kept', reason: describeFailure(err) });
      return false;
    }
  }
}

/** One quiet try at lifting Shipshape's fence: recorded when it is lifted, not each time Nova still says no. */
export async function tryLiftFence(r: RemediationState, why: string): Promise<boolean> {
  r.throwIfCancelled();
  try {
    await lift(r, why, { quietly: true });
    return true;
  } catch (err) {
    if (isInterruption(err)) throw err;
    return false;
  }
}

/** Lift the fence and record it; `quietly`: not shown as a step (a try Nova may refuse, made before every check). */
async function lift(r: RemediationState, why: string, opts: { quietly?: boolean } = {}): Promise<void> {
  const { host } = r.input;
  const unfence = () => serviceToggles.fenceHost({ host, fenced: false });
  const lifted = opts.quietly ? await unfence() : await r.step('lift the fence', unfence);
  r.fenceLifted();
  await r.record({ action: 'fence lifted', reason: `${host}: ${why}`, after: lifted.compute });
}

/** What an operator must know, and do, when Shipshape's fence stays on a host it hands over. */
export function fenceStaysOn(host: string): string {
  return (
    `Shipshape's fence is still on: nova-compute on ${host} is forced down (Nova lifts it only after nova-compute has restarted on the host); ` +
    `once it has, hand the host back and Shipshape lifts the fence, or run \`openstack compute service set --up ${host} nova-compute\``
  );
}

/**
 * Move servers off until the host is empty; a server that cannot move fails
 * the drain, unless the policy allows a cold migration instead.
 */
async function moveEveryServer(r: RemediationState, kind: 'live' | 'evacuate' = 'live'): Promise<void> {
  const { host, policy } = r.input;
  const coldFallback = kind === 'live' && r.drainPlan.coldFallback && patched(PATCH.coldMigrationFallback);
  const deadline = Date.now() + policy.drain.emptyTimeoutSeconds * 1000;
  for (;;) {
    const servers = await r.step(
      'list servers on host',
      () => hostActions.listServersOnHost(host),
      (s) => `${s.length} servers`,
    );
    if (servers.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`${host} still has ${servers.length} servers after ${policy.drain.emptyTimeoutSeconds}s`);
    for (const server of servers) {
      let moved: ServerMoveResult;
      try {
        moved = await r.step(
          kind === 'evacuate' ? `evacuate ${server.id}` : `move ${server.id}`,
          () =>
            trackedActions.moveServerOffHost(
              kind === 'evacuate' ? { host, serverId: server.id, kind } : { host, serverId: server.id },
            ),
          (m) => `${m.result} to ${m.to}`,
        );
      } catch (err) {
        if (!coldFallback || isInterruption(err)) throw err;
        await r.record({
          action: 'live migration failed',
          reason: describeFailure(err),
          before: { server: server.id, host },
        });
        moved = await r.step(
          `cold-migrate ${server.id}`,
          () => trackedActions.moveServerOffHost({ host, serverId: server.id, kind: 'cold' }),
          (m) => `${m.result} to ${m.to}`,
        );
      }
      await r.record({
        action: 'server moved',
        reason: `drain ${host}`,
        before: { server: server.id, host },
        after: moved,
      });
    }
  }
}
