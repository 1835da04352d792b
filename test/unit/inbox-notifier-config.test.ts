/** SHIPSHAPE_NOTIFICATIONS_FILE at start-up: unset means nobody is notified; a bad file stops the start naming the file and field. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../config/logger';
import type { Pool } from 'pg';
import { notificationSettingsFor, startConfiguredInboxNotifier } from '../../workers/inbox-notifications';

describe('the notifications file named by SHIPSHAPE_NOTIFICATIONS_FILE', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shipshape-notify-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('unset: no receivers and no routes', () => {
    expect(notificationSettingsFor({})).toMatchObject({ receivers: [], routes: [] });
  });

  test('a route naming a receiver that does not exist stops the start, naming the file and the field', () => {
    const file = join(dir, 'bad-route.yaml');
    writeFileSync(
      file,
      [
        'receivers:',
        '  - name: ops-hook',
        '    type: webhook',
        '    url: https://hooks.example.org/x',
        'routes:',
        '  - receiver: oncall',
      ].join('\n'),
    );
    const start = () =>
      startConfiguredInboxNotifier(
        { SHIPSHAPE_NOTIFICATIONS_FILE: file },
        { db: {} as Pool, logger: createLogger('silent', 'test'), tickMs: 0 },
      );
    expect(start).toThrow(`${file}: routes.0.receiver: no receiver is named oncall`);
  });

  test('a file that is not there stops the start, naming it', () => {
    const file = join(dir, 'missing.yaml');
    expect(() => notificationSettingsFor({ SHIPSHAPE_NOTIFICATIONS_FILE: file })).toThrow(
      `${file}: cannot read (ENOENT)`,
    );
  });

  test('a good file gives its receivers and routes', () => {
    const file = join(dir, 'good.yaml');
    writeFileSync(
      file,
      [
        'receivers:',
        '  - name: ops-hook',
        '    type: webhook',
        '    url: https://hooks.example.org/x',
        'routes:',
        '  - match: { state: [needs-person] }',
        '    receiver: ops-hook',
        '    repeatIntervalMinutes: 30',
      ].join('\n'),
    );
    const settings = notificationSettingsFor({ SHIPSHAPE_NOTIFICATIONS_FILE: file });
    expect(settings.receivers.map((r) => r.name)).toEqual(['ops-hook']);
    expect(settings.routes).toEqual([
      { match: { state: ['needs-person'] }, receiver: 'ops-hook', continue: false, repeatIntervalMs: 30 * 60_000 },
    ]);
  });
});
