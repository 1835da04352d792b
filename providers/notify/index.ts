/** The receivers named in the notifications file, built once at start-up. */
import type { ResolvedReceiverConfig } from '../../config/notifications';
import { createEmailReceiver } from './email';
import type { Receiver } from './receiver';
import { createSlackReceiver } from './slack';
import { createWebhookReceiver } from './webhook';

export { deliver, ReceiverError, type DeliveryOptions, type DeliveryResult, type Receiver } from './receiver';

export function createReceiver(config: ResolvedReceiverConfig): Receiver {
  switch (config.type) {
    case 'webhook':
      return createWebhookReceiver(config);
    case 'slack':
      return createSlackReceiver(config);
    case 'email':
      return createEmailReceiver(config);
  }
}

/** Receivers by name, as routes refer to them. */
export function createReceivers(configs: ResolvedReceiverConfig[]): Map<string, Receiver> {
  return new Map(configs.map((c) => [c.name, createReceiver(c)]));
}
