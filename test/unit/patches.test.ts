/** Every workflow patch is in the registry (workflows/patches.ts), and every entry there is still used. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PATCH } from '../../workflows/patches';

const dir = join(__dirname, '../../workflows');
const sources = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'patches.ts')
  .map((f) => ({ f, text: readFileSync(join(dir, f), 'utf8') }));

test('every patched() and deprecatePatch() call names a registry entry, never a string of its own', () => {
  const calls = sources.flatMap(({ f, text }) =>
    [...text.matchAll(/\b(?:patched|deprecatePatch)\(([^)]*)\)/g)].map((m) => `${f}: ${m[1]}`),
  );
  expect(calls.length).toBeGreaterThan(0);
  expect(calls.filter((c) => !/: PATCH\.\w+$/.test(c))).toEqual([]);
});

test('every registry entry is used by a workflow, and no two entries share an ID', () => {
  const used = new Set(sources.flatMap(({ text }) => [...text.matchAll(/PATCH\.(\w+)/g)].map((m) => m[1])));
  expect(Object.keys(PATCH).filter((k) => !used.has(k))).toEqual([]);
  expect(new Set(Object.values(PATCH)).size).toBe(Object.keys(PATCH).length);
});
