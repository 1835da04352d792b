/** Routing of inbox notifications, the notifications file, and bounded delivery: pure logic, row by row. */
import { join } from 'node:path';
import {
  loadNotifications,
  parseNotificationsFile,
  resolveNotifications,
  type SecretSources,
} from '../../config/notifications';
import {
  matchingRoutes,
  notificationsDue,
  type InboxNotification,
  type NotificationDelivery,
  type NotificationKind,
  type NotificationRoute,
  type RoutableItem,
} from '../../domain/notification-routes';
import { deliver, ReceiverError, type Receiver } from '../../providers/notify';

const MIN = 60_000;
const T0 = new Date('2026-11-28T06:56:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * MIN);

const item = (over: Partial<RoutableItem> = {}): RoutableItem => ({
  id: 'item-1',
  title: 'cmp-a-03 is down',
  state: 'needs-person',
  stateSince: T0,
  severity: 'critical',
  reason: 'remediation could not verify the host',
  host: 'cmp-a-03',
  zone: 'zone-a',
  role: 'compute',
  source: 'alertmanager',
  ...over,
});

describe('which routes an item takes', () => {
  const r = (receiver: string, match: NotificationRoute['match'], more: Partial<NotificationRoute> = {}) => ({
    receiver,
    match,
    ...more,
  });
  test.each<[string, NotificationRoute[], Partial<RoutableItem>, string[]]>([
    ['a route with no match fields takes every item', [r('ops', {})], {}, ['ops']],
    ['severity must be one of those listed', [r('pager', { severity: ['warning'] }), r('ops', {})], {}, ['ops']],
    ['zone matches one of its list', [r('a', { zone: ['zone-b', 'zone-a'] })], {}, ['a']],
    ['a listed field the item lacks does not match', [r('a', { zone: ['zone-a'] })], { zone: undefined }, []],
    ['role and source both have to match', [r('x', { role: ['compute'], source: ['telemetry'] })], {}, []],
    ['state is matched like the labels', [r('x', { state: ['acknowledged'] })], { state: 'acknowledged' }, ['x']],
    ['the first match wins', [r('first', {}), r('second', {})], {}, ['first']],
    [
      'continue: true goes on to the next match, skipping those that do not match',
      [r('first', {}, { continue: true }), r('no', { zone: ['zone-z'] }), r('second', {}), r('third', {})],
      {},
      ['first', 'second'],
    ],
    ['no route matches: nobody', [r('x', { source: ['compliance'] })], {}, []],
  ])('%s', (_what, routes, over, expected) => {
    expect(matchingRoutes(item(over), routes).map((route) => route.receiver)).toEqual(expected);
  });
});

describe('which notifications are due now', () => {
  const routes: NotificationRoute[] = [
    {
      match: { severity: ['critical'], state: ['needs-person'] },
      receiver: 'pager',
      repeatIntervalMs: 60 * MIN,
      escalateAfterMs: 30 * MIN,
      escalateTo: 'lead',
      continue: true,
    },
    { match: { zone: ['zone-a'], state: ['needs-person'] }, receiver: 'team-a' },
    { match: { state: ['needs-person'] }, receiver: 'ops' },
  ];
  const sent = (receiver: string, kind: NotificationKind, stateSince: Date, when = stateSince) =>
    ({ receiver, kind, stateSince, at: when }) satisfies NotificationDelivery;
  const openedAtT0 = [sent('pager', 'opened', T0), sent('team-a', 'opened', T0)];
  const T1 = at(10);
  const T2 = at(120);

  test.each<
    [
      string,
      Partial<RoutableItem>,
      NotificationDelivery[],
      Date,
      Array<[string, NotificationKind]>,
      NotificationRoute[]?,
    ]
  >([
    [
      'a new critical item in zone-a is opened to the pager and, continuing, to team-a (which stops the routes)',
      {},
      [],
      T0,
      [
        ['pager', 'opened'],
        ['team-a', 'opened'],
      ],
    ],
    [
      'a warning in zone-b falls through to ops alone',
      { severity: 'warning', zone: 'zone-b' },
      [],
      T0,
      [['ops', 'opened']],
    ],
    ['an item automation is handling matches no route and tells nobody', { state: 'automation' }, [], T0, []],
    [
      'evaluated again in the same state, nothing: one message per state change, never one per alert',
      {},
      openedAtT0,
      at(5),
      [],
    ],
    [
      'acknowledged: each receiver told before hears of the change once',
      { state: 'acknowledged', stateSince: T1 },
      openedAtT0,
      T1,
      [
        ['pager', 'changed'],
        ['team-a', 'changed'],
      ],
    ],
    [
      'the acknowledgement is not told twice',
      { state: 'acknowledged', stateSince: T1 },
      [...openedAtT0, sent('pager', 'changed', T1), sent('team-a', 'changed', T1)],
      at(100),
      [],
    ],
    ['nobody is escalated to before escalateAfter', {}, openedAtT0, at(29), []],
    ['after 30 minutes unacknowledged the lead is told, once', {}, openedAtT0, at(30), [['lead', 'escalated']]],
    ['the escalation is not repeated', {}, [...openedAtT0, sent('lead', 'escalated', T0, at(30))], at(45), []],
    ['no reminder before the repeat interval', {}, [...openedAtT0, sent('lead', 'escalated', T0, at(30))], at(59), []],
    [
      'still unacknowledged after the repeat interval: the pager is reminded (team-a has no interval)',
      {},
      [...openedAtT0, sent('lead', 'escalated', T0, at(30))],
      at(60),
      [['pager', 'reminder']],
    ],
    [
      'the next reminder counts from the last one',
      {},
      [...openedAtT0, sent('lead', 'escalated', T0, at(30)), sent('pager', 'reminder', T0, at(60))],
      at(119),
      [],
    ],
    [
      'an acknowledged item is neither reminded nor escalated',
      { state: 'acknowledged', stateSince: T1 },
      [...openedAtT0, sent('pager', 'changed', T1), sent('team-a', 'changed', T1)],
      at(600),
      [],
    ],
    [
      'resolved: everybody who heard of the item, the lead too, gets the resolved notice once',
      { state: 'resolved', stateSince: T2 },
      [...openedAtT0, sent('lead', 'escalated', T0, at(30))],
      T2,
      [
        ['pager', 'resolved'],
        ['team-a', 'resolved'],
        ['lead', 'resolved'],
      ],
    ],
    [
      'the resolved notice is not sent twice',
      { state: 'resolved', stateSince: T2 },
      [...openedAtT0, sent('pager', 'resolved', T2), sent('team-a', 'resolved', T2)],
      at(600),
      [],
    ],
    ['an item resolved before anybody was told tells nobody', { state: 'resolved', stateSince: T2 }, [], T2, []],
    [
      'a silenced item tells nobody, not even a reminder',
      { state: 'silenced', stateSince: T1 },
      openedAtT0,
      at(600),
      [],
    ],
    ['a snoozed item tells nobody', { state: 'snoozed', stateSince: T1 }, openedAtT0, at(600), []],
    [
      'reopened (resolved, then needs a person again): those told before hear it changed',
      { stateSince: at(300) },
      [...openedAtT0, sent('pager', 'resolved', T2), sent('team-a', 'resolved', T2)],
      at(300),
      [
        ['pager', 'changed'],
        ['team-a', 'changed'],
      ],
    ],
    [
      'reopened and unacknowledged for escalateAfter again: the lead is told again, once for this stretch',
      { stateSince: at(300) },
      [
        sent('lead', 'escalated', T0, at(30)),
        sent('pager', 'changed', at(300)),
        sent('team-a', 'changed', at(300)),
        sent('lead', 'changed', at(300)),
      ],
      at(330),
      [['lead', 'escalated']],
    ],
    [
      'a receiver that is both routed to and escalated to still gets the escalation',
      {},
      [sent('pager', 'opened', T0)],
      at(30),
      [
        ['pager', 'escalated'],
        ['team-a', 'opened'],
      ],
      [{ ...routes[0]!, escalateTo: 'pager' }, routes[1]!],
    ],
    [
      'a delivery that failed after its retries counts as made: no retry on every evaluation',
      {},
      openedAtT0,
      at(1),
      [],
    ],
  ])('%s', (_what, over, deliveries, now, expected, withRoutes = routes) => {
    const due = notificationsDue(item(over), withRoutes, deliveries, now);
    expect(due.map((d) => [d.receiver, d.message.kind])).toEqual(expected);
  });

  test('a message carries what a person needs: title, state, severity, reason, host, zone and link', () => {
    const [due] = notificationsDue(item({ url: 'https://inbox/item-1' }), routes, [], T0);
    expect(due!.message).toEqual({
      itemId: 'item-1',
      title: 'cmp-a-03 is down',
      state: 'needs-person',
      severity: 'critical',
      reason: 'remediation could not verify the host',
      host: 'cmp-a-03',
      zone: 'zone-a',
      url: 'https://inbox/item-1',
      kind: 'opened',
    });
  });
});

describe('the notifications file', () => {
  const FILE = 'config/notifications.yaml';
  const mail = (smtp: string) =>
    `receivers:\n  - name: m\n    type: email\n    from: a@example.org\n    to: [b@example.org]\n    smtp: ${smtp}\n`;
  test.each<[string, string, string]>([
    ['not YAML', 'receivers: [', `${FILE}: not valid YAML`],
    ['an unknown top-level field', 'reciever: []', `${FILE}: (file): Unrecognized key: "reciever"`],
    [
      'a receiver of an unknown type',
      'receivers: [{ name: x, type: pager }]',
      `${FILE}: receivers.0.type: type must be webhook, slack or email`,
    ],
    [
      'a webhook with both url and urlEnv',
      'receivers: [{ name: x, type: webhook, url: "https://e.org", urlEnv: X }]',
      `${FILE}: receivers.0.url: needs exactly one of url, urlFile or urlEnv`,
    ],
    [
      'a webhook URL that is not http(s)',
      'receivers: [{ name: x, type: webhook, url: "ftp://e.org" }]',
      `${FILE}: receivers.0.url: must be an http or https URL`,
    ],
    [
      'a password written in the file',
      mail('{ host: h, username: u, password: hunter2 }'),
      `${FILE}: receivers.0.smtp.password: secrets are not written in this file: use passwordFile or passwordEnv`,
    ],
    [
      'a username without a password reference',
      mail('{ host: h, username: u }'),
      `${FILE}: receivers.0.smtp.username: a username needs exactly one of passwordFile or passwordEnv`,
    ],
    [
      'a pinned CA and insecureSkipVerify together',
      mail('{ host: h, caFile: ca.pem, insecureSkipVerify: true }'),
      `${FILE}: receivers.0.smtp.insecureSkipVerify: give caFile (pin the CA) or insecureSkipVerify, not both`,
    ],
    [
      'security that is neither starttls nor tls (no plain SMTP)',
      mail('{ host: h, security: none }'),
      `${FILE}: receivers.0.smtp.security: Invalid option: expected one of "starttls"|"tls"`,
    ],
    [
      'a recipient that is not an e-mail address',
      'receivers: [{ name: m, type: email, from: a@example.org, to: [oncall], smtp: { host: h } }]',
      `${FILE}: receivers.0.to.0: must be an e-mail address`,
    ],
    [
      'two receivers with one name',
      'receivers: [{ name: x, type: webhook, url: "https://e.org" }, { name: x, type: slack, urlEnv: S }]',
      `${FILE}: receivers.1.name: x is named twice`,
    ],
    [
      'a route to a receiver that does not exist',
      'routes: [{ receiver: pagr }]',
      `${FILE}: routes.0.receiver: no receiver is named pagr`,
    ],
    [
      'escalateTo without escalateAfterMinutes',
      'receivers: [{ name: x, type: webhook, url: "https://e.org" }]\nroutes: [{ receiver: x, escalateTo: x }]',
      `${FILE}: routes.0.escalateTo: escalateAfterMinutes and escalateTo go together`,
    ],
    [
      'a severity that is not one',
      'receivers: [{ name: x, type: webhook, url: "https://e.org" }]\nroutes: [{ receiver: x, match: { severity: [crit] } }]',
      `${FILE}: routes.0.match.severity.0: Invalid option: expected one of "info"|"warning"|"critical"`,
    ],
    [
      'an unknown match field',
      'receivers: [{ name: x, type: webhook, url: "https://e.org" }]\nroutes: [{ receiver: x, match: { team: [a] } }]',
      `${FILE}: routes.0.match: Unrecognized key: "team"`,
    ],
  ])('%s is refused, naming the file and the field', (_what, text, expected) => {
    expect(() => parseNotificationsFile(FILE, text)).toThrow(expected);
  });

  test('a password written in the file does not appear in the error', () => {
    expect(() => parseNotificationsFile(FILE, mail('{ host: h, username: u, password: hunter2 }'))).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });

  const sources = (env: Record<string, string>, files: Record<string, string> = {}): SecretSources => ({
    env,
    readFile: (path) => {
      if (path in files) return files[path]!;
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    },
  });
  const example = join(__dirname, '../../config/notifications.example.yaml');

  test('the example file reads into receivers with their secrets and routes in milliseconds', () => {
    const settings = loadNotifications(
      example,
      sources(
        { SHIPSHAPE_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x', SHIPSHAPE_SMTP_PASSWORD: 'p2' },
        { '/run/secrets/smtp-password': 'p1\n', '/etc/shipshape/smtp-ca.pem': 'PEM' },
      ),
    );
    expect(settings.receivers.map((r) => [r.name, r.type])).toEqual([
      ['ops-hook', 'webhook'],
      ['ops-slack', 'slack'],
      ['oncall-mail', 'email'],
      ['team-lead-mail', 'email'],
    ]);
    expect(settings.receivers[1]).toEqual({
      type: 'slack',
      name: 'ops-slack',
      url: 'https://hooks.slack.com/services/T0/B0/x',
      timeoutMs: 5000,
    });
    expect(settings.receivers[2]).toMatchObject({
      smtp: {
        host: 'smtp.example.org',
        port: 587,
        security: 'starttls',
        username: 'shipshape',
        password: 'p1',
        ca: 'PEM',
      },
    });
    expect(settings.receivers[3]).toMatchObject({ smtp: { password: 'p2', insecureSkipVerify: false } });
    expect(settings.routes[0]).toEqual({
      match: { severity: ['critical'], state: ['needs-person'] },
      receiver: 'oncall-mail',
      repeatIntervalMs: 60 * MIN,
      escalateAfterMs: 30 * MIN,
      escalateTo: 'team-lead-mail',
      continue: true,
    });
    expect(settings.delivery).toEqual({ attempts: 3, backoffMs: 2000 });
  });

  test('a password variable that is not set is named, with the field', () => {
    expect(() =>
      loadNotifications(
        example,
        sources(
          { SHIPSHAPE_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/x' },
          { '/run/secrets/smtp-password': 'p1', '/etc/shipshape/smtp-ca.pem': 'PEM' },
        ),
      ),
    ).toThrow(`${example}: receivers.3.smtp.passwordEnv: the environment variable SHIPSHAPE_SMTP_PASSWORD is not set`);
  });

  test('a password file that cannot be read is named, with the field', () => {
    expect(() =>
      loadNotifications(example, sources({ SHIPSHAPE_SLACK_WEBHOOK_URL: 'https://h/x', SHIPSHAPE_SMTP_PASSWORD: 'p' })),
    ).toThrow(`${example}: receivers.2.smtp.passwordFile: cannot read /run/secrets/smtp-password (ENOENT)`);
  });

  test('a URL variable that holds no URL is refused without showing what it holds', () => {
    const parsed = parseNotificationsFile(FILE, 'receivers: [{ name: s, type: slack, urlEnv: SLACK_URL }]');
    expect(() => resolveNotifications(FILE, parsed, sources({ SLACK_URL: 'xoxb-secret' }))).toThrow(
      expect.objectContaining({
        message: `${FILE}: receivers.0.url: what SLACK_URL holds is not an http(s) URL`,
      }),
    );
  });

  test('a missing file is named', () => {
    expect(() => loadNotifications('/nonexistent/notifications.yaml')).toThrow(
      '/nonexistent/notifications.yaml: cannot read (ENOENT)',
    );
  });
});

describe('bounded delivery', () => {
  const message: InboxNotification = {
    itemId: 'i',
    title: 't',
    state: 'needs-person',
    severity: 'critical',
    reason: 'r',
    kind: 'opened',
  };
  const failing = (failures: Array<Error | string>): Receiver & { tries: number } => {
    const r = {
      name: 'x',
      type: 'webhook' as const,
      tries: 0,
      async send() {
        const failure = failures[r.tries++];
        if (failure !== undefined) throw failure;
      },
    };
    return r;
  };
  const recordSleeps = () => {
    const waits: number[] = [];
    return { waits, sleep: async (ms: number) => void waits.push(ms) };
  };

  test.each<[string, Array<Error | string>, number, { ok: boolean; attempts: number; lastError?: string }, number[]]>([
    ['delivered at once', [], 3, { ok: true, attempts: 1 }, []],
    [
      'delivered on the third try, after waits of 10 and 20 ms',
      [new Error('a'), new Error('b')],
      3,
      { ok: true, attempts: 3 },
      [10, 20],
    ],
    [
      'given up after the bound, with the last error',
      [new Error('a'), new Error('b'), new Error('c'), new Error('d')],
      3,
      { ok: false, attempts: 3, lastError: 'c' },
      [10, 20],
    ],
    [
      'a permanent failure is not retried',
      [new ReceiverError('refused', true)],
      3,
      { ok: false, attempts: 1, lastError: 'refused' },
      [],
    ],
    ['a thrown non-error is reported, not thrown on', ['boom'], 1, { ok: false, attempts: 1, lastError: 'boom' }, []],
  ])('%s', async (_what, failures, attempts, expected, expectedWaits) => {
    const { waits, sleep } = recordSleeps();
    await expect(deliver(failing(failures), message, { attempts, backoffMs: 10, sleep })).resolves.toEqual(expected);
    expect(waits).toEqual(expectedWaits);
  });
});
