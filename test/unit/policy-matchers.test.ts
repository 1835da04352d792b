/** Label matchers read and tested as Alertmanager does: RE2, whole-value, linear time. */
import { RE2JS } from 're2js';
import { matchPolicy } from '../../domain/policy-match';
import { parsePolicy } from '../../policies/loader';

const policyWith = (matcher: string) =>
  `name: p\nmatch:\n  signals: [S]\n  labels: ['${matcher}']\nsteps:\n  - action: power-cycle\n`;
const matches = (matcher: string, labels: Record<string, string>) => {
  const p = parsePolicy('p.yaml', policyWith(matcher));
  return matchPolicy([p], { name: 'S', labels, severity: 'critical', host: { zone: 'z', roles: [] } }) !== null;
};

describe('regular expressions are RE2, anchored to the whole value, as in Alertmanager', () => {
  const cases: [string, string, Record<string, string>, boolean][] = [
    ['a pattern matches the whole value', 'instance=~"cmp-.*"', { instance: 'cmp-a-01:9100' }, true],
    ['a prefix is not a match', 'instance=~"cmp"', { instance: 'cmp-a-01' }, false],
    ['an alternative must cover the whole value', 'instance=~"a|ab"', { instance: 'ab' }, true],
    ['. does not match a newline', 'msg=~"a.b"', { msg: 'a\nb' }, false],
    ['$ does not match before a trailing newline', 'msg=~"a"', { msg: 'a\n' }, false],
    ['a missing label is the empty string', 'team=~".*"', {}, true],
    ['!~ holds when the pattern does not match', 'job!~"test.*"', { job: 'node' }, true],
    ['RE2 classes work', 'instance=~"[[:alpha:]]+-\\\\d+"', { instance: 'cmp-42' }, true],
  ];
  test.each(cases)('%s (%s against %o: %s)', (_what, matcher, labels, expected) => {
    expect(matches(matcher, labels)).toBe(expected);
  });

  test.each([
    [
      'a backreference',
      'instance=~"(a)\\\\1"',
      /p\.yaml:4:\d+: match\.labels\.0: label "instance": "\(a\)\\1" is not an RE2 regular expression.*invalid escape sequence/,
    ],
    ['a lookahead', 'instance=~"(?=a)a"', /label "instance": "\(\?=a\)a" is not an RE2 regular expression.*\(\?=/],
    ['a lookbehind', 'instance=~"(?<=a)b"', /label "instance": .* is not an RE2 regular expression/],
    [
      'an unbalanced parenthesis that would escape the anchors',
      'instance=~"a)|(b"',
      /label "instance": "a\)\|\(b" is not an RE2/,
    ],
  ])('%s is refused when the policy is read, naming the file, the matcher and the reason', (_what, matcher, reason) => {
    expect(() => parsePolicy('p.yaml', policyWith(matcher))).toThrow(reason);
  });

  test('(a+)+ against "aaa…ab" answers in linear time, from 20 to 27 characters and at 10,000', () => {
    const started = Date.now();
    for (let n = 20; n <= 27; n++) expect(matches('instance=~"(a+)+"', { instance: `${'a'.repeat(n)}b` })).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000); // a backtracking engine doubles per character: seconds here
    const long = Date.now();
    expect(matches('instance=~"(a+)+"', { instance: `${'a'.repeat(10_000)}b` })).toBe(false);
    expect(matches('instance=~"(a+)+"', { instance: 'a'.repeat(10_000) })).toBe(true);
    expect(Date.now() - long).toBeLessThan(1000);
  });

  test('a pattern is compiled once, when the policy is read, not for each signal', () => {
    const p = parsePolicy('p.yaml', policyWith('instance=~"cmp-(a|b)-\\\\d+"'));
    const compile = jest.spyOn(RE2JS, 'compile');
    try {
      for (let i = 0; i < 1000; i++)
        matchPolicy([p], {
          name: 'S',
          labels: { instance: `cmp-a-${i}` },
          severity: 'critical',
          host: { zone: 'z', roles: [] },
        });
      expect(compile).not.toHaveBeenCalled();
    } finally {
      compile.mockRestore();
    }
  });
});
