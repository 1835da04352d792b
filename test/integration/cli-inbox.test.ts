/**
 * `shipshape inbox` and `shipshape silence`, run as an operator runs them: the
 * built binary (dist/cli/main.js; `npm run build` first) as a child process,
 * against the real API on the dev server and PostgreSQL.
 *
 * Tuned: the inbox engine gets a clock the test moves and no timer (the test
 * ticks it), so an alert no policy matches needs a person once the test moves
 * the clock past the default 5-minute grace time.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN, runCli, runCliJson } from '../support/cli';
import { createTestEnv, type TestEnv } from '../support/env';
import { hostSignal, http, webhookAlert, webhookNotification } from '../support/http';

let env: TestEnv;
let home: string;
let tokens: Record<'operator' | 'viewer', string>;
let clock = Date.now();
const advance = (minutes: number) => (clock += minutes * 60_000);
let item: { id: string; title: string };

beforeAll(async () => {
  if (!existsSync(CLI_MAIN)) throw new Error('dist/cli/main.js is missing: run "npm run build" first');
  home = mkdtempSync(join(tmpdir(), 'shipshape-cli-home-'));
  env = await createTestEnv({
    fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 1 },
    inbox: { now: () => new Date(clock), tickMs: 0 },
  });
  tokens = { operator: await env.token('olivia', 'operator'), viewer: await env.token('victor', 'viewer') };
  // One item that needs a person: an alert no policy matches, past the grace time.
  const sent = await http(
    'POST',
    `${env.apiUrl}/v1/signals`,
    tokens.operator,
    hostSignal('cmp-a-01', 'DiskSmartWarning', { severity: 'warning' }),
  );
  expect(sent.status).toBe(202);
  await env.inbox.tick();
  advance(6);
  await env.inbox.tick();
  const listed = await http('GET', `${env.apiUrl}/v1/inbox`, tokens.operator);
  item = listed.body.items[0];
  expect(item).toMatchObject({ title: 'cmp-a-01: DiskSmartWarning' });
});
afterAll(() => env.close());

const cli = (args: string[], token = tokens.operator) => runCli(args, { home, apiUrl: env.apiUrl, token });
const json = (args: string[], token = tokens.operator) => runCliJson(args, { home, apiUrl: env.apiUrl, token });

describe('inbox', () => {
  test('inbox list prints what needs a person as a table, then what the other states hold; --json is the API’s answer', async () => {
    const table = await cli(['inbox', 'list']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+SEVERITY\s+TITLE\s+HOST\s+OWNER\s+LAST SEEN\s+WHY$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${item.id}\\s+needs-person\\s+warning\\s+cmp-a-01: DiskSmartWarning\\s+cmp-a-01\\s+-\\s+\\S+ \\S+\\s+no policy matches`,
      ),
    );
    expect(table.stdout).toMatch(/^1 needs a person; 0 acknowledged; 0 snoozed; automation is handling 0; /m);

    expect(await json(['inbox', 'list'])).toEqual((await http('GET', `${env.apiUrl}/v1/inbox`, tokens.operator)).body);
    const none = await cli(['inbox', 'list', '--state', 'silenced']);
    expect(none.stdout).toMatch(/^nothing here$/m);
  });

  test('inbox show prints why the item is in its state, its alerts and its history', async () => {
    const shown = await cli(['inbox', 'show', item.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^Item:\\s+${item.id}$`, 'm'));
    expect(shown.stdout).toMatch(/^State:\s+needs-person since /m);
    expect(shown.stdout).toMatch(/^Why:\s+no policy matches and the alert still fires after 5 min$/m);
    expect(shown.stdout).toMatch(/^ALERT\s+RESOURCE\s+STATUS\s+RECEIVED\s+LAST SEEN\s+FLAPPING$/m);
    expect(shown.stdout).toMatch(/^DiskSmartWarning\s+cmp-a-01\s+firing\s+1\s/m);
    expect(shown.stdout).toMatch(/^AT\s+BY\s+HISTORY$/m);
    expect(shown.stdout).toMatch(/automation → needs-person: no policy matches/);
    expect(await json(['inbox', 'show', item.id])).toEqual(
      (await http('GET', `${env.apiUrl}/v1/inbox/${item.id}`, tokens.operator)).body,
    );
  });

  test('inbox ack acknowledges as the token’s subject; a viewer is refused with the role it needs', async () => {
    const refused = await cli(['inbox', 'ack', item.id], tokens.viewer);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^forbidden: victor has role viewer; this needs operator or higher$/m);
    expect(refused.stderr).toMatch(/needs a token with role operator or higher/);

    const acked = await cli(['inbox', 'ack', item.id, '--comment', 'replacing the disk']);
    expect(acked.code).toBe(0);
    expect(acked.stdout).toMatch(new RegExp(`^acknowledge: ${item.id} is now acknowledged: acknowledged by olivia`));
    const audit = await http('GET', `${env.apiUrl}/v1/audit-log?host=cmp-a-01`, tokens.operator);
    expect(audit.body.entries).toContainEqual(
      expect.objectContaining({ action: 'inbox.acknowledge', actor: 'olivia', reason: 'replacing the disk' }),
    );
    const listed = await cli(['inbox', 'list', '--state', 'acknowledged']);
    expect(listed.stdout).toMatch(new RegExp(`^${item.id}\\s+acknowledged\\s+.*\\s+olivia\\s+`, 'm'));

    const again = await cli(['inbox', 'ack', item.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^conflict: .* already acknowledged by olivia/);
  });

  test('inbox snooze without --until, --for or --until-change is a usage error; resolve needs --note', async () => {
    const snooze = await cli(['inbox', 'snooze', item.id]);
    expect(snooze.code).toBe(2);
    expect(snooze.stderr).toMatch(/give --until <time>, --for <duration> or --until-change/);
    const resolve = await cli(['inbox', 'resolve', item.id]);
    expect(resolve.code).toBe(2);
    expect(resolve.stderr).toMatch(/--note/);
  });
});

describe('silence', () => {
  test('silence add silences the matching alert’s item; silence list shows it; expire ends it', async () => {
    const added = await cli([
      'silence',
      'add',
      '--matcher',
      'alertname="FanSpeedLow"',
      '--matcher',
      'host="cmp-a-02"',
      '--for',
      '2h',
      '--comment',
      'fan swap tonight',
    ]);
    expect(added.code).toBe(0);
    const id = /^silence (s-[0-9a-f]+): alertname="FanSpeedLow" host="cmp-a-02" until /m.exec(added.stdout)?.[1];
    expect(id).toBeDefined();

    const res = await http(
      'POST',
      `${env.apiUrl}/v1/integrations/alertmanager`,
      tokens.operator,
      webhookNotification([webhookAlert({ alertname: 'FanSpeedLow', host: 'cmp-a-02', severity: 'warning' })]),
    );
    expect(res.status).toBe(200);
    await env.inbox.tick();
    const silenced = await json(['inbox', 'list', '--state', 'silenced']);
    expect(silenced.items).toEqual([
      expect.objectContaining({ title: 'cmp-a-02: FanSpeedLow', state: 'silenced', silenceId: id }),
    ]);

    const listed = await cli(['silence', 'list']);
    expect(listed.stdout).toMatch(/^ID\s+MATCHERS\s+STARTS\s+ENDS\s+BY\s+SILENCING\s+STATUS\s+COMMENT$/m);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^${id}\\s+alertname="FanSpeedLow" host="cmp-a-02"\\s+.*\\s+olivia\\s+1\\s+active\\s+fan swap tonight$`,
        'm',
      ),
    );

    const expired = await cli(['silence', 'expire', id!, '--comment', 'swap done']);
    expect(expired.code).toBe(0);
    expect(expired.stdout).toMatch(new RegExp(`^silence ${id} ended at `));
    expect((await cli(['silence', 'list'])).stdout).toMatch(/^no silences$/m);
    expect((await cli(['silence', 'list', '--all'])).stdout).toMatch(
      new RegExp(`^${id}\\s.*ended .*\\(olivia\\)`, 'm'),
    );
  });

  test('a malformed matcher is refused by the API naming the matcher; no end is a usage error', async () => {
    const bad = await cli(['silence', 'add', '--matcher', 'rack=r7', '--for', '1h', '--comment', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^validation_failed: body\.matchers\.0: /m);
    const noEnd = await cli(['silence', 'add', '--matcher', 'rack="r7"', '--comment', 'x']);
    expect(noEnd.code).toBe(2);
    expect(noEnd.stderr).toMatch(/give --for <duration> or --until <time>/);
  });
});
