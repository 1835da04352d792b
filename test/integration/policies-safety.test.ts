/**
 * Policy changes and simulate that an operator or a second API process cannot
 * turn against the service: regular expressions match in linear time (RE2)
 * within caps, simulate answers within a bound, and changes to the policy
 * folder neither clobber the guards file, nor lose one another, nor
 * duplicate a policy that lives in a file of another name.
 */
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withPolicyFolderLock } from '../../db/policy-versions';
import { parseGuards } from '../../policies/guards-schema';
import { loadPolicies } from '../../policies/loader';
import { createTestEnv, type TestEnv } from '../support/env';
import { hostSignal, http } from '../support/http';

const policy = (name: string, signal: string, extra = '') =>
  `name: ${name}\nmatch:\n  signals: [${signal}]\n${extra}steps:\n  - action: power-cycle\n`;
const OTHER = policy('lives-elsewhere', 'Elsewhere');

let env: TestEnv;
let dir: string;
let admin: string;
let operator: string;
let guardsText: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shipshape-policy-safety-'));
  chmodSync(dir, 0o755);
  copyFileSync(join(__dirname, '..', '..', 'policies', 'guards.yaml'), join(dir, 'guards.yaml'));
  guardsText = readFileSync(join(dir, 'guards.yaml'), 'utf8');
  writeFileSync(join(dir, 'stuck.yaml'), policy('stuck', 'ComputeServiceStuck'));
  writeFileSync(join(dir, 'other.yaml'), OTHER);
  env = await createTestEnv({ policyDir: dir, fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 1 } });
  admin = await env.token('ada', 'admin');
  operator = await env.token('ops-bot', 'operator');
});
afterAll(() => env.close());

const put = (name: string, content: string) =>
  http('PUT', `${env.apiUrl}/v1/policies/${encodeURIComponent(name)}`, admin, { content });
const names = async () =>
  (await http('GET', `${env.apiUrl}/v1/policies`, operator)).body.policies.map((p: { name: string }) => p.name).sort();
const simulate = (body: unknown) => http('POST', `${env.apiUrl}/v1/policies/simulate`, operator, body);
/** The next start reads the same folder: it must still load, policies and guards alike. */
const folderStillLoads = () => {
  expect(() => loadPolicies(dir)).not.toThrow();
  expect(() => parseGuards('guards.yaml', readFileSync(join(dir, 'guards.yaml'), 'utf8'))).not.toThrow();
};

describe('regular expressions in label matchers (simulate as an operator)', () => {
  const REDOS = policy('redos', 'Redos', '  labels: [\'instance=~"(a+)+"\']\n');
  const redosSignal = (value: string) => ({ ...hostSignal('cmp-a-01', 'Redos'), labels: { instance: value } });

  test('a draft with (a+)+ against "aaa…ab" labels answers correctly in well under a second', async () => {
    // 26 characters take a backtracking engine about a second per signal; RE2 takes microseconds.
    const small = [...Array.from({ length: 6 }, () => redosSignal(`${'a'.repeat(26)}b`)), redosSignal('a'.repeat(26))];
    let started = Date.now();
    const first = await simulate({ drafts: [REDOS], signals: small });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(first.status).toBe(200);
    expect(first.body.summary).toMatchObject({ signals: 7, noPolicy: 6, wouldStart: 1 });

    // Hundreds of signals with 1,000-character values (what the request size allows), alternately matching.
    const many = Array.from({ length: 500 }, (_, i) => redosSignal(`${'a'.repeat(1000)}${i % 2 ? 'b' : ''}`));
    started = Date.now();
    const second = await simulate({ drafts: [REDOS], signals: many });
    const tookMs = Date.now() - started;
    expect(second.status).toBe(200);
    expect(second.body.summary).toMatchObject({ signals: 500, noPolicy: 250, wouldStart: 1, wouldJoin: 249 });
    expect(tookMs).toBeLessThan(1000);
  });

  test.each([
    [
      'a backreference',
      '(a)\\\\1',
      /label "instance": "\(a\)\\1" is not an RE2 regular expression.*invalid escape sequence/,
    ],
    ['a lookahead', '(?=a)a', /label "instance": .*not an RE2 regular expression.*\(\?=/],
    [
      'a pattern over 1,000 characters',
      'a'.repeat(1001),
      /label "instance": the pattern is 1001 characters long; at most 1000/,
    ],
    [
      'a pattern that expands past 1,000 instructions',
      '(a{1,100}){1,9}',
      /label "instance": the pattern compiles to \d+ RE2 instructions; at most 1000/,
    ],
  ])(
    '%s is refused by PUT, validate and simulate, naming the file, the matcher and the reason',
    async (_what, pattern, reason) => {
      const text = policy('stuck', 'ComputeServiceStuck', `  labels: ['instance=~"${pattern}"']\n`);
      const before = readFileSync(join(dir, 'stuck.yaml'), 'utf8');
      const applied = await put('stuck', text);
      expect(applied.status).toBe(400);
      expect(applied.body.error.details.issues).toEqual([
        expect.objectContaining({
          file: 'stuck.yaml',
          field: 'match.labels.0',
          message: expect.stringMatching(reason),
        }),
      ]);
      expect(readFileSync(join(dir, 'stuck.yaml'), 'utf8')).toBe(before);
      const validated = await http('POST', `${env.apiUrl}/v1/policies/validate`, operator, { content: text });
      expect(validated.status).toBe(400);
      expect(validated.body.error.message).toMatch(/^draft\.yaml:4:\d+: match\.labels\.0: label "instance": /);
      const simulated = await simulate({ drafts: [text], signals: [hostSignal('cmp-a-01', 'ComputeServiceStuck')] });
      expect(simulated.status).toBe(400);
      expect(simulated.body.error.message).toMatch(/^drafts\.0\.yaml:4:\d+: match\.labels\.0: label "instance": /);
    },
  );

  test.each([
    ['a label value over 1,024 characters', { team: 'x'.repeat(1025) }, 'body.signals.0.labels.team'],
    ['a label name over 128 characters', { ['l'.repeat(129)]: 'x' }, `body.signals.0.labels.${'l'.repeat(129)}`],
    [
      'more than 64 labels',
      Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'x'])),
      'body.signals.0.labels',
    ],
  ])('simulate refuses %s with a 400 naming the field', async (_what, labels, field) => {
    const res = await simulate({ signals: [{ ...hostSignal('cmp-a-01'), labels }] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toEqual([expect.objectContaining({ field })]);
  });

  test('simulate refuses drafts with more than 100 regular-expression matchers in all, naming the draft', async () => {
    const labels = Array.from({ length: 30 }, (_, i) => `'l${i}=~"x.*"'`).join(', ');
    const draft = (i: number) => policy(`d${i}`, 'X', `  labels: [${labels}]\n`);
    const res = await simulate({ drafts: [0, 1, 2, 3].map(draft), signals: [] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toEqual([
      { field: 'body.drafts.3', reason: 'the drafts have more than 100 regular-expression matchers (=~, !~) in all' },
    ]);
  });

  test('a simulate that would match for longer than its time limit stops there with a 422', async () => {
    // (a|b)*a(a|b){300} defeats RE2's DFA: each 1 KiB value costs tens of milliseconds, linear but slow.
    const slow = policy('slow', 'Slow', `  labels: ['instance=~"(a|b)*a(a|b){300}"']\n`);
    let seed = 7;
    const bit = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 16) & 1;
    const value = () => Array.from({ length: 1024 }, () => (bit() ? 'a' : 'b')).join('');
    const signals = Array.from({ length: 500 }, () => ({
      ...hostSignal('cmp-a-01', 'Slow'),
      labels: { instance: value() },
    }));
    const started = Date.now();
    const res = await simulate({ drafts: [slow], signals });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'simulate_too_large',
      details: { field: 'signals', timeLimitMs: 2000 },
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('changes to the policy folder', () => {
  test.each([
    ['guards', 'the guards file'],
    ['Guards', 'not a safe file stem'],
    ['-x', 'not a safe file stem'],
    ['a'.repeat(101), 'too long'],
  ])(
    'PUT /v1/policies/%s is refused (%s) with a 400 naming the name, and the guards file is untouched',
    async (name) => {
      const res = await put(name, policy(name, 'HostDown'));
      expect(res.status).toBe(400);
      expect(res.body.error.details.fields).toEqual([expect.objectContaining({ field: 'params.name' })]);
      expect(readFileSync(join(dir, 'guards.yaml'), 'utf8')).toBe(guardsText);
      folderStillLoads();
    },
  );

  test('concurrent PUTs of different policies all survive, in the folder and in force', async () => {
    const created = Array.from({ length: 8 }, (_, i) => `concurrent-${i}`);
    const results = await Promise.all(created.map((n) => put(n, policy(n, `Signal${n.replace('-', '')}`))));
    expect(results.map((r) => r.status)).toEqual(created.map(() => 200));
    expect(await names()).toEqual(expect.arrayContaining(created));
    expect(loadPolicies(dir).map((p) => p.name)).toEqual(expect.arrayContaining(created));
    folderStillLoads();
  });

  test('a PUT of a policy that lives in another file updates that file and creates no <name>.yaml', async () => {
    const changed = policy('lives-elsewhere', 'Elsewhere', '  severity: [critical]\n');
    const res = await put('lives-elsewhere', changed);
    expect(res.status).toBe(200);
    expect(res.body.file).toBe('other.yaml');
    expect(readFileSync(join(dir, 'other.yaml'), 'utf8')).toBe(changed);
    expect(existsSync(join(dir, 'lives-elsewhere.yaml'))).toBe(false);
    expect(loadPolicies(dir).filter((p) => p.name === 'lives-elsewhere')).toHaveLength(1);
    folderStillLoads();
  });

  test('a new policy whose <name>.yaml holds another policy is refused with a 409, and that file is untouched', async () => {
    writeFileSync(join(dir, 'taken.yaml'), policy('squatter', 'Squat'));
    const res = await put('taken', policy('taken', 'Taken'));
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe('taken.yaml holds policy "squatter"; "taken" cannot be written there');
    expect(readFileSync(join(dir, 'taken.yaml'), 'utf8')).toBe(policy('squatter', 'Squat'));
    folderStillLoads();
  });

  test('a change made meanwhile by another API process (under the folder lock) is kept by the next PUT', async () => {
    let putDone = false;
    let pending: Promise<unknown> = Promise.resolve();
    await withPolicyFolderLock(env.db, async () => {
      pending = put('after-the-other', policy('after-the-other', 'After')).then((r) => {
        putDone = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(putDone).toBe(false); // it waits for the other process's change
      writeFileSync(join(dir, 'from-the-other.yaml'), policy('from-the-other', 'Other'));
    });
    expect(((await pending) as { status: number }).status).toBe(200);
    expect(await names()).toEqual(expect.arrayContaining(['after-the-other', 'from-the-other']));
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    folderStillLoads();
  });
});
