import type { HostState } from './types';

/**
 * Has a person taken this host out of service outside Shipshape? Their
 * decision wins: automation stands down for the host and records why.
 */
export function personOverride(state: HostState, ownPrefix: string): string | null {
  if (state.compute.enabled) return null;
  const reason = state.compute.disabledReason ?? '';
  if (reason.startsWith(ownPrefix)) return null;
  return `compute service on ${state.host} was disabled outside Shipshape${reason ? ` ("${reason}")` : ''}; automation stands down`;
}
