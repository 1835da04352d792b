/**
 * Reclaim rule files (policies/reclaim-loader.ts): the shipped rules load in
 * dry run, durations carry a unit, and a bad file is refused naming the line,
 * column and field — every issue at once where the file parses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadReclaimRules, parseReclaimFolder, parseReclaimRule } from '../../policies/reclaim-loader';
import { RECLAIM_SCHEMA_PATH, renderReclaimSchema } from '../../scripts/policy-schema';

const DAY = 86_400_000;
const rule = (over: string) =>
  `name: idle-ports
version: '1'
description: ports without a device
check:
  type: port-unbound
  olderThan: 14d
lifecycle:
  action: delete
  grace: 7d
  restoreWindow: 1d
${over}`;

test('the shipped rules load, every one in dry run, with their durations read in days', () => {
  const rules = loadReclaimRules(join(__dirname, '..', '..', 'policies', 'reclaim'));
  expect(rules.map((r) => [r.name, r.dryRun])).toEqual([
    ['detached-volumes', true],
    ['stopped-servers', true],
    ['unassociated-floating-ips', true],
  ]);
  const stopped = rules.find((r) => r.name === 'stopped-servers')!;
  expect(stopped.check).toEqual({
    type: 'server-stopped',
    states: ['SHUTOFF', 'SUSPENDED', 'PAUSED'],
    olderThanMs: 30 * DAY,
  });
  expect(stopped.lifecycle).toMatchObject({ action: 'shelve', graceMs: 14 * DAY, remindBeforeMs: [7 * DAY, DAY] });
  expect(stopped.version).toMatch(/^1\+[0-9a-f]{12}$/);
});

test('a rule acts only when it says dryRun: false; durations may be minutes (for a lab)', () => {
  const r = parseReclaimRule('r.yaml', rule('dryRun: false\n'));
  expect(r.dryRun).toBe(false);
  expect(parseReclaimRule('r.yaml', rule('').replace('grace: 7d', 'grace: 10m')).lifecycle.graceMs).toBe(600_000);
});

test('a duration without a unit is refused, naming the field and what to write', () => {
  expect(() => parseReclaimRule('r.yaml', rule('').replace('olderThan: 14d', 'olderThan: 14'))).toThrow(
    'r.yaml:6:14: check.olderThan: 14 has no unit: write 14d, 14h or 14m (days, hours, minutes)',
  );
  expect(() => parseReclaimRule('r.yaml', rule('').replace('grace: 7d', 'grace: 7 days'))).toThrow(
    /r.yaml:9:10: lifecycle.grace: "7 days" must be a whole number with a unit/,
  );
});

test('an action the resource does not allow, a reminder before the notice and a grace under a minute are refused', () => {
  const bad = rule('')
    .replace('action: delete', 'action: shelve')
    .replace('grace: 7d', 'grace: 2d\n  remindBefore: [3d]');
  expect(() => parseReclaimRule('r.yaml', bad)).toThrow(
    /lifecycle.action: a port-unbound rule acts on ports, which allow delete, notify-only[\s\S]*lifecycle.remindBefore.0: must be shorter than the grace period/,
  );
  expect(() => parseReclaimRule('r.yaml', rule('').replace('grace: 7d', 'grace: 0m'))).toThrow(
    /lifecycle.grace: must be at least 1 minutes/,
  );
});

test('two files with one rule name are refused: a resource is reclaimed per rule', () => {
  expect(() =>
    parseReclaimFolder(
      new Map([
        ['a.yaml', rule('')],
        ['b.yaml', rule('')],
      ]),
    ),
  ).toThrow('b.yaml:1:1: name: "idle-ports" is already used by a.yaml');
});

test('the published JSON Schema is the one the rule schema produces (npm run build writes it)', () => {
  expect(readFileSync(RECLAIM_SCHEMA_PATH, 'utf8')).toBe(renderReclaimSchema());
});
