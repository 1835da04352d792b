/**
 * Reclaim's notices to a resource's owners (issue 14): e-mail over the same
 * kind of SMTP relay the inbox's e-mail receivers use — always encrypted,
 * the server's certificate checked — to the owners' own addresses, one
 * message per step. The password arrives read from its file or variable and
 * appears in no message or log.
 */
import type { OwnerMailer, OwnerMessage } from '../../domain/reclaim-notice';
import { smtpError, smtpTransport, type EmailReceiverConfig } from './email';

export interface OwnerMailConfig {
  from: string;
  smtp: EmailReceiverConfig['smtp'];
  timeoutMs?: number;
}

export function createOwnerMailer(config: OwnerMailConfig): OwnerMailer {
  return {
    async send(message: OwnerMessage) {
      if (message.to.length === 0) throw new Error('a reclaim notice with nobody to send it to');
      const transport = smtpTransport(config.smtp, config.timeoutMs ?? 10000);
      try {
        await transport.sendMail({ from: config.from, to: message.to, subject: message.subject, text: message.text });
      } catch (err) {
        throw smtpError('reclaim notices', err);
      } finally {
        transport.close();
      }
    },
  };
}
