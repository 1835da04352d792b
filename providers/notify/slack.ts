/**
 * A Slack-compatible incoming webhook: `{ text, blocks }`. Slack shows the
 * blocks and uses `text` for notifications; Mattermost and others that take
 * Slack's format read `text`.
 */
import type { InboxNotification } from '../../domain/notification-routes';
import { notificationLines, notificationSubject } from './format';
import { postJson } from './http-post';
import type { Receiver } from './receiver';

export interface SlackReceiverConfig {
  name: string;
  url: string;
  timeoutMs?: number;
}

export interface SlackMessage {
  text: string;
  blocks: Array<{ type: 'section'; text: { type: 'mrkdwn'; text: string } }>;
}

/** Slack's mrkdwn treats &, < and > as markup. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackMessage(m: InboxNotification): SlackMessage {
  const subject = escape(notificationSubject(m));
  const headline = m.url === undefined ? `*${subject}*` : `*<${m.url}|${subject}>*`;
  const facts = notificationLines(m).map(escape).join('\n');
  return {
    text: notificationSubject(m),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: headline } },
      { type: 'section', text: { type: 'mrkdwn', text: facts } },
    ],
  };
}

export function createSlackReceiver(config: SlackReceiverConfig): Receiver {
  const timeoutMs = config.timeoutMs ?? 5000;
  return {
    name: config.name,
    type: 'slack',
    async send(message) {
      await postJson(config.name, config.url, slackMessage(message), timeoutMs);
    },
  };
}
