/**
 * E-mail over SMTP. The connection is always encrypted: STARTTLS is required
 * on the submission port (the send fails rather than going out in clear), or
 * TLS from the first byte with `security: 'tls'` (port 465). The server's
 * certificate is checked against the system's CAs, or only against a pinned
 * CA when one is given; checking is turned off only by an explicit
 * `insecureSkipVerify`. The password arrives already read from its file or
 * variable and appears in no message or log.
 */
import { createTransport } from 'nodemailer';
import type { InboxNotification } from '../../domain/notification-routes';
import { notificationSubject, notificationText } from './format';
import { ReceiverError, type Receiver } from './receiver';

export interface EmailReceiverConfig {
  name: string;
  from: string;
  to: string[];
  smtp: {
    host: string;
    port: number;
    /** 'starttls' (default): plain connect, then STARTTLS is required. 'tls': TLS from the start. */
    security?: 'starttls' | 'tls';
    /** Omit both for a relay that takes mail without AUTH. */
    username?: string;
    password?: string;
    /** PEM of the CA to trust instead of the system's; pins the server's issuer. */
    ca?: string;
    /** Accept any certificate. Only when the configuration says so explicitly. */
    insecureSkipVerify?: boolean;
    /** The name the certificate must carry, when it is not `host`. */
    servername?: string;
  };
  timeoutMs?: number;
}

export function emailContent(m: InboxNotification): { subject: string; text: string } {
  return { subject: notificationSubject(m), text: notificationText(m) };
}

/** One SMTP connection for one message: always encrypted (STARTTLS required, or TLS from the first byte). */
export function smtpTransport(smtp: EmailReceiverConfig['smtp'], timeoutMs = 10000) {
  const implicitTls = smtp.security === 'tls';
  const tls: { rejectUnauthorized: boolean; ca?: string; servername?: string } = {
    rejectUnauthorized: smtp.insecureSkipVerify !== true,
  };
  if (smtp.ca !== undefined) tls.ca = smtp.ca;
  if (smtp.servername !== undefined) tls.servername = smtp.servername;
  const auth = smtp.username === undefined ? undefined : { user: smtp.username, pass: smtp.password ?? '' };
  return createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: implicitTls,
    requireTLS: !implicitTls,
    ...(auth ? { auth } : {}),
    tls,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
  });
}

export function createEmailReceiver(config: EmailReceiverConfig): Receiver {
  return {
    name: config.name,
    type: 'email',
    async send(message) {
      const transport = smtpTransport(config.smtp, config.timeoutMs ?? 10000);
      try {
        await transport.sendMail({ from: config.from, to: config.to, ...emailContent(message) });
      } catch (err) {
        throw smtpError(config.name, err);
      } finally {
        transport.close();
      }
    },
  };
}

/** nodemailer's error, said for an operator: what failed, with the server's answer; never the credentials. */
export function smtpError(name: string, err: unknown): ReceiverError {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const said = e.response ?? e.message ?? String(err);
  if (/certificate/i.test(said))
    return new ReceiverError(`receiver ${name}: the SMTP server's certificate is not trusted: ${said}`, true);
  switch (e.code) {
    case 'EAUTH':
      return new ReceiverError(`receiver ${name}: the SMTP server refused the login: ${said}`, true);
    case 'ETLS':
      return new ReceiverError(`receiver ${name}: STARTTLS failed or is not offered by the SMTP server: ${said}`, true);
    case 'ECONNECTION':
    case 'ESOCKET':
    case 'ETIMEDOUT':
    case 'EDNS':
      return new ReceiverError(`receiver ${name}: cannot reach the SMTP server: ${said}`);
    default: {
      const permanent = e.responseCode !== undefined && e.responseCode >= 500;
      return new ReceiverError(`receiver ${name}: the SMTP server did not take the message: ${said}`, permanent);
    }
  }
}
