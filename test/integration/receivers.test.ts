/**
 * The receivers against real servers: a loopback HTTP server that records
 * what it is sent (webhook, Slack-compatible) and a real aiosmtpd with
 * STARTTLS and AUTH required (e-mail).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNotifications } from '../../config/notifications';
import type { InboxNotification } from '../../domain/notification-routes';
import { createEmailReceiver, type EmailReceiverConfig } from '../../providers/notify/email';
import { createReceivers, deliver } from '../../providers/notify';
import { createSlackReceiver } from '../../providers/notify/slack';
import { createWebhookReceiver } from '../../providers/notify/webhook';
import { freePort } from '../../scripts/services';
import { startSmtpServer, type RunningSmtpServer } from '../support/smtp-server';

const message: InboxNotification = {
  itemId: 'item-42',
  title: '12 hosts in rack r7 lost power',
  state: 'needs-person',
  severity: 'critical',
  reason: 'remediation cannot close it: the PDU is down',
  host: 'cmp-a-03',
  zone: 'zone-a',
  url: 'https://shipshape.example.org/inbox/item-42',
  kind: 'opened',
};

describe('HTTP receivers', () => {
  let server: Server;
  let base: string;
  const received: Array<{ path: string; contentType: string | undefined; body: unknown }> = [];
  let answers: number[] = [];
  let hang = false;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ path: req.url!, contentType: req.headers['content-type'], body: JSON.parse(body) });
        if (hang) return;
        res.writeHead(answers.shift() ?? 204).end();
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise((ok) => server.close(ok));
  });
  beforeEach(() => {
    received.length = 0;
    answers = [];
    hang = false;
  });

  test('the webhook receiver posts the notification as JSON, with source shipshape', async () => {
    await createWebhookReceiver({ name: 'ops-hook', url: `${base}/hooks/ops` }).send(message);
    expect(received).toEqual([
      { path: '/hooks/ops', contentType: 'application/json', body: { source: 'shipshape', ...message } },
    ]);
  });

  test('a webhook answering 503 is retried up to the bound and reported with the status, not the URL', async () => {
    answers = [503, 503, 503, 503];
    const url = `${base}/hooks/T000/B000/secret-token`;
    const result = await deliver(createWebhookReceiver({ name: 'ops-hook', url }), message, {
      attempts: 3,
      backoffMs: 1,
    });
    expect(result).toEqual({ ok: false, attempts: 3, lastError: 'receiver ops-hook answered HTTP 503' });
    expect(received).toHaveLength(3);
  });

  test('a webhook that fails once and then takes the message is delivered on the second try', async () => {
    answers = [500, 200];
    const result = await deliver(createWebhookReceiver({ name: 'ops-hook', url: base }), message, { backoffMs: 1 });
    expect(result).toEqual({ ok: true, attempts: 2 });
  });

  test('a webhook answering 404 is not retried: the next try would answer the same', async () => {
    answers = [404];
    const result = await deliver(createWebhookReceiver({ name: 'ops-hook', url: base }), message, { backoffMs: 1 });
    expect(result).toEqual({ ok: false, attempts: 1, lastError: 'receiver ops-hook answered HTTP 404' });
  });

  test('a webhook that does not answer in time fails with the timeout', async () => {
    hang = true;
    await expect(createWebhookReceiver({ name: 'slow', url: base, timeoutMs: 200 }).send(message)).rejects.toThrow(
      'receiver slow unreachable: no answer within 200 ms',
    );
  });

  test('a webhook nobody listens on fails as unreachable', async () => {
    const url = `http://127.0.0.1:${await freePort()}/`;
    await expect(createWebhookReceiver({ name: 'gone', url }).send(message)).rejects.toThrow(
      'receiver gone unreachable: ECONNREFUSED',
    );
  });

  test('the Slack receiver posts { text, blocks } with the subject, a link to the item and its facts', async () => {
    await createSlackReceiver({ name: 'ops-slack', url: `${base}/services/T0/B0/x` }).send(message);
    const subject = '[critical] Needs attention — 12 hosts in rack r7 lost power';
    expect(received).toEqual([
      {
        path: '/services/T0/B0/x',
        contentType: 'application/json',
        body: {
          text: subject,
          blocks: [
            { type: 'section', text: { type: 'mrkdwn', text: `*<${message.url}|${subject}>*` } },
            {
              type: 'section',
              text: {
                type: 'mrkdwn',
                text: [
                  'State: needs-person',
                  'Why: remediation cannot close it: the PDU is down',
                  'Host: cmp-a-03',
                  'Zone: zone-a',
                  'Item: item-42',
                  `Open: ${message.url}`,
                ].join('\n'),
              },
            },
          ],
        },
      },
    ]);
  });
});

describe('the e-mail receiver against a real SMTP server (aiosmtpd, STARTTLS and AUTH required)', () => {
  let smtp: RunningSmtpServer;
  let config: EmailReceiverConfig;

  beforeAll(async () => {
    smtp = await startSmtpServer({ username: 'shipshape', password: 'correct horse' });
  });
  afterAll(() => smtp.stop());
  beforeEach(() => {
    config = {
      name: 'oncall-mail',
      from: 'shipshape@example.org',
      to: ['oncall@example.org', 'lead@example.org'],
      smtp: {
        host: smtp.host,
        port: smtp.port,
        username: smtp.username,
        password: smtp.password,
        ca: smtp.certificatePem,
      },
      timeoutMs: 5000,
    };
  });

  test('a message goes over STARTTLS with AUTH and arrives with its subject, body and recipients', async () => {
    const before = smtp.messages().length;
    await createEmailReceiver(config).send(message);
    const mail = smtp.messages().slice(before);
    expect(mail).toHaveLength(1);
    expect(mail[0]).toMatchObject({
      mailFrom: 'shipshape@example.org',
      rcptTos: ['oncall@example.org', 'lead@example.org'],
      from: 'shipshape@example.org',
      to: 'oncall@example.org, lead@example.org',
      subject: '[critical] Needs attention — 12 hosts in rack r7 lost power',
      login: 'shipshape',
      tls: true,
    });
    expect(mail[0]!.text).toContain('Why: remediation cannot close it: the PDU is down');
    expect(mail[0]!.text).toContain('Open: https://shipshape.example.org/inbox/item-42');
  });

  test('a wrong password is refused with a clear error, is not retried, and nothing is sent', async () => {
    const before = smtp.messages().length;
    const receiver = createEmailReceiver({ ...config, smtp: { ...config.smtp, password: 'wrong-secret' } });
    const result = await deliver(receiver, message, { attempts: 3, backoffMs: 1 });
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(1);
    expect(result.lastError).toMatch(/^receiver oncall-mail: the SMTP server refused the login: 535/);
    expect(result.lastError).not.toContain('wrong-secret');
    expect(smtp.messages().length).toBe(before);
  });

  test('the self-signed certificate is refused unless its CA is pinned or checking is turned off explicitly', async () => {
    const before = smtp.messages().length;
    const unpinned = { ...config.smtp, ca: undefined };
    await expect(createEmailReceiver({ ...config, smtp: unpinned }).send(message)).rejects.toThrow(
      /^receiver oncall-mail: the SMTP server's certificate is not trusted: self[- ]signed certificate/,
    );
    expect(smtp.messages().length).toBe(before);
    await createEmailReceiver({ ...config, smtp: { ...unpinned, insecureSkipVerify: true } }).send(message);
    expect(smtp.messages().length).toBe(before + 1);
  });

  test('a server that offers no STARTTLS gets nothing: not the password, not the message', async () => {
    const plain = await startSmtpServer({ username: 'shipshape', password: 'correct horse', starttls: false });
    try {
      const receiver = createEmailReceiver({ ...config, smtp: { ...config.smtp, port: plain.port } });
      const result = await deliver(receiver, message, { attempts: 3, backoffMs: 1 });
      expect(result).toMatchObject({ ok: false, attempts: 1 });
      expect(result.lastError).toMatch(/^receiver oncall-mail: STARTTLS failed or is not offered by the SMTP server/);
      expect(plain.messages()).toEqual([]);
    } finally {
      await plain.stop();
    }
  });

  test('with the SMTP server down, sending fails saying it cannot be reached', async () => {
    const receiver = createEmailReceiver({ ...config, smtp: { ...config.smtp, port: await freePort() } });
    const result = await deliver(receiver, message, { attempts: 2, backoffMs: 1 });
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(result.lastError).toMatch(/^receiver oncall-mail: cannot reach the SMTP server: .*ECONNREFUSED/);
  });

  test('a notifications file with the password and CA by reference builds a receiver that delivers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-notify-'));
    try {
      writeFileSync(join(dir, 'smtp-password'), `${smtp.password}\n`);
      writeFileSync(join(dir, 'smtp-ca.pem'), smtp.certificatePem);
      writeFileSync(
        join(dir, 'notifications.yaml'),
        [
          'receivers:',
          '  - name: oncall-mail',
          '    type: email',
          '    from: shipshape@example.org',
          '    to: [oncall@example.org]',
          '    smtp:',
          `      host: ${smtp.host}`,
          `      port: ${smtp.port}`,
          `      username: ${smtp.username}`,
          '      passwordFile: smtp-password',
          '      caFile: smtp-ca.pem',
          'routes:',
          '  - receiver: oncall-mail',
        ].join('\n'),
      );
      const settings = loadNotifications(join(dir, 'notifications.yaml'));
      const receiver = createReceivers(settings.receivers).get('oncall-mail')!;
      const before = smtp.messages().length;
      expect(await deliver(receiver, { ...message, kind: 'resolved', state: 'resolved' }, settings.delivery)).toEqual({
        ok: true,
        attempts: 1,
      });
      expect(
        smtp
          .messages()
          .slice(before)
          .map((m) => m.subject),
      ).toEqual(['[critical] Resolved — 12 hosts in rack r7 lost power']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
