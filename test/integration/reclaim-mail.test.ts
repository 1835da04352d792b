/**
 * Reclaim's notices reach the owners over a real SMTP server (aiosmtpd, with
 * STARTTLS, AUTH and its certificate pinned), through the reclaim activity
 * that sends them: the project's owner by address, the deadline and the
 * capacity in words, and an extend link whose token opens the case and is
 * stored only as its hash. A server that refuses the login fails the send
 * with the reason and never the password.
 */
import { randomUUID } from 'node:crypto';
import { createReclaimActivities } from '../../activities/reclaim';
import { caseOfToken, recordReclaimCase } from '../../db/reclaim';
import type { ReclaimView } from '../../domain/reclaim-case';
import { createOwnerMailer } from '../../providers/notify/owner-mail';
import { SimulatedTenantCloud } from '../../providers/simulated/tenants';
import { createTestEnv, type TestEnv } from '../support/env';
import { startSmtpServer, type RunningSmtpServer } from '../support/smtp-server';

let env: TestEnv;
let smtp: RunningSmtpServer;
beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 1, serversPerHost: 0 } });
  smtp = await startSmtpServer({ username: 'shipshape', password: 'correct horse' });
});
afterAll(async () => {
  await smtp?.stop();
  await env?.close();
});

const smtpConfig = (password: string) => ({
  host: smtp.host,
  port: smtp.port,
  username: smtp.username,
  password,
  ca: smtp.certificatePem,
  servername: 'localhost',
});

function view(caseId: string): ReclaimView {
  const now = Date.now();
  return {
    caseId,
    rule: { name: 'stopped-servers', version: '1+abc' },
    resource: { kind: 'server', id: 'srv-7', name: 'build-box', projectId: 'proj-001' },
    phase: 'notifying',
    reason: 'SHUTOFF since 2026-10-01 (over 30 d)',
    capacity: { vcpus: 8, ramMb: 16384, diskGb: 80, ips: 0 },
    flaggedAt: new Date(now).toISOString(),
    owners: { contacts: ['owner-1@example.org'], via: 'role owner on the project' },
    noticeAt: null,
    graceEnds: new Date(now + 14 * 86_400_000).toISOString(),
    deleteAfter: new Date(now + 21 * 86_400_000).toISOString(),
    extendedMs: 0,
    extensions: [],
    action: 'shelve',
    restorePoint: null,
    outcome: null,
    freed: null,
  };
}

function activities(password: string) {
  return createReclaimActivities({
    db: env.db,
    cloud: new SimulatedTenantCloud({ projects: 1, servers: 0, volumes: 0, floatingIps: 0, waste: 0, now: new Date() }),
    mailer: createOwnerMailer({ from: 'shipshape@example.org', smtp: smtpConfig(password) }),
    rules: () => [],
    caps: { deletionsPerDay: 10, deletionsPerProjectPerDay: 5 },
    publicUrl: 'https://shipshape.example.org',
  });
}

test('the owner gets the notice over TLS: deadline, capacity, and an extend link whose token opens the case', async () => {
  const caseId = randomUUID();
  const v = view(caseId);
  await recordReclaimCase(env.db, {
    view: v,
    workflowId: 'reclaim/stopped-servers/server/srv-7',
    audit: { action: 'flagged', reason: 'x' },
  });
  await activities('correct horse').sendReclaimNotice({ kind: 'notice', view: v });

  const [mail] = smtp.messages();
  expect(mail).toMatchObject({ rcptTos: ['owner-1@example.org'], login: 'shipshape', tls: true });
  expect(mail!.subject).toBe(`build-box will be reclaimed after ${v.graceEnds}`);
  expect(mail!.text).toContain('It holds 8 vCPU, 16 GiB RAM, 80 GB disk.');
  expect(mail!.text).toContain('shelved (stopped, its vCPUs and RAM freed, its disk kept)');
  const token = /extend\?token=([A-Za-z0-9_-]{43})/.exec(mail!.text)![1]!;
  expect(await caseOfToken(env.db, token)).toEqual({ caseId, workflowId: 'reclaim/stopped-servers/server/srv-7' });
});

test('a relay that refuses the login fails the send with the reason, never the password', async () => {
  const caseId = randomUUID();
  const v = view(caseId);
  await recordReclaimCase(env.db, { view: v, workflowId: 'w', audit: { action: 'flagged', reason: 'x' } });
  const sending = activities('wrong secret').sendReclaimNotice({ kind: 'notice', view: v });
  await expect(sending).rejects.toThrow(/reclaim notices: the SMTP server refused the login/);
  await expect(sending).rejects.not.toThrow(/wrong secret/);
});
