/**
 * What the reclaim workflow asks of the world (workflows/reclaim.ts): the
 * contract its activities keep. The workflow proxies these by type only.
 */
import type { Capacity, ReclaimAction, ReclaimRule } from '../domain/reclaim';
import type { NoticeKind, ReclaimView, ResourceRef } from '../domain/reclaim-case';

/** The resource read again and judged by the rule now, with the exemptions in force. */
export type Recheck = { still: true; reason: string } | { still: false; reason: string; gone?: boolean };

export type { NoticeKind } from '../domain/reclaim-case';

export interface ReclaimActivities {
  /**
   * Read the resource again; `still: false` ends the reclaim. In the grace period: judged by the rule, with
   * its exemptions (used, kept or exempted: not any more). In the restore window: still as the reversible
   * step left it (a server unshelved, a volume back, by anyone: not any more).
   */
  recheckReclaim(input: {
    rule: Pick<ReclaimRule, 'name' | 'check' | 'scope'>;
    resource: ResourceRef;
    stage: 'grace' | 'restore-window';
    action: ReclaimAction;
  }): Promise<Recheck>;
  /** The project's owners from Keystone (the configured role), else the domain's fallback contact. */
  resolveOwners(input: { projectId: string }): Promise<{ contacts: string[]; via: string }>;
  /** Tell the owners (the notification receivers, e-mail first); returns when the notice was sent. */
  sendReclaimNotice(input: { kind: NoticeKind; view: ReclaimView }): Promise<{ sentAt: string }>;
  /** Store the case as it stands now, and its audit entry. */
  recordReclaim(input: { view: ReclaimView; audit: { action: string; reason: string; actor?: string } }): Promise<void>;
  /** Whether a destructive step may go now: the global pause, and the caps per day and per project. */
  reclaimGate(input: {
    caseId: string;
    projectId: string;
    step: 'reversible' | 'delete';
  }): Promise<{ go: true } | { go: false; why: string; retryInMs: number }>;
  /** The reversible step (shelve, stop and lock, snapshot …): what it leaves to restore from. */
  takeReversibleStep(input: {
    caseId: string;
    resource: ResourceRef;
    action: ReclaimAction;
    snapshotFirst: boolean;
  }): Promise<{ restorePoint: Record<string, string> }>;
  /** Undo the reversible step (unshelve, unlock and start, a volume from its snapshot). */
  restoreResource(input: {
    caseId: string;
    resource: ResourceRef;
    action: ReclaimAction;
    restorePoint: Record<string, string> | null;
  }): Promise<void>;
  /** Delete (or release) the resource, and what that freed. */
  deleteResource(input: {
    caseId: string;
    resource: ResourceRef;
    action: ReclaimAction;
    restorePoint: Record<string, string> | null;
  }): Promise<{ freed: Capacity }>;
  /** A reclaim that failed goes to the alert inbox. */
  reportReclaimFailure(input: { view: ReclaimView; error: string }): Promise<void>;
}
