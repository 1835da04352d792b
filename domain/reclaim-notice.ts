/**
 * What a reclaim tells a resource's owners, in words: one message per step
 * (notice, reminder, reclaimed, deleted …), with the deadline, what it
 * holds, and how to keep it (the extend link, valid until the deadline).
 * Pure: the activity sends it.
 */
import type { Capacity } from './reclaim';
import type { NoticeKind, ReclaimView } from './reclaim-case';

export interface OwnerMessage {
  to: string[];
  subject: string;
  text: string;
}

/** Sends an owner's message (e-mail over the configured SMTP relay); rejects when it could not. */
export interface OwnerMailer {
  send(message: OwnerMessage): Promise<void>;
}

function holds(c: Capacity): string {
  const parts = [
    c.vcpus ? `${c.vcpus} vCPU` : '',
    c.ramMb ? `${Math.round(c.ramMb / 1024)} GiB RAM` : '',
    c.diskGb ? `${c.diskGb} GB disk` : '',
    c.ips ? `${c.ips} IP address${c.ips > 1 ? 'es' : ''}` : '',
  ].filter(Boolean);
  return parts.join(', ') || 'no measured capacity';
}

const STEP: Record<string, string> = {
  shelve: 'shelved (stopped, its vCPUs and RAM freed, its disk kept)',
  'stop-and-lock': 'stopped and locked',
  'snapshot-and-delete': 'snapshotted, then deleted (restorable from the snapshot)',
  release: 'released (the address goes back to the pool and cannot be promised back)',
  delete: 'deleted',
  'notify-only': 'left as it is (this rule only notifies)',
};

/** The owners' message for a step of a reclaim; `extendUrl` only while the owner may still extend. */
export function ownerMessage(kind: NoticeKind, view: ReclaimView, extendUrl: string | null): OwnerMessage {
  const r = view.resource;
  const what = `${r.kind} ${r.name} (${r.id}) in project ${r.projectId}`;
  const to = view.owners?.contacts ?? [];
  const keep = extendUrl
    ? `To keep it, use it again, or extend the deadline here: ${extendUrl}\nTo keep it for good, ask your cloud operators for an exemption, or tag it shipshape:keep.`
    : '';
  const lines = (...l: string[]) => l.filter(Boolean).join('\n\n');
  switch (kind) {
    case 'notice':
    case 'reminder':
      return {
        to,
        subject: `${kind === 'reminder' ? 'Reminder: ' : ''}${r.name} will be reclaimed after ${view.graceEnds}`,
        text: lines(
          `Your ${what} looks unused: ${view.reason}.`,
          `It holds ${holds(view.capacity)}. Unless it is used, extended or exempted, after ${view.graceEnds} it will be ${STEP[view.action]}${view.deleteAfter && view.action !== 'release' && view.action !== 'delete' ? `, and deleted after ${view.deleteAfter}` : ''}.`,
          keep,
          `Rule: ${view.rule.name} (${view.rule.version}).`,
        ),
      };
    case 'reclaimed':
      return {
        to,
        subject: `${r.name} was ${view.action === 'shelve' ? 'shelved' : 'reclaimed'}; deleted after ${view.deleteAfter}`,
        text: lines(
          `Your ${what} was ${STEP[view.action]} after its grace period.`,
          `Your cloud operators can restore it until ${view.deleteAfter}; after that it is deleted.`,
        ),
      };
    case 'deleted':
    case 'released':
      return {
        to,
        subject: `${r.name} was ${kind}`,
        text: lines(`Your ${what} was ${kind}. It freed ${holds(view.freed ?? view.capacity)}.`),
      };
    case 'restored':
      return {
        to,
        subject: `${r.name} was restored`,
        text: `Your ${what} was restored; it will not be reclaimed by this notice.`,
      };
    case 'stopped':
      return {
        to,
        subject: `${r.name} will not be reclaimed`,
        text: `The reclaim of your ${what} stopped: ${view.outcome?.reason ?? 'it is no longer unused'}.`,
      };
  }
}
