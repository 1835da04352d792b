/**
 * One resource's reclaim, as the workflow runs it and the API shows it: the
 * phases, the view, and what people may ask of it. Pure: imported by the
 * reclaim workflow and the API.
 */
import type { Capacity, ReclaimAction, ReclaimRule, ResourceKind } from './reclaim';

export const RECLAIM_ACTIVE_PHASES = ['notifying', 'in-grace', 'reclaiming', 'restore-window', 'deleting'] as const;
export const RECLAIM_FINAL_PHASES = ['deleted', 'released', 'notified', 'restored', 'stopped', 'failed'] as const;
export type ReclaimPhase = (typeof RECLAIM_ACTIVE_PHASES)[number] | (typeof RECLAIM_FINAL_PHASES)[number];

export function isReclaimFinal(phase: ReclaimPhase): boolean {
  return (RECLAIM_FINAL_PHASES as readonly string[]).includes(phase);
}

/** The resource a reclaim is about. */
export interface ResourceRef {
  kind: ResourceKind;
  id: string;
  name: string;
  projectId: string;
}

export interface ReclaimInput {
  caseId: string;
  /** The rule as it was when the resource was flagged: its lifecycle is what the owner was told. */
  rule: Pick<ReclaimRule, 'name' | 'version' | 'check' | 'scope' | 'lifecycle'>;
  resource: ResourceRef;
  flaggedAt: string;
  /** Why it was flagged, and what it holds. */
  reason: string;
  capacity: Capacity;
}

/** One reclaim per rule and resource, so one rule's reclaim never ends another's. */
export function reclaimWorkflowId(rule: string, resource: Pick<ResourceRef, 'kind' | 'id'>, prefix = ''): string {
  return `${prefix}reclaim/${rule}/${resource.kind}/${resource.id}`;
}

export interface ReclaimView {
  caseId: string;
  rule: { name: string; version: string };
  resource: ResourceRef;
  phase: ReclaimPhase;
  reason: string;
  capacity: Capacity;
  flaggedAt: string;
  owners: { contacts: string[]; via: string } | null;
  noticeAt: string | null;
  /** The reversible step, not before. */
  graceEnds: string | null;
  /** The deletion, not before; null when the rule does not delete. */
  deleteAfter: string | null;
  extendedMs: number;
  extensions: Array<{ by: string; ms: number; at: string; comment: string }>;
  action: ReclaimAction;
  /** What the reversible step left to restore from (a snapshot id, say). */
  restorePoint: Record<string, string> | null;
  outcome: { phase: ReclaimPhase; reason: string; at: string } | null;
  /** Freed capacity, once the resource is deleted or released. */
  freed: Capacity | null;
}

/** What the owners are told, at each step. */
export type NoticeKind = 'notice' | 'reminder' | 'reclaimed' | 'deleted' | 'released' | 'restored' | 'stopped';

/** A person's ask of a running reclaim; the API has checked who they are (and an owner's link token). */
export interface ReclaimAsk {
  caseId: string;
  by: string;
  comment?: string;
}
