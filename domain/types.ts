/**
 * Shared domain vocabulary. Pure types and constants only: this folder is
 * imported by workflows, so nothing here may do I/O or touch Node built-ins.
 */

export const POOL_STATES = ['in-service', 'draining', 'in-remediation', 'awaiting-operator', 'out-of-service'] as const;
/** Where a host stands with respect to the production pool. */
export type PoolState = (typeof POOL_STATES)[number];

export const HEALTH_STATES = ['ok', 'warning', 'critical', 'unknown'] as const;
export type Health = (typeof HEALTH_STATES)[number];

export const ROLES = ['compute', 'network', 'storage'] as const;
export type HostRole = (typeof ROLES)[number];

/** What a provider reports when Shipshape re-reads a host's real state. */
export interface HostState {
  host: string;
  power: 'on' | 'off' | 'unknown';
  health: Health;
  /** Human-readable reasons behind a health that is not `ok`. */
  healthReasons: string[];
  compute: {
    enabled: boolean;
    up: boolean;
    disabledReason: string | null;
  };
  serverCount: number;
  /**
   * The provider's maintenance flag (Ironic), when the host has one. `fault` is
   * set when the provider put it there itself (Ironic after failed power syncs);
   * otherwise a person or a tool did, with `reason`.
   */
  maintenance?: { reason: string | null; fault: string | null } | null;
  /** The BMC's own view, when the host has one: what the `bmc-health` and `bmc-reachable` confirm checks read. */
  bmc?: {
    status: 'read' | 'failed' | 'not-configured';
    health: Health;
    reasons: string[];
  };
}

export interface ServerRef {
  id: string;
  name: string;
  host: string;
}

/** Where a host's BMC answers. `credentialsRef` names an entry in the worker's credentials file, never a secret. */
export interface BmcEndpoint {
  address: string;
  credentialsRef: string | null;
  systemId: string | null;
}

export interface InventoryHost {
  id: string;
  zone: string;
  roles: HostRole[];
  bmc: BmcEndpoint | null;
}

/** The outcome of moving one server off a host during a drain. */
export type ServerMoveResult =
  | { server: string; result: 'moved'; to: string; migrationId: string }
  | { server: string; result: 'already-off-host'; to: string };

export const SIGNAL_STATUSES = ['firing', 'resolved'] as const;
export type SignalStatus = (typeof SIGNAL_STATUSES)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A signal as Shipshape records it, after validation and host resolution. */
export interface SignalRecord {
  id: string;
  source: string;
  name: string;
  host: string;
  severity: Severity;
  status: SignalStatus;
  fingerprint: string;
  labels: Record<string, string>;
  startsAt: string;
  receivedBy: string;
}

/** What happened to a signal. Returned by the API and stored with the signal. */
export const SIGNAL_OUTCOMES = ['started', 'joined', 'suppressed', 'no-policy', 'ignored', 'queued'] as const;
export type SignalOutcome = (typeof SIGNAL_OUTCOMES)[number];

export const API_ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** Each role can do everything the roles before it can. */
export function roleAtLeast(role: ApiRole, needed: ApiRole): boolean {
  return API_ROLES.indexOf(role) >= API_ROLES.indexOf(needed);
}
