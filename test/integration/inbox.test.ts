/**
 * The alert inbox as a person uses it, through HTTP on the real API, Temporal
 * dev server and PostgreSQL: each state an item can be in, each action with
 * its audit record, history line and role, grouping by rack, flap detection,
 * silences, the noise report, and bad input.
 *
 * Tuned: the engine gets a clock the test moves and no timer (the test calls
 * `env.inbox.tick()`), so the default 5-minute grace time passes when the test
 * says so, and each item is seen in the state the test names, not in one a
 * timer moved it on to. The timings are the defaults.
 */
import { injectFault } from '../../providers/simulated/admin';
import { startInboxNotifier } from '../../api/inbox-notifier';
import { createInboxRouter } from '../../api/routes/inbox';
import { createLogger } from '../../config/logger';
import type { NotificationSettings } from '../../config/notifications';
import { freePort } from '../../scripts/services';
import { createNotificationSender } from '../../workers/inbox-notifications';
import { compareForPerson } from '../../domain/inbox';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, hostSignal, http, webhookAlert, webhookNotification } from '../support/http';

let env: TestEnv;
let operator: string;
let viewer: string;
let clock = Date.now();
const advance = (minutes: number) => (clock += minutes * 60_000);

beforeAll(async () => {
  env = await createTestEnv({
    fleet: { zones: ['zone-a'], hostsPerZone: 14, serversPerHost: 1 },
    inbox: { now: () => new Date(clock), tickMs: 0 },
  });
  operator = await env.token('olivia', 'operator');
  viewer = await env.token('victor', 'viewer');
  await env.startWorker();
});
afterAll(() => env.close());

const host = (n: number) => `cmp-a-${String(n).padStart(2, '0')}`;
const get = (path: string, token = operator) => http('GET', `${env.apiUrl}${path}`, token);
const post = (path: string, body: unknown = {}, token = operator) => http('POST', `${env.apiUrl}${path}`, token, body);

async function signal(body: unknown) {
  const res = await post('/v1/signals', body);
  expect(res.status).toBe(202);
  return res.body;
}

async function alertmanager(alerts: unknown[]) {
  const res = await post('/v1/integrations/alertmanager', webhookNotification(alerts));
  expect(res.status).toBe(200);
  return res.body;
}

/** Past the engine's every-5-seconds full evaluation, so a tick derives every open item again. */
async function settle() {
  advance(0.1);
  await env.inbox.tick();
}

/** The one item, in any state, whose title is exactly this. */
async function itemTitled(title: string) {
  const res = await get(`/v1/inbox?state=all&q=${encodeURIComponent(title)}`);
  expect(res.status).toBe(200);
  const found = res.body.items.filter((i: { title: string }) => i.title === title);
  expect(found).toHaveLength(1);
  return found[0];
}

const page = async (id: string) => (await get(`/v1/inbox/${id}`)).body;

async function auditOf(hostId: string, action: string) {
  const res = await get(`/v1/audit-log?host=${hostId}`);
  return res.body.entries.filter((e: { action: string }) => e.action === action);
}

async function inPhase(remediationId: string, phase: string) {
  return eventually(`remediation ${remediationId} in ${phase}`, async () => {
    const r = (await get(`/v1/remediations/${remediationId}`)).body;
    return r.phase === phase ? r : undefined;
  });
}

/** An item of an alert no policy matches, past the grace time: it needs a person. */
async function needsPerson(hostId: string, name: string) {
  await signal(hostSignal(hostId, name, { severity: 'warning' }));
  await env.inbox.tick();
  advance(6);
  await settle();
  const item = await itemTitled(`${hostId}: ${name}`);
  expect(item.state).toBe('needs-person');
  return item;
}

describe('states', () => {
  test('while its remediation runs, an item is with automation: not listed by default, counted, listed by state', async () => {
    await injectFault(env.db, host(1), { unhealthy: 'host unreachable' });
    const started = await signal(hostSignal(host(1), 'HostDown'));
    expect(started.outcome).toBe('started');
    await env.inbox.tick();

    const item = await itemTitled(`${host(1)}: HostDown`);
    expect(item).toMatchObject({ state: 'automation', remediationId: started.remediationId, policy: 'host-down' });
    expect(item.stateReason).toContain(`remediation ${started.remediationId} of ${host(1)}`);
    const inbox = (await get('/v1/inbox')).body;
    expect(inbox.items.map((i: { id: string }) => i.id)).not.toContain(item.id);
    expect(inbox.counts.automation).toBeGreaterThanOrEqual(1);
    const automation = (await get('/v1/inbox?state=automation')).body;
    expect(automation.items.map((i: { id: string }) => i.id)).toContain(item.id);
  });

  test('an alert no policy matches is watched through the 5-minute grace, then needs a person and is listed by default', async () => {
    await signal(hostSignal(host(2), 'DiskSmartWarning', { severity: 'warning' }));
    await env.inbox.tick();
    const watched = await itemTitled(`${host(2)}: DiskSmartWarning`);
    expect(watched.state).toBe('automation');
    expect(watched.stateReason).toMatch(/^no policy matches; watching whether the alert still fires/);

    advance(6);
    await settle();
    const inbox = (await get('/v1/inbox')).body;
    const listed = inbox.items.find((i: { id: string }) => i.id === watched.id);
    expect(listed).toMatchObject({
      state: 'needs-person',
      stateReason: 'no policy matches and the alert still fires after 5 min',
    });
    expect(inbox.items.every((i: { state: string }) => i.state === 'needs-person')).toBe(true);
    expect(inbox.counts['needs-person']).toBe(inbox.items.length);
  });

  test('a remediation handed off to an operator puts its item in front of a person, with the hand-off on its page', async () => {
    await injectFault(env.db, host(3), { unhealthy: 'PSU 2 failed', repairIneffective: true });
    const started = await signal(hostSignal(host(3), 'HostDown'));
    expect(started.outcome).toBe('started');
    await inPhase(started.remediationId, 'awaiting-operator');
    await env.inbox.tick();
    await settle();

    const item = await itemTitled(`${host(3)}: HostDown`);
    expect(item.state).toBe('needs-person');
    expect(item.stateReason).toMatch(new RegExp(`remediation ${started.remediationId} of ${host(3)} handed off: .*`));
    const shown = await page(item.id);
    expect(shown.remediation).toMatchObject({ id: started.remediationId, phase: 'awaiting-operator' });
    expect(shown.remediation.handOff.reason).toMatch(/verification failed/);
    expect(shown.host).toMatchObject({ id: host(3), zone: 'zone-a', poolState: 'awaiting-operator' });
  });

  test('a remediation awaiting approval (the hardware-fault policy asks for it) needs a person', async () => {
    await injectFault(env.db, host(4), { unhealthy: 'DIMM A3 uncorrectable errors' });
    const started = await signal(hostSignal(host(4), 'HardwareFault'));
    expect(started.outcome).toBe('started');
    await inPhase(started.remediationId, 'awaiting-approval');
    await env.inbox.tick();
    await settle();

    const item = await itemTitled(`${host(4)}: HardwareFault`);
    expect(item.state).toBe('needs-person');
    expect(item.stateReason).toMatch(/awaits approval since/);
    const shown = await page(item.id);
    expect(shown.remediation.pendingApproval).not.toBeNull();
    expect(shown.signals).toEqual([
      expect.objectContaining({ name: 'HardwareFault', outcome: 'started', remediationId: started.remediationId }),
    ]);
  });
});

describe('actions', () => {
  let item: { id: string };
  const h = host(5);

  beforeAll(async () => {
    item = await needsPerson(h, 'FilesystemAlmostFull');
  });

  test('a viewer may read the inbox but not acknowledge: 403 naming the role', async () => {
    expect((await get('/v1/inbox', viewer)).status).toBe(200);
    expect((await get(`/v1/inbox/${item.id}`, viewer)).status).toBe(200);
    const refused = await post(`/v1/inbox/${item.id}/acknowledge`, {}, viewer);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/operator/);
    expect(await auditOf(h, 'inbox.acknowledge')).toEqual([]);
  });

  test('acknowledge: the item is acknowledged by the caller, in its history and on the audit log; twice is refused', async () => {
    const res = await post(`/v1/inbox/${item.id}/acknowledge`, { comment: 'on it, disk cleanup' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'acknowledged', acknowledged: { by: 'olivia' } });
    expect(res.body.stateReason).toMatch(/^acknowledged by olivia at \d\d:\d\d: no policy matches/);

    const { history } = await page(item.id);
    expect(history).toContainEqual(
      expect.objectContaining({
        actor: 'olivia',
        fromState: 'needs-person',
        entry: 'acknowledged: on it, disk cleanup',
      }),
    );
    expect(history).toContainEqual(
      expect.objectContaining({ actor: 'inbox', fromState: 'needs-person', toState: 'acknowledged' }),
    );
    const [audit] = await auditOf(h, 'inbox.acknowledge');
    expect(audit).toMatchObject({ actorKind: 'person', actor: 'olivia', reason: 'on it, disk cleanup' });

    const again = await post(`/v1/inbox/${item.id}/acknowledge`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/already acknowledged by olivia/);
  });

  test('assign and unassign: the owner is listed and filterable; each is audited and in the history', async () => {
    const res = await post(`/v1/inbox/${item.id}/assign`, { to: 'alice', comment: 'storage on-call' });
    expect(res.status).toBe(200);
    expect(res.body.assignee).toMatchObject({ to: 'alice', by: 'olivia' });
    const mine = (await get('/v1/inbox?state=all&assignee=alice')).body.items;
    expect(mine.map((i: { id: string }) => i.id)).toEqual([item.id]);

    const off = await post(`/v1/inbox/${item.id}/assign`, { to: null });
    expect(off.status).toBe(200);
    expect(off.body.assignee).toBeNull();
    expect((await post(`/v1/inbox/${item.id}/assign`, { to: null })).status).toBe(409);

    const entries = (await page(item.id)).history.map((l: { entry: string }) => l.entry);
    expect(entries).toEqual(expect.arrayContaining(['assigned to alice: storage on-call', 'unassigned']));
    expect((await auditOf(h, 'inbox.assign')).map((a: { reason: string }) => a.reason)).toEqual([
      'storage on-call',
      'unassigned',
    ]);
  });

  test('snooze until it changes: the item is snoozed and off the default list; a snooze in the past is a 422 naming until', async () => {
    const past = await post(`/v1/inbox/${item.id}/snooze`, { until: new Date(clock - 60_000).toISOString() });
    expect(past.status).toBe(422);
    expect(past.body.error.details.fields[0]).toMatchObject({ field: 'body.until' });
    expect(past.body.error.message).toMatch(/^body\.until: .* has already passed/);
    const tooFar = await post(`/v1/inbox/${item.id}/snooze`, {
      until: new Date(clock + 31 * 86_400_000).toISOString(),
    });
    expect(tooFar.status).toBe(422);
    expect(tooFar.body.error.message).toMatch(/more than 30 days ahead/);
    const neither = await post(`/v1/inbox/${item.id}/snooze`, {});
    expect(neither.status).toBe(422);
    expect(neither.body.error.details.fields[0].field).toBe('body.until');

    const res = await post(`/v1/inbox/${item.id}/snooze`, {
      untilChange: true,
      comment: 'waiting for the cleanup job',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'snoozed', snooze: { by: 'olivia', untilChange: true, until: null } });
    expect((await get('/v1/inbox')).body.items.map((i: { id: string }) => i.id)).not.toContain(item.id);
    const [audit] = await auditOf(h, 'inbox.snooze');
    expect(audit).toMatchObject({ actor: 'olivia', reason: 'waiting for the cleanup job' });
  });

  test('resolve needs a note (422 naming note); with one the item is resolved by the person and closed', async () => {
    const bare = await post(`/v1/inbox/${item.id}/resolve`, {});
    expect(bare.status).toBe(422);
    expect(bare.body.error.details.fields[0]).toMatchObject({ field: 'body.note' });
    expect(bare.body.error.message).toMatch(/^body\.note: is required/);
    const blank = await post(`/v1/inbox/${item.id}/resolve`, { note: '   ' });
    expect(blank.status).toBe(422);

    const res = await post(`/v1/inbox/${item.id}/resolve`, { note: 'old logs removed; 40% free' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      state: 'resolved',
      resolvedHow: 'person',
      resolution: { by: 'olivia', note: 'old logs removed; 40% free' },
    });
    expect(res.body.closedAt).not.toBeNull();
    const [audit] = await auditOf(h, 'inbox.resolve');
    expect(audit).toMatchObject({ actor: 'olivia', reason: 'old logs removed; 40% free' });

    const ack = await post(`/v1/inbox/${item.id}/acknowledge`, {});
    expect(ack.status).toBe(409);
    expect(ack.body.error.message).toMatch(/is resolved .*reopen it first/);
    expect((await post(`/v1/inbox/${item.id}/resolve`, { note: 'again' })).status).toBe(409);
  });

  test('reopen: the alert still fires, so the item needs a person again; reopening an open item is refused', async () => {
    // The same instant as the resolve (the engine's clock stood still): the reopen is still recorded after it.
    const res = await post(`/v1/inbox/${item.id}/reopen`, { comment: 'filled up again' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'needs-person', reopened: { by: 'olivia' }, closedAt: null });
    expect(res.body.acknowledged).toBeNull();
    expect((await get('/v1/inbox')).body.items.map((i: { id: string }) => i.id)).toContain(item.id);
    const [audit] = await auditOf(h, 'inbox.reopen');
    expect(audit).toMatchObject({ actor: 'olivia', reason: 'filled up again' });

    const again = await post(`/v1/inbox/${item.id}/reopen`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/is open \(needs-person\)/);
  });

  test('an unknown item is a 404, whether or not its id is a UUID', async () => {
    expect((await get('/v1/inbox/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await get('/v1/inbox/nope')).status).toBe(404);
    expect((await post('/v1/inbox/00000000-0000-4000-8000-000000000000/acknowledge', {})).status).toBe(404);
  });
});

describe('notifications', () => {
  test('a receiver that cannot be reached shows on the item’s page: failed, after how many attempts, and why', async () => {
    const item = await needsPerson(host(12), 'EccErrorsRising');
    const settings: NotificationSettings = {
      receivers: [
        { type: 'webhook', name: 'broken-hook', url: `http://127.0.0.1:${await freePort()}/hook`, timeoutMs: 2000 },
      ],
      routes: [{ match: { state: ['needs-person'] }, receiver: 'broken-hook' }],
      delivery: { attempts: 2, backoffMs: 10 },
    };
    const notifier = startInboxNotifier({
      db: env.db,
      logger: createLogger('silent', 'test'),
      settings,
      send: createNotificationSender(settings),
      now: () => new Date(clock),
      tickMs: 0,
    });
    try {
      await notifier.tick();
    } finally {
      await notifier.stop();
    }
    const { deliveries } = await page(item.id);
    expect(deliveries).toEqual([
      expect.objectContaining({
        receiver: 'broken-hook',
        kind: 'opened',
        state: 'needs-person',
        status: 'failed',
        attempts: 2,
        lastError: 'receiver broken-hook unreachable: ECONNREFUSED',
      }),
    ]);
  });
});

describe('grouping by topology', () => {
  test('alerts on 3 hosts of rack r1 within the window become one item; the item folded into it points there', async () => {
    const [x, y, z] = [host(6), host(7), host(8)];
    // Two alerts of one host make two items (one host is not a rack yet); the next host's alert
    // makes the rack's item of the oldest and folds the other into it.
    await alertmanager([webhookAlert({ alertname: 'PowerSupplyLost', host: x, rack: 'r1', severity: 'critical' })]);
    await env.inbox.tick();
    advance(0.5); // the title names alerts in the order they came; the same instant would leave it open
    await alertmanager([webhookAlert({ alertname: 'InletTempHigh', host: x, rack: 'r1', severity: 'warning' })]);
    await env.inbox.tick();
    advance(1);
    await alertmanager([webhookAlert({ alertname: 'PowerSupplyLost', host: y, rack: 'r1', severity: 'critical' })]);
    await env.inbox.tick();
    advance(1);
    await alertmanager([webhookAlert({ alertname: 'PowerSupplyLost', host: z, rack: 'r1', severity: 'critical' })]);
    await env.inbox.tick();

    const items = (await get('/v1/inbox?state=all&q=rack%20r1')).body.items;
    expect(items).toHaveLength(1);
    const rack = items[0];
    expect(rack.title).toBe('3 hosts in rack r1: PowerSupplyLost, InletTempHigh');
    expect(rack).toMatchObject({ kind: 'topology', topology: { label: 'rack', value: 'r1' }, severity: 'critical' });
    const shown = await page(rack.id);
    expect(new Set(shown.alerts.map((a: { resource: string }) => a.resource))).toEqual(new Set([x, y, z]));
    expect(shown.signals).toHaveLength(4);

    const folded = await env.db.query('SELECT id FROM inbox_items WHERE merged_into = $1', [rack.id]);
    expect(folded.rows).toHaveLength(1);
    const merged = await get(`/v1/inbox/${folded.rows[0].id}`);
    expect(merged.status).toBe(200);
    expect(merged.body.mergedInto).toBe(rack.id);
    const act = await post(`/v1/inbox/${folded.rows[0].id}/acknowledge`, {});
    expect(act.status).toBe(409);
    expect(act.body.error.message).toContain(`folded into ${rack.id}`);
    // A folded item is never listed.
    const all = (await get('/v1/inbox?state=all&limit=500')).body.items;
    expect(all.map((i: { id: string }) => i.id)).not.toContain(folded.rows[0].id);
  });
});

describe('flap detection', () => {
  test('an alert flipping between firing and resolved is one item marked flapping that needs a person, and starts ONE remediation', async () => {
    // The hardware-fault policy asks for approval, so the one remediation stays open while the alert flaps:
    // what the test shows is that no firing, before or after flapping is detected, starts another.
    const h = host(9);
    await injectFault(env.db, h, { unhealthy: 'BMC sensor bus errors' });
    const outcomes: string[] = [];
    for (let i = 0; i < 16; i++) {
      const status = i % 2 === 0 ? 'firing' : 'resolved';
      outcomes.push((await signal(hostSignal(h, 'HardwareFault', { status }))).outcome);
      await env.inbox.tick();
      advance(1);
    }
    const items = (await get(`/v1/inbox?state=all&host=${h}`)).body.items;
    expect(items).toHaveLength(1);
    const item = items[0];
    expect(item.state).toBe('needs-person');
    expect(item.flapping).not.toBeNull();
    expect(item.stateReason).toMatch(/flapping since .* \(\d+(\.\d)?% state change\)/);

    expect(outcomes.filter((o) => o === 'started')).toHaveLength(1);
    const shown = await page(item.id);
    expect(shown.signals).toHaveLength(16);
    expect(shown.signals.filter((s: { outcome: string }) => s.outcome === 'started')).toHaveLength(1);
    expect(shown.alerts).toEqual([expect.objectContaining({ name: 'HardwareFault', flapping: true })]);
  });

  test('the noise report names the flapping rule over the window', async () => {
    const res = await get('/v1/inbox/noise?days=1');
    expect(res.status).toBe(200);
    const rule = res.body.rules.find((r: { name: string }) => r.name === 'HardwareFault');
    expect(rule).toMatchObject({ source: 'test', flapping: 1 });
    expect(res.body.flappers.map((r: { name: string }) => r.name)).toContain('HardwareFault');
    expect(res.body.totals.items).toBeGreaterThanOrEqual(rule.items);
    expect((await get('/v1/inbox/noise?days=0')).status).toBe(400);
  });
});

describe('silences', () => {
  test('an alert a silence matches makes a silenced item; expiring the silence un-silences it; both are audited', async () => {
    const created = await post('/v1/silences', {
      matchers: ['alertname="NtpDrift"'],
      duration: '2h',
      comment: 'chrony upgrade in progress',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ createdBy: 'olivia', matchers: ['alertname="NtpDrift"'], active: true });
    const id = created.body.id as string;

    await alertmanager([webhookAlert({ alertname: 'NtpDrift', host: host(10), severity: 'warning' })]);
    await env.inbox.tick();
    const item = await itemTitled(`${host(10)}: NtpDrift`);
    expect(item).toMatchObject({ state: 'silenced', silenceId: id });
    expect(item.stateReason).toMatch(new RegExp(`^silenced by ${id} \\(olivia: chrony upgrade in progress\\)`));
    const listed = (await get('/v1/silences')).body.silences.find((s: { id: string }) => s.id === id);
    expect(listed.silencing).toBe(1);
    expect((await get('/v1/inbox')).body.items.map((i: { id: string }) => i.id)).not.toContain(item.id);

    const expired = await post(`/v1/silences/${id}/expire`, { comment: 'upgrade done' });
    expect(expired.status).toBe(200);
    expect(expired.body).toMatchObject({ id, endedBy: 'olivia', active: false });
    expect((await post(`/v1/silences/${id}/expire`, {})).status).toBe(409);
    expect((await post('/v1/silences/s-000000000000/expire', {})).status).toBe(404);
    await settle();
    expect((await itemTitled(`${host(10)}: NtpDrift`)).state).toBe('automation');
    expect((await get('/v1/silences')).body.silences.map((s: { id: string }) => s.id)).not.toContain(id);
    expect((await get('/v1/silences?active=all')).body.silences.map((s: { id: string }) => s.id)).toContain(id);

    const audit = (await get('/v1/audit-log')).body.entries.filter((e: { action: string }) =>
      e.action.startsWith('inbox.silence.'),
    );
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'inbox.silence.create',
          actor: 'olivia',
          reason: 'chrony upgrade in progress',
        }),
        expect.objectContaining({ action: 'inbox.silence.expire', actor: 'olivia', reason: 'upgrade done' }),
      ]),
    );
  });

  test('a silence that ends on resolve ends when the alert it silenced resolves', async () => {
    const created = await post('/v1/silences', {
      matchers: ['alertname="RaidDegraded"', `host="${host(11)}"`],
      endsAt: new Date(clock + 3_600_000).toISOString(),
      comment: 'disk swap scheduled',
      endOnResolve: true,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const alert = webhookAlert({ alertname: 'RaidDegraded', host: host(11), severity: 'warning' });
    await alertmanager([alert]);
    await env.inbox.tick();
    expect((await itemTitled(`${host(11)}: RaidDegraded`)).state).toBe('silenced');

    await alertmanager([{ ...alert, status: 'resolved' }]);
    await env.inbox.tick();
    const ended = (await get('/v1/silences?active=all')).body.silences.find((s: { id: string }) => s.id === id);
    expect(ended).toMatchObject({ active: false, endedBy: 'the alert resolved' });
    expect(ended.endedAt).not.toBeNull();
    expect((await itemTitled(`${host(11)}: RaidDegraded`)).state).toBe('resolved');
  });

  test('bad silences are 422s naming each field: a malformed matcher, no end, a match of everything', async () => {
    const malformed = await post('/v1/silences', {
      matchers: ['alertname="X"', 'rack=r7'],
      duration: '2h',
      comment: 'x',
    });
    expect(malformed.status).toBe(422);
    expect(malformed.body.error.details.fields).toEqual([expect.objectContaining({ field: 'body.matchers.1' })]);
    const noEnd = await post('/v1/silences', { matchers: ['alertname="X"'], comment: 'x' });
    expect(noEnd.status).toBe(422);
    expect(noEnd.body.error.details.fields[0].field).toBe('body.endsAt');
    const everything = await post('/v1/silences', { matchers: ['rack=~".*"'], duration: '1h', comment: 'x' });
    expect(everything.status).toBe(422);
    expect(everything.body.error.message).toMatch(/^body\.matchers: .*silence everything/);
    const noComment = await post('/v1/silences', { matchers: ['alertname="X"'], duration: '1h' });
    expect(noComment.status).toBe(422);
    expect(noComment.body.error.details.fields[0].field).toBe('body.comment');
    expect(
      (await post('/v1/silences', { matchers: ['alertname="X"'], duration: '1h', comment: 'x' }, viewer)).status,
    ).toBe(403);
  });
});

describe('the list', () => {
  test('pages of any size give the items in compareForPerson order, and filters narrow them', async () => {
    const whole = (await get('/v1/inbox?state=all&limit=500')).body;
    expect(whole.next).toBeNull();
    const ordered = [...whole.items].sort((a, b) =>
      compareForPerson({ ...a, lastSeen: new Date(a.lastSeen) }, { ...b, lastSeen: new Date(b.lastSeen) }),
    );
    expect(whole.items.map((i: { id: string }) => i.id)).toEqual(ordered.map((i) => i.id));

    const paged: string[] = [];
    let next: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; next: string | null } } = await get(
        `/v1/inbox?state=all&limit=2${next ? `&after=${next}` : ''}`,
      );
      paged.push(...res.body.items.map((i) => i.id));
      next = res.body.next;
    } while (next);
    expect(paged).toEqual(whole.items.map((i: { id: string }) => i.id));

    const critical = (await get('/v1/inbox?state=all&severity=critical')).body.items;
    expect(critical.length).toBeGreaterThan(0);
    expect(critical.every((i: { severity: string }) => i.severity === 'critical')).toBe(true);
    const two = (await get('/v1/inbox?state=needs-person,resolved')).body.items;
    expect(two.every((i: { state: string }) => ['needs-person', 'resolved'].includes(i.state))).toBe(true);
    const bad = await get('/v1/inbox?state=bogus');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^query\.state/);
    expect((await get('/v1/inbox?after=garbage')).status).toBe(400);
  });
});

test('the OpenAPI document describes every inbox and silence route, with its method', async () => {
  const router = createInboxRouter({ db: env.db, inbox: env.inbox });
  const routes = (router.stack as Array<{ route?: { path: string; methods: Record<string, boolean> } }>)
    .filter((layer) => layer.route)
    .flatMap((layer) =>
      Object.keys(layer.route!.methods).map((m) => `${m} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`),
    );
  expect(routes.length).toBeGreaterThanOrEqual(10);
  const doc = (await http('GET', `${env.apiUrl}/openapi.json`, null)).body;
  const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m} ${path}`),
  );
  expect(documented).toEqual(expect.arrayContaining(routes));
});
