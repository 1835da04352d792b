import type { HostState } from './types';

/**
 * Has a person taken this host over outside Shipshape? Their decision wins:
 * automation stands down for the host and records why. Triggers:
 * - the compute service is disabled with a reason that is not Shipshape's
 *   (a person took the host out, or replaced Shipshape's reason with theirs);
 * - `holding` (Shipshape has the host out) and the compute service is enabled:
 *   a person put the host back into service;
 * - the node is in maintenance that neither Shipshape nor the provider itself
 *   set ("replacing a DIMM"): no power action may touch it.
 * Maintenance the provider set on its own (Ironic's `fault`, after failed
 * power syncs) is a health problem, not a person's override.
 */
export function personOverride(state: HostState, ownPrefix: string, holding = false): string | null {
  const reason = state.compute.disabledReason ?? '';
  if (!state.compute.enabled && !reason.startsWith(ownPrefix)) {
    return `compute service on ${state.host} was disabled outside Shipshape${reason ? ` ("${reason}")` : ''}; automation stands down`;
  }
  if (holding && state.compute.enabled) {
    return `compute service on ${state.host} was re-enabled outside Shipshape during the remediation; automation stands down`;
  }
  const m = state.maintenance;
  if (m && !m.fault && !(m.reason ?? '').startsWith(ownPrefix)) {
    return `${state.host} was put in maintenance outside Shipshape${m.reason ? ` ("${m.reason}")` : ''}; automation stands down and takes no power action on it`;
  }
  return null;
}
