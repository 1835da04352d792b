/** Each activity is taken from exactly one timeout profile (samples-typescript `saga`), so it cannot be called with the wrong timeouts. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILE_ACTIVITIES } from '../../workflows/activity-profiles';

test('no activity is in two profiles', () => {
  const all = Object.values(PROFILE_ACTIVITIES).flat();
  expect(all.filter((name, i) => all.indexOf(name) !== i)).toEqual([]);
});

test('every proxy in the workflows is typed by one profile, never by the whole set of activities', () => {
  const dir = join(__dirname, '../../workflows');
  const proxies = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) =>
      [...readFileSync(join(dir, f), 'utf8').matchAll(/proxyActivities<([^>]*>?)>/g)].map((m) => `${f}: ${m[1]}`),
    );
  expect(proxies.length).toBeGreaterThanOrEqual(8);
  expect(proxies.filter((p) => !/: ProfileActivities<'\w+'>$/.test(p))).toEqual([]);
});
