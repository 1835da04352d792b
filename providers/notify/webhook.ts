/** The generic webhook: the notification as JSON, `source: "shipshape"` beside its fields. */
import { postJson } from './http-post';
import type { Receiver } from './receiver';

export interface WebhookReceiverConfig {
  name: string;
  url: string;
  timeoutMs?: number;
}

export function createWebhookReceiver(config: WebhookReceiverConfig): Receiver {
  const timeoutMs = config.timeoutMs ?? 5000;
  return {
    name: config.name,
    type: 'webhook',
    async send(message) {
      await postJson(config.name, config.url, { source: 'shipshape', ...message }, timeoutMs);
    },
  };
}
