/** The capacity gate: no host leaves the pool without a lease from the fleet-wide guards. */
import { condition } from '@temporalio/workflow';
import { records } from './activity-profiles';
import type { RemediationState } from './remediation-state';

/**
 * Take a lease on the fleet's capacity, waiting (visibly) while a guard says
 * no. Returns null once acquired, or why it escalates after the wait timeout.
 */
export async function waitForCapacity(r: RemediationState, opts: { inPlace?: boolean } = {}): Promise<string | null> {
  const { remediationId, host, zone, policy } = r.input;
  let deadline: number | null = null;
  let shown = '';
  for (;;) {
    const result = await records.acquireCapacity({
      remediationId,
      host,
      zone,
      policyGuards: policy.guards,
      ...(opts.inPlace ? { inPlace: true } : {}),
    });
    if (result.acquired) {
      r.waitingForCapacity(null);
      if (result.trippedBreaker)
        await r.record({
          actorKind: 'system',
          actor: 'guards',
          action: 'circuit breaker tripped',
          reason: result.trippedBreaker,
        });
      return null;
    }
    const reasons = result.blockers.map((b) => b.reason).join('; ');
    deadline ??= Date.now() + result.waitTimeoutMinutes * 60_000;
    if (Date.now() >= deadline) return `waited ${result.waitTimeoutMinutes} min for capacity: ${reasons}`;
    if (reasons !== shown) {
      shown = reasons;
      r.waitingForCapacity(result.blockers);
      await r.enterPhase('waiting-for-capacity', { action: 'waiting for capacity', reason: reasons });
    }
    await condition(() => r.cancelRequested, result.pollSeconds * 1000);
    r.throwIfCancelled();
  }
}
