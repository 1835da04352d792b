import type { HostState } from './types';

/**
 * Does the host's real state show a problem worth acting on? Triggers, each a
 * reason: health not ok (with the provider's reasons), powered off or power
 * unknown, compute service down. A host with none of these is a false alarm.
 */
export function hostProblems(state: HostState): string[] {
  const problems: string[] = [];
  if (state.health !== 'ok') {
    problems.push(`health ${state.health}${state.healthReasons.length ? `: ${state.healthReasons.join('; ')}` : ''}`);
  }
  if (state.power !== 'on') problems.push(`power ${state.power}`);
  if (!state.compute.up) problems.push('compute service down');
  return problems;
}

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
