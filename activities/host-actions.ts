/**
 * Activities that act on a host through the fleet provider. Each one is
 * idempotent in Watcher's manner: check whether it is already done, act, then
 * confirm. Permanent failures are non-retryable ApplicationFailures whose type
 * comes from FailureType, so the workflow can decide to hand off.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { recordHostHealth } from '../db/hosts';
import {
  findPowerActionIntent,
  forgetPowerActionRequest,
  notePowerActionIssued,
  notePowerActionRequested,
  type PowerActionKey,
} from '../db/power-actions';
import { FailureType } from '../domain/errors';
import { personOverride } from '../domain/health';
import { DISABLE_REASON_PREFIX } from '../domain/remediation';
import { PermanentProviderError, type FleetProvider, type MoveKind } from '../domain/provider';
import type { HostState, ServerMoveResult, ServerRef } from '../domain/types';
import type { Notifier, OperatorNotification } from '../providers/notifiers';
import { KeepAlive } from './keep-alive';

const POLL_MS = 500;

/** A power action's heartbeat: `issued` stays true in every beat once the provider took the request. */
interface PowerMarker {
  issued: boolean;
  power?: HostState['power'];
}
/** While a long action runs, how often the host is re-read for a person's override. */
const OVERRIDE_CHECK_MS = 2_000;

/**
 * Turn a provider's permanent error (or any provider error that says it is
 * not retryable, such as a malformed OpenStack answer) into a non-retryable
 * failure; let the rest retry.
 */
async function viaProvider<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PermanentProviderError) {
      throw ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: true });
    }
    if (err instanceof Error && (err as { retryable?: unknown }).retryable === false) {
      throw ApplicationFailure.create({ type: FailureType.ProviderRejected, message: err.message, nonRetryable: true });
    }
    throw err;
  }
}

/** Stop before (or while) acting on a host a person has taken over: a non-retryable PersonOverride failure. */
function refuseIfTakenOver(state: HostState, holding: boolean, doing: string): void {
  const override = personOverride(state, DISABLE_REASON_PREFIX, holding);
  if (override) {
    throw ApplicationFailure.create({
      type: FailureType.PersonOverride,
      message: `${override} (${doing})`,
      nonRetryable: true,
      details: [{ computeEnabled: state.compute.enabled }],
    });
  }
}

/**
 * A request that failed before the provider took it: say that the action never
 * happened, keeping whether retrying may help.
 */
async function notIssuedOnFailure<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    const failure = err instanceof ApplicationFailure ? err : null;
    const message = `no ${what} was issued: ${err instanceof Error ? err.message : String(err)}`;
    throw ApplicationFailure.create({
      type: failure?.type ?? FailureType.ProviderUnavailable,
      message,
      nonRetryable: failure?.nonRetryable ?? false,
    });
  }
}

export interface ComputeToggle {
  changed: boolean;
  before: HostState['compute'];
  after: HostState['compute'];
}

export function createHostActivities(deps: {
  provider: FleetProvider;
  db: Pool;
  notifier: Notifier;
  /** The BMC's view of the host and the combined health, for audits (none: the provider's view alone). */
  auditView?: (
    host: string,
    state: HostState,
  ) => Promise<{ bmc: NonNullable<HostState['bmc']>; assessment: { health: HostState['health']; reasons: string[] } }>;
}) {
  const { provider, db, notifier } = deps;

  /**
   * Watcher's pre_condition for every disruptive action: re-read the host right
   * before acting and refuse if a person has taken it over since Shipshape took
   * it out (Shipshape holds it: compute disabled with its own reason, no one
   * else's maintenance).
   */
  async function stillHeld(host: string, doing: string): Promise<HostState> {
    const state = await viaProvider(() => provider.readHostState(host));
    refuseIfTakenOver(state, true, `nothing was done: ${doing}`);
    return state;
  }

  async function pollUntil(
    host: string,
    done: (s: HostState) => boolean,
    timeoutMs: number,
    doing: string,
    alive: KeepAlive<PowerMarker>,
  ): Promise<HostState> {
    const ctx = Context.current();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await alive.around(() => viaProvider(() => provider.readHostState(host)));
      alive.set({ issued: true, power: state.power });
      refuseIfTakenOver(state, true, `seen while ${doing}; Shipshape stopped waiting for it`);
      if (done(state)) return state;
      if (Date.now() > deadline) {
        throw ApplicationFailure.create({
          type: FailureType.PowerActionTimedOut,
          message: `host ${host} did not reach the expected state within ${timeoutMs / 1000}s (power ${state.power})`,
          nonRetryable: true,
        });
      }
      await ctx.sleep(POLL_MS);
    }
  }

  /**
   * Issue a power action once per activity and wait until the host is on.
   *
   * Once is kept by two records. The heartbeat's `{ issued: true }` (every
   * later beat keeps it) lets a retry skip straight to waiting. But a beat is
   * throttled and dies with the worker, so before the request leaves, an
   * intent is committed to PostgreSQL under this activity's key, and marked
   * issued when the provider answers. A retry that finds the intent issued
   * only waits. One that finds it unconfirmed (the worker died with the call
   * in flight, or just after it returned) asks the provider:
   * - the host is off: the earlier request took. A power cycle is asked
   *   again to finish it, which on a host that is off only powers it on (the
   *   OpenStack cycle is off, wait, on: a worker that died in the wait left it
   *   off); a reboot is only waited for.
   * - the host is on: the request may never have left, or the whole cycle
   *   may be over already. Shipshape does not cut the power again on a guess:
   *   the step fails (PowerActionUncertain) and the ladder climbs on. That is
   *   at-most-once for the one window where the provider's state cannot tell.
   * A provider that answers the request with an error is believed: nothing
   * was issued, the intent is dropped and the retry asks again (at-least-once
   * if that answer was wrong, e.g. a timeout after the provider took it).
   */
  async function issueOnceThenAwaitPowerOn(
    input: { host: string; timeoutSeconds: number },
    what: 'power cycle' | 'reboot',
    request: () => Promise<void>,
  ): Promise<HostState> {
    const ctx = Context.current();
    const alive = new KeepAlive<PowerMarker>({ issued: false });
    if ((ctx.info.heartbeatDetails as PowerMarker | undefined)?.issued !== true) {
      // Activity IDs restart in a run that continued as new: the run is part of the key.
      const { workflowExecution, activityId } = ctx.info;
      const key: PowerActionKey = {
        workflowId: workflowExecution?.workflowId ?? '',
        runId: workflowExecution?.runId ?? '',
        activityId,
      };
      const intent = await findPowerActionIntent(db, key);
      if (!intent) {
        await alive.around(() => stillHeld(input.host, `no ${what} was issued`));
        await notePowerActionRequested(db, key, { host: input.host, action: what });
        try {
          await alive.around(() => notIssuedOnFailure(what, () => viaProvider(request)));
        } catch (err) {
          await forgetPowerActionRequest(db, key);
          throw err;
        }
      } else if (!intent.issuedAt) {
        await finishUnconfirmed(input.host, what, request, alive);
      }
      await notePowerActionIssued(db, key);
    }
    alive.set({ issued: true });
    return pollUntil(
      input.host,
      (st) => st.power === 'on',
      input.timeoutSeconds * 1000,
      `the ${what} was under way`,
      alive,
    );
  }

  /** An earlier attempt died while its request was in flight: decide from the host's power whether it took. */
  async function finishUnconfirmed(
    host: string,
    what: 'power cycle' | 'reboot',
    request: () => Promise<void>,
    alive: KeepAlive<PowerMarker>,
  ): Promise<void> {
    const state = await alive.around(() => stillHeld(host, `a ${what} a worker had started was not finished`));
    if (state.power === 'off') {
      if (what === 'power cycle') await alive.around(() => viaProvider(request));
      return;
    }
    throw ApplicationFailure.create({
      type: FailureType.PowerActionUncertain,
      message:
        `a worker died while a ${what} of ${host} was being requested, and the host is ${state.power}: ` +
        `whether it was issued is unknown, so it is not issued again`,
      nonRetryable: true,
    });
  }

  return {
    /**
     * Re-read the host's real state, from the provider and the BMC, and
     * remember it as the host's last known health.
     */
    async auditHost(host: string): Promise<HostState> {
      const state = await viaProvider(() => provider.readHostState(host));
      const seen = deps.auditView ? await deps.auditView(host, state) : null;
      const health = seen ? seen.assessment : { health: state.health, reasons: state.healthReasons };
      await recordHostHealth(db, host, health);
      return seen ? { ...state, bmc: seen.bmc } : state;
    },

    async disableCompute(host: string, reason: string): Promise<ComputeToggle> {
      const before = (await viaProvider(() => provider.readHostState(host))).compute;
      if (!before.enabled && before.disabledReason === reason) return { changed: false, before, after: before };
      await viaProvider(() => provider.disableCompute(host, reason));
      const after = (await viaProvider(() => provider.readHostState(host))).compute;
      if (after.enabled) throw new Error(`compute service on ${host} still enabled after disable`);
      return { changed: true, before, after };
    },

    /** Return the host to the pool; refused when a person disabled it with their own reason or put it in maintenance. */
    async enableCompute(host: string): Promise<ComputeToggle> {
      const state = await viaProvider(() => provider.readHostState(host));
      refuseIfTakenOver(state, false, 'the host was not returned to the pool');
      const before = state.compute;
      if (before.enabled) return { changed: false, before, after: before };
      await viaProvider(() => provider.enableCompute(host));
      const after = (await viaProvider(() => provider.readHostState(host))).compute;
      if (!after.enabled) throw new Error(`compute service on ${host} still disabled after enable`);
      return { changed: true, before, after };
    },

    async listServersOnHost(host: string): Promise<ServerRef[]> {
      return viaProvider(() => provider.listServersOnHost(host));
    },

    /**
     * Move one server off `host` and wait until it has landed elsewhere. A
     * retry after a worker crash finds the move already in flight (or already
     * done) and tracks it instead of issuing a second one.
     */
    async moveServerOffHost(input: { host: string; serverId: string; kind?: MoveKind }): Promise<ServerMoveResult> {
      const ctx = Context.current();
      const alive = new KeepAlive<{ moveId?: string }>({});
      const where = await alive.around(() => viaProvider(() => provider.locateServer(input.serverId)));
      if (where.host !== input.host && !where.activeMoveId) {
        return { server: input.serverId, result: 'already-off-host', to: where.host };
      }
      if (!where.activeMoveId)
        await alive.around(() => stillHeld(input.host, `server ${input.serverId} was not moved`));
      const moveId =
        where.activeMoveId ??
        (await alive.around(() => viaProvider(() => provider.startServerMove(input.serverId, input.kind ?? 'live'))));
      let checkedAt = Date.now();
      for (;;) {
        alive.set({ moveId });
        if (Date.now() - checkedAt >= OVERRIDE_CHECK_MS) {
          checkedAt = Date.now();
          const state = await alive.around(() => viaProvider(() => provider.readHostState(input.host)));
          refuseIfTakenOver(
            state,
            true,
            `seen while server ${input.serverId} was moving (move ${moveId} left to the cloud); no further server is moved`,
          );
        }
        const move = await alive.around(() => viaProvider(() => provider.getServerMove(moveId)));
        if (move.status === 'failed') {
          throw ApplicationFailure.create({
            type: FailureType.MigrationFailed,
            message: `server ${input.serverId} could not be moved off ${input.host}: ${move.error ?? 'migration failed'}`,
            nonRetryable: true,
          });
        }
        if (move.status === 'completed') {
          const landed = await alive.around(() => viaProvider(() => provider.locateServer(input.serverId)));
          if (landed.host === input.host)
            throw new Error(`server ${input.serverId} still on ${input.host} after its move completed`);
          return { server: input.serverId, result: 'moved', to: landed.host, migrationId: moveId };
        }
        await ctx.sleep(POLL_MS);
      }
    },

    /** Power-cycle the host and wait until it is powered on again. */
    powerCycle(input: { host: string; timeoutSeconds: number }): Promise<HostState> {
      return issueOnceThenAwaitPowerOn(input, 'power cycle', () => provider.requestPowerCycle(input.host));
    },

    /** Reboot the host and wait until it is powered on again. */
    reboot(input: { host: string; timeoutSeconds: number }): Promise<HostState> {
      return issueOnceThenAwaitPowerOn(input, 'reboot', () => provider.requestReboot(input.host));
    },

    /** Fence the host (or lift the fence) and return its state after. Fencing is refused on a host a person has taken over. */
    async fenceHost(input: { host: string; fenced: boolean }): Promise<HostState> {
      if (input.fenced) await stillHeld(input.host, 'the host was not fenced');
      await viaProvider(() => provider.setFenced(input.host, input.fenced));
      return viaProvider(() => provider.readHostState(input.host));
    },

    /** A step activity (heartbeat timeout 10 s): every provider call heartbeats while it runs. */
    async restartComputeService(host: string): Promise<HostState> {
      const alive = new KeepAlive({ restarting: host });
      await alive.around(() => stillHeld(host, 'nova-compute was not restarted'));
      await alive.around(() =>
        notIssuedOnFailure('service restart', () => viaProvider(() => provider.restartComputeService(host))),
      );
      return alive.around(() => viaProvider(() => provider.readHostState(host)));
    },

    async notifyOperator(notification: OperatorNotification): Promise<void> {
      await notifier.notify(notification);
    },
  };
}
