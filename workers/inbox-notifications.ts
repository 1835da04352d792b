/**
 * The composition of the API's inbox notifier: the notifications file named by
 * SHIPSHAPE_NOTIFICATIONS_FILE turned into receivers (providers/notify) and the
 * notifier started with them. It lives in workers/ for the reason
 * workers/composition.ts does: api/ may not import providers/.
 */
import type { Pool } from 'pg';
import type { Config } from '../config';
import type { Logger } from '../config/logger';
import { loadNotifications, type NotificationSettings } from '../config/notifications';
import { startInboxNotifier, type InboxNotifier, type NotificationSender } from '../api/inbox-notifier';
import { createReceivers, deliver } from '../providers/notify';

/** No receivers, no routes: nobody is notified. */
export const NO_NOTIFICATIONS: NotificationSettings = {
  receivers: [],
  routes: [],
  delivery: { attempts: 3, backoffMs: 2000 },
};

/** Sends through the configured receivers with the file's bounded retries (`delivery`). */
export function createNotificationSender(settings: NotificationSettings): NotificationSender {
  const receivers = createReceivers(settings.receivers);
  return async (name, message) => {
    const receiver = receivers.get(name);
    if (!receiver) return { ok: false, attempts: 0, lastError: `receiver ${name} is not configured any more` };
    return deliver(receiver, message, settings.delivery);
  };
}

/**
 * The file named by SHIPSHAPE_NOTIFICATIONS_FILE, read and checked (NO_NOTIFICATIONS when unset).
 * A bad file throws NotificationsConfigError naming the file and the field: start-up stops.
 */
export function notificationSettingsFor(config: Pick<Config, 'SHIPSHAPE_NOTIFICATIONS_FILE'>): NotificationSettings {
  const file = config.SHIPSHAPE_NOTIFICATIONS_FILE;
  return file === undefined ? NO_NOTIFICATIONS : loadNotifications(file);
}

/**
 * What api/server.ts calls at start: loads SHIPSHAPE_NOTIFICATIONS_FILE (a bad
 * file stops the start with an error naming the file and field) and starts the
 * notifier, its links on SHIPSHAPE_PUBLIC_URL. Without a file it does nothing.
 * Stop it (`stop()`) before the pool ends.
 */
export function startConfiguredInboxNotifier(
  config: Pick<Config, 'SHIPSHAPE_NOTIFICATIONS_FILE' | 'SHIPSHAPE_PUBLIC_URL'>,
  deps: { db: Pool; logger: Logger; now?: () => Date; tickMs?: number },
): InboxNotifier {
  const settings = notificationSettingsFor(config);
  if (settings.receivers.length > 0)
    deps.logger.info(
      { receivers: settings.receivers.map((r) => r.name), routes: settings.routes.length },
      'inbox notifications on',
    );
  return startInboxNotifier({
    ...deps,
    settings,
    send: createNotificationSender(settings),
    publicUrl: config.SHIPSHAPE_PUBLIC_URL,
  });
}
