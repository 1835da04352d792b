/**
 * Inbox notifications against a real PostgreSQL and real receivers: a loopback
 * HTTP server that records what it is sent (the generic webhook and the
 * Slack-compatible one) and a real aiosmtpd with STARTTLS and AUTH (e-mail).
 *
 * Most tests write their items into inbox_items directly with SQL, as
 * fixtures (state, state_since, severity, zone, role, source): the engine that
 * derives them (api/inbox-engine.ts) is tested on its own, and here the
 * notifier is tested in isolation, on an injected clock, ticked by the test
 * (tickMs 0). The last test goes end to end: alerts through the API, the
 * engine deriving the item, the notifier telling a loopback webhook.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Pool } from 'pg';
import { startInboxNotifier, type InboxNotifier } from '../../api/inbox-notifier';
import { createLogger } from '../../config/logger';
import type { NotificationSettings, ResolvedReceiverConfig } from '../../config/notifications';
import { INBOX_NOTIFIER_LOCK, insertPendingDeliveries, listDeliveries } from '../../db/inbox-deliveries';
import { createPool } from '../../db/pool';
import type { InboxItemState, NotificationRoute } from '../../domain/notification-routes';
import { freePort } from '../../scripts/services';
import { createNotificationSender, NO_NOTIFICATIONS } from '../../workers/inbox-notifications';
import { createTestEnv, type TestEnv } from '../support/env';
import { hostSignal, http } from '../support/http';
import { startSmtpServer, type RunningSmtpServer } from '../support/smtp-server';

const MIN = 60_000;
const T0 = new Date('2026-12-01T10:00:00Z');
const PUBLIC_URL = 'https://shipshape.example.org';
const logger = createLogger('silent', 'test');

interface Received {
  path: string;
  body: { kind?: string; itemId?: string; title?: string; state?: string; url?: string; text?: string };
}

/** A loopback HTTP server that records every POST; `/down/...` answers 503, and each answer can be slowed. */
async function startRecorder(): Promise<{
  url: string;
  received: Received[];
  delayMs: number;
  close(): Promise<void>;
}> {
  const state = { received: [] as Received[], delayMs: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      state.received.push({ path: req.url!, body: JSON.parse(body) });
      setTimeout(() => res.writeHead(req.url!.startsWith('/down') ? 503 : 204).end(), state.delayMs);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((ok) => server.close(() => ok()));
    },
  });
}

interface ItemFixture {
  title: string;
  state: InboxItemState;
  severity: 'critical' | 'warning' | 'info';
  zone: string;
  role: string;
  source: string;
  host: string;
  since: Date;
  reason: string;
}

/** An item as the engine would have written it, straight into inbox_items. */
async function createItem(db: Pool, over: Partial<ItemFixture> = {}): Promise<string> {
  const f: ItemFixture = {
    title: 'cmp-a-01 is down',
    state: 'needs-person',
    severity: 'critical',
    zone: 'zone-a',
    role: 'compute',
    source: 'alertmanager',
    host: 'cmp-a-01',
    since: T0,
    reason: 'no policy matches HostDown and it keeps firing',
    ...over,
  };
  const id = randomUUID();
  await db.query(
    `INSERT INTO inbox_items (id, kind, key, title, source, name, host, zone, role, severity, first_seen, last_seen,
                              last_change, firing, alerts_received, state, state_reason, state_since)
     VALUES ($1, 'resource', $2, $3, $4, 'HostDown', $5, $6, $7, $8, $9, $9, $9, true, 1, $10, $11, $9)`,
    [id, `host:${f.host}:${id}`, f.title, f.source, f.host, f.zone, f.role, f.severity, f.since, f.state, f.reason],
  );
  return id;
}

/** The item changes state (the engine's part): a new state_since. */
async function changeState(db: Pool, id: string, state: InboxItemState, at: Date, reason: string): Promise<void> {
  const closed = state === 'resolved' ? at : null;
  await db.query(
    `UPDATE inbox_items SET state = $2, state_since = $3, state_reason = $4, closed_at = $5, resolved_at = $5,
            resolved_how = CASE WHEN $5::timestamptz IS NULL THEN NULL ELSE 'source' END, firing = ($5::timestamptz IS NULL)
      WHERE id = $1`,
    [id, state, at, reason, closed],
  );
}

/** More alerts join the item (the engine's part): it grows, its state stays. */
async function alertsJoin(db: Pool, id: string, count: number, at: Date): Promise<void> {
  for (let i = 0; i < count; i++)
    await db.query(
      `INSERT INTO inbox_alerts (item_id, fingerprint, name, resource, host, source, severity, status, first_seen, last_seen, last_change, received)
       VALUES ($1, $2, 'HostDown', 'cmp-a-01', 'cmp-a-01', 'alertmanager', 'critical', 'firing', $3, $3, $3, 1)`,
      [id, randomUUID(), at],
    );
  await db.query(
    `UPDATE inbox_items SET alerts_received = alerts_received + $2, last_seen = $3, last_change = $3 WHERE id = $1`,
    [id, count, at],
  );
}

const webhook = (name: string, url: string): ResolvedReceiverConfig => ({
  type: 'webhook',
  name,
  url,
  timeoutMs: 2000,
});

describe('inbox notifications (real PostgreSQL, loopback webhooks, aiosmtpd)', () => {
  let env: TestEnv;
  let hooks: Awaited<ReturnType<typeof startRecorder>>;
  let smtp: RunningSmtpServer;
  let clock: Date;
  const notifiers: InboxNotifier[] = [];
  const pools: Pool[] = [];

  const mail = (name: string, to: string): ResolvedReceiverConfig => ({
    type: 'email',
    name,
    from: 'shipshape@example.org',
    to: [to],
    smtp: {
      host: smtp.host,
      port: smtp.port,
      security: 'starttls',
      username: smtp.username,
      password: smtp.password,
      ca: smtp.certificatePem,
    },
    timeoutMs: 5000,
  });

  const settingsOf = (receivers: ResolvedReceiverConfig[], routes: NotificationRoute[]): NotificationSettings => ({
    receivers,
    routes,
    delivery: { attempts: 3, backoffMs: 10 },
  });

  /** A notifier on the test's clock, ticked by the test; `db` is another replica's pool when given. */
  const notifier = (settings: NotificationSettings, db: Pool = env.db) => {
    const n = startInboxNotifier({
      db,
      logger,
      settings,
      send: createNotificationSender(settings),
      now: () => clock,
      tickMs: 0,
      publicUrl: PUBLIC_URL,
    });
    notifiers.push(n);
    return n;
  };
  const at = (minutes: number) => new Date(T0.getTime() + minutes * MIN);
  const hooked = (path: string) => hooks.received.filter((r) => r.path === path);
  const kindsAt = (path: string) => hooked(path).map((r) => r.body.kind);

  beforeAll(async () => {
    // The engine runs on the test's clock and only when ticked: the fixtures below are not re-derived behind the test's back.
    env = await createTestEnv({ inbox: { now: () => clock, tickMs: 0 } });
    hooks = await startRecorder();
    smtp = await startSmtpServer({ username: 'shipshape', password: 'correct horse' });
  });
  afterAll(async () => {
    await Promise.all(notifiers.map((n) => n.stop()));
    await Promise.all(pools.map((p) => p.end()));
    await hooks?.close();
    await smtp?.stop();
    await env?.close();
  });
  beforeEach(async () => {
    await Promise.all(notifiers.splice(0).map((n) => n.stop()));
    await env.db.query('DELETE FROM inbox_items');
    hooks.received.length = 0;
    hooks.delayMs = 0;
    clock = T0;
  });

  test('each item goes to the receivers its severity, zone, role, source and state route it to, and no other', async () => {
    const settings = settingsOf(
      [
        mail('oncall-mail', 'oncall@example.org'),
        webhook('zone-b-hook', `${hooks.url}/zone-b`),
        { type: 'slack', name: 'storage-slack', url: `${hooks.url}/services/T0/B0/storage`, timeoutMs: 2000 },
        webhook('compliance-hook', `${hooks.url}/compliance`),
      ],
      [
        { match: { severity: ['critical'], state: ['needs-person'] }, receiver: 'oncall-mail', continue: true },
        { match: { zone: ['zone-b'] }, receiver: 'zone-b-hook' },
        { match: { role: ['storage'] }, receiver: 'storage-slack' },
        { match: { source: ['compliance'] }, receiver: 'compliance-hook' },
      ],
    );
    const critical = await createItem(env.db, { title: 'cmp-a-01 is down' });
    const zoneB = await createItem(env.db, { title: 'cmp-b-02 is down', severity: 'warning', zone: 'zone-b' });
    const storage = await createItem(env.db, {
      title: 'sto-a-01 disk failing',
      severity: 'warning',
      role: 'storage',
      state: 'automation',
    });
    const compliance = await createItem(env.db, {
      title: 'cmp-a-04 out of compliance',
      severity: 'info',
      source: 'compliance',
    });
    const unrouted = await createItem(env.db, { title: 'cmp-a-05 fan warning', severity: 'info' });
    const wrongState = await createItem(env.db, { title: 'cmp-a-06 is down', state: 'automation' });
    const mailBefore = smtp.messages().length;

    await notifier(settings).tick();

    const mails = smtp.messages().slice(mailBefore);
    expect(mails.map((m) => [m.rcptTos, m.subject, m.tls, m.login])).toEqual([
      [['oncall@example.org'], '[critical] Needs attention — cmp-a-01 is down', true, 'shipshape'],
    ]);
    expect(mails[0]!.text).toContain(`Open: ${PUBLIC_URL}/v1/inbox/${critical}`);
    expect(hooked('/zone-b').map((r) => [r.body.itemId, r.body.kind, r.body.url])).toEqual([
      [zoneB, 'opened', `${PUBLIC_URL}/v1/inbox/${zoneB}`],
    ]);
    expect(hooked('/services/T0/B0/storage').map((r) => r.body.text)).toEqual([
      '[warning] Needs attention — sto-a-01 disk failing',
    ]);
    expect(hooked('/compliance').map((r) => r.body.itemId)).toEqual([compliance]);
    expect(hooks.received).toHaveLength(3);
    for (const id of [unrouted, wrongState]) expect(await listDeliveries(env.db, id)).toEqual([]);
    expect((await listDeliveries(env.db, storage)).map((d) => [d.receiver, d.kind, d.status, d.attempts])).toEqual([
      ['storage-slack', 'opened', 'sent', 1],
    ]);
  });

  test('one notification per state change, never one per alert: twenty alerts joining the item tell nobody again', async () => {
    const n = notifier(settingsOf([webhook('ops-hook', `${hooks.url}/ops`)], [{ match: {}, receiver: 'ops-hook' }]));
    const id = await createItem(env.db);
    await n.tick();
    for (let i = 1; i <= 4; i++) {
      await alertsJoin(env.db, id, 5, at(i));
      clock = at(i);
      await n.tick();
    }
    expect(kindsAt('/ops')).toEqual(['opened']);

    await changeState(env.db, id, 'acknowledged', at(5), 'acknowledged by alice');
    clock = at(5);
    await n.tick();
    await alertsJoin(env.db, id, 3, at(6));
    clock = at(6);
    await n.tick();
    expect(hooked('/ops').map((r) => [r.body.kind, r.body.state])).toEqual([
      ['opened', 'needs-person'],
      ['changed', 'acknowledged'],
    ]);
  });

  test('an unacknowledged item is reminded every repeat interval, and the reminders stop once it is acknowledged', async () => {
    const n = notifier(
      settingsOf(
        [webhook('ops-hook', `${hooks.url}/ops`)],
        [{ match: { state: ['needs-person'] }, receiver: 'ops-hook', repeatIntervalMs: 30 * MIN }],
      ),
    );
    const id = await createItem(env.db);
    for (const minute of [0, 10, 29, 30, 45, 59, 60]) {
      clock = at(minute);
      await n.tick();
    }
    expect(kindsAt('/ops')).toEqual(['opened', 'reminder', 'reminder']);

    await changeState(env.db, id, 'acknowledged', at(61), 'acknowledged by alice');
    for (const minute of [61, 95, 130, 200]) {
      clock = at(minute);
      await n.tick();
    }
    expect(kindsAt('/ops')).toEqual(['opened', 'reminder', 'reminder', 'changed']);
    expect((await listDeliveries(env.db, id)).map((d) => [d.kind, d.createdAt.toISOString()])).toEqual([
      ['opened', at(0).toISOString()],
      ['reminder', at(30).toISOString()],
      ['reminder', at(60).toISOString()],
      ['changed', at(61).toISOString()],
    ]);
  });

  test('after escalateAfter unacknowledged, the second receiver is told once by e-mail, and both hear it resolved', async () => {
    const n = notifier(
      settingsOf(
        [webhook('oncall-hook', `${hooks.url}/oncall`), mail('lead-mail', 'lead@example.org')],
        [
          {
            match: { state: ['needs-person'] },
            receiver: 'oncall-hook',
            escalateAfterMs: 15 * MIN,
            escalateTo: 'lead-mail',
          },
        ],
      ),
    );
    const mailBefore = smtp.messages().length;
    const id = await createItem(env.db, { title: 'rack r7 lost power' });
    for (const minute of [0, 14]) {
      clock = at(minute);
      await n.tick();
    }
    expect(smtp.messages().length).toBe(mailBefore);
    for (const minute of [15, 16, 60, 240]) {
      clock = at(minute);
      await n.tick();
    }
    expect(
      smtp
        .messages()
        .slice(mailBefore)
        .map((m) => [m.rcptTos, m.subject]),
    ).toEqual([[['lead@example.org'], '[critical] Escalated: unacknowledged too long — rack r7 lost power']]);

    await changeState(env.db, id, 'resolved', at(241), 'the alert resolved at its source');
    clock = at(241);
    await n.tick();
    clock = at(250);
    await n.tick();
    expect(kindsAt('/oncall')).toEqual(['opened', 'resolved']);
    expect(
      smtp
        .messages()
        .slice(mailBefore)
        .map((m) => m.subject),
    ).toEqual([
      '[critical] Escalated: unacknowledged too long — rack r7 lost power',
      '[critical] Resolved — rack r7 lost power',
    ]);
  });

  test('a resolved item is told resolved once to whoever heard of it; one nobody heard of stays quiet', async () => {
    const n = notifier(
      settingsOf(
        [webhook('ops-hook', `${hooks.url}/ops`)],
        [{ match: { state: ['needs-person'] }, receiver: 'ops-hook' }],
      ),
    );
    const told = await createItem(env.db, { title: 'cmp-a-01 is down' });
    const quiet = await createItem(env.db, { title: 'cmp-a-02 is repaired by automation', state: 'automation' });
    await n.tick();
    await changeState(env.db, told, 'resolved', at(5), 'the alert resolved at its source');
    await changeState(env.db, quiet, 'resolved', at(5), 'remediation verified the host');
    for (const minute of [5, 6, 30]) {
      clock = at(minute);
      await n.tick();
    }
    expect(hooked('/ops').map((r) => [r.body.itemId, r.body.kind, r.body.state])).toEqual([
      [told, 'opened', 'needs-person'],
      [told, 'resolved', 'resolved'],
    ]);
    expect(await listDeliveries(env.db, quiet)).toEqual([]);
  });

  test('a broken receiver is retried the configured number of times, recorded as failed in the item, and not retried every tick', async () => {
    const closedPort = await freePort();
    const n = notifier(
      settingsOf(
        [
          webhook('broken-hook', `http://127.0.0.1:${closedPort}/hook`),
          webhook('down-hook', `${hooks.url}/down/T0/secret-token`),
          webhook('ops-hook', `${hooks.url}/ops`),
        ],
        [
          { match: {}, receiver: 'broken-hook', continue: true },
          { match: {}, receiver: 'down-hook', continue: true },
          { match: {}, receiver: 'ops-hook' },
        ],
      ),
    );
    const id = await createItem(env.db);
    for (const minute of [0, 1, 2, 10]) {
      clock = at(minute);
      await n.tick();
    }

    expect(hooked('/down/T0/secret-token')).toHaveLength(3);
    expect(kindsAt('/ops')).toEqual(['opened']);
    const deliveries = await listDeliveries(env.db, id);
    expect(
      deliveries
        .map((d) => [d.receiver, d.status, d.attempts, d.lastError])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      ['broken-hook', 'failed', 3, 'receiver broken-hook unreachable: ECONNREFUSED'],
      ['down-hook', 'failed', 3, 'receiver down-hook answered HTTP 503'],
      ['ops-hook', 'sent', 1, null],
    ]);
    const { rows: history } = await env.db.query<{ actor: string; entry: string }>(
      'SELECT actor, entry FROM inbox_history WHERE item_id = $1 ORDER BY seq',
      [id],
    );
    expect(history.map((h) => h.entry).sort()).toEqual([
      'opened notification to broken-hook failed after 3 attempts: receiver broken-hook unreachable: ECONNREFUSED',
      'opened notification to down-hook failed after 3 attempts: receiver down-hook answered HTTP 503',
    ]);
    expect(history.every((h) => h.actor === 'notifications')).toBe(true);
    expect(JSON.stringify(history)).not.toContain('secret-token');
  });

  test('two notifiers on one database (two API replicas) send each message once', async () => {
    const settings = settingsOf(
      [webhook('ops-hook', `${hooks.url}/ops`)],
      [{ match: { state: ['needs-person'] }, receiver: 'ops-hook', repeatIntervalMs: 10 * MIN }],
    );
    const otherReplicaDb = createPool(env.databaseUrl, 10);
    pools.push(otherReplicaDb);
    const replicas = [notifier(settings), notifier(settings, otherReplicaDb)];
    hooks.delayMs = 50; // sends overlap: both replicas are claiming while the other sends
    const ids = await Promise.all(
      Array.from({ length: 8 }, (_, i) => createItem(env.db, { title: `cmp-a-${i} is down`, host: `cmp-a-${i}` })),
    );
    for (const minute of [0, 0, 5, 10, 10, 15, 20]) {
      clock = at(minute);
      await Promise.all(replicas.map((r) => r.tick()));
    }
    await changeState(env.db, ids[0]!, 'resolved', at(21), 'the alert resolved at its source');
    clock = at(21);
    await Promise.all(replicas.map((r) => r.tick()));
    await Promise.all(replicas.map((r) => r.tick()));

    const sent = hooked('/ops').map((r) => `${r.body.itemId}:${r.body.kind}`);
    // Each item: opened at 0, reminded at 10 and 20; the first one also resolved.
    const expected = ids.flatMap((id) => [`${id}:opened`, `${id}:reminder`, `${id}:reminder`]);
    expected.push(`${ids[0]}:resolved`);
    expect(sent.sort()).toEqual(expected.sort());
    const { rows } = await env.db.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM inbox_deliveries GROUP BY status',
    );
    expect(rows).toEqual([{ status: 'sent', n: expected.length }]);
  });

  test('while another replica holds the deciding lock, a replica decides nothing, but still sends what is pending', async () => {
    const n = notifier(settingsOf([webhook('ops-hook', `${hooks.url}/ops`)], [{ match: {}, receiver: 'ops-hook' }]));
    const first = await createItem(env.db, { title: 'cmp-a-01 is down' });
    const second = await createItem(env.db, { title: 'cmp-a-02 is down', host: 'cmp-a-02' });
    const leader = await env.db.connect();
    try {
      await leader.query('BEGIN');
      await leader.query('SELECT pg_advisory_xact_lock($1)', [INBOX_NOTIFIER_LOCK]);
      await n.tick();
      expect(await listDeliveries(env.db, first)).toEqual([]);
      expect(await listDeliveries(env.db, second)).toEqual([]);
      // What the leader decided meanwhile, committed before it ends: this replica sends it.
      await insertPendingDeliveries(
        env.db,
        [
          {
            receiver: 'ops-hook',
            stateSince: T0,
            message: {
              itemId: second,
              title: 'cmp-a-02 is down',
              state: 'needs-person',
              severity: 'critical',
              reason: 'r',
              kind: 'opened',
            },
          },
        ],
        T0,
      );
      await n.tick();
      expect(hooked('/ops').map((r) => r.body.itemId)).toEqual([second]);
    } finally {
      await leader.query('ROLLBACK');
      leader.release();
    }
    await n.tick();
    expect(hooked('/ops').map((r) => r.body.itemId)).toEqual([second, first]);
  });

  test('through the API: an alert no policy matches is told once as opened when it needs a person after the grace, and once as resolved', async () => {
    clock = new Date();
    const advance = (minutes: number) => (clock = new Date(clock.getTime() + minutes * MIN));
    const operator = await env.token('ops-bot', 'operator');
    const alert = (status: 'firing' | 'resolved') =>
      http(
        'POST',
        `${env.apiUrl}/v1/signals`,
        operator,
        hostSignal('cmp-a-01', 'DiskSmartWarning', { severity: 'warning', status }),
      ).then((res) => expect(res.status).toBe(202));
    const n = notifier(
      settingsOf(
        [webhook('ops-hook', `${hooks.url}/ops`)],
        [{ match: { state: ['needs-person'] }, receiver: 'ops-hook' }],
      ),
    );
    const step = async (minutes: number) => {
      advance(minutes);
      await env.inbox.tick();
      await n.tick();
    };

    await alert('firing');
    await step(0);
    await alert('firing');
    await step(2);
    expect(hooks.received).toEqual([]); // within the grace time automation watches it: nobody is told

    await step(4); // past the 5-minute grace: needs a person
    for (let i = 0; i < 5; i++) await alert('firing');
    await step(1);
    await step(1);
    const { rows } = await env.db.query<{ id: string }>(
      `SELECT id FROM inbox_items WHERE title = 'cmp-a-01: DiskSmartWarning' AND merged_into IS NULL`,
    );
    expect(rows).toHaveLength(1);
    const id = rows[0]!.id;
    expect(hooked('/ops').map((r) => [r.body.itemId, r.body.kind, r.body.state, r.body.url])).toEqual([
      [id, 'opened', 'needs-person', `${PUBLIC_URL}/v1/inbox/${id}`],
    ]);

    await alert('resolved');
    await step(1);
    await step(1);
    expect(kindsAt('/ops')).toEqual(['opened', 'resolved']);
    expect((await listDeliveries(env.db, id)).map((d) => [d.kind, d.status])).toEqual([
      ['opened', 'sent'],
      ['resolved', 'sent'],
    ]);
  });

  test('with no receivers configured the notifier does nothing and touches no database', async () => {
    const noDb = new Proxy({} as Pool, {
      get: () => {
        throw new Error('the notifier used the database');
      },
    });
    const n = startInboxNotifier({
      db: noDb,
      logger,
      settings: NO_NOTIFICATIONS,
      send: () => Promise.reject(new Error('the notifier sent something')),
      tickMs: 10,
    });
    await new Promise((ok) => setTimeout(ok, 50));
    await expect(n.tick()).resolves.toBeUndefined();
    await n.stop();
  });
});
