/**
 * Telling a person that something needs them. The webhook notifier posts JSON
 * to the configured URL; without one, the log notifier writes it to the log
 * (the demo's choice).
 */
import type { Logger } from '../config/logger';

export interface OperatorNotification {
  kind: 'hand-off' | 'approval-requested' | 'approval-escalated' | 'notice';
  remediationId: string;
  host: string;
  reason: string;
}

export interface Notifier {
  notify(notification: OperatorNotification): Promise<void>;
}

export function createWebhookNotifier(url: string, timeoutMs = 5000): Notifier {
  return {
    async notify(notification) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: 'shipshape', ...notification }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) throw new Error(`notification webhook answered ${res.status}`);
    },
  };
}

export function createLogNotifier(logger: Logger): Notifier {
  return {
    async notify(notification) {
      logger.warn(
        { notification },
        `OPERATOR NEEDED (${notification.kind}) for ${notification.host}: ${notification.reason}`,
      );
    },
  };
}
