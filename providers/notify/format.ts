/** The words of a notification, shared by the receivers that write for people (Slack, e-mail). */
import type { InboxNotification, NotificationKind } from '../../domain/notification-routes';

const HEADLINE: Record<NotificationKind, string> = {
  opened: 'Needs attention',
  changed: 'Changed',
  reminder: 'Reminder: still unacknowledged',
  escalated: 'Escalated: unacknowledged too long',
  resolved: 'Resolved',
};

/** e.g. `[critical] Escalated: unacknowledged too long — 12 hosts in rack r7 lost power` */
export function notificationSubject(m: InboxNotification): string {
  return `[${m.severity}] ${HEADLINE[m.kind]} — ${m.title}`;
}

/** The facts, one per line, for a plain-text body. */
export function notificationLines(m: InboxNotification): string[] {
  const lines = [`State: ${m.state}`, `Why: ${m.reason}`];
  if (m.host !== undefined) lines.push(`Host: ${m.host}`);
  if (m.zone !== undefined) lines.push(`Zone: ${m.zone}`);
  lines.push(`Item: ${m.itemId}`);
  if (m.url !== undefined) lines.push(`Open: ${m.url}`);
  return lines;
}

export function notificationText(m: InboxNotification): string {
  return [notificationSubject(m), '', ...notificationLines(m)].join('\n');
}
