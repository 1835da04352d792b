/** Where the command-line tool finds the API URL and token, and how it shows a cell: one row per case. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cell } from '../../cli/output';
import { resolveApiConfig, type ConfigFlags } from '../../cli/settings';

const home = mkdtempSync(join(tmpdir(), 'shipshape-cli-unit-'));
const file = (name: string, text: string) => {
  const path = join(home, name);
  writeFileSync(path, text);
  return path;
};
const tokenFile = file('token', 'from-token-file\n');
const fullConfig = file('full.yaml', 'url: http://from-config:8080/\ntoken: from-config\n');
const tokenFileConfig = file('indirect.yaml', 'url: http://from-config:8080\ntokenFile: token\n');
const unknownField = file('unknown.yaml', 'url: http://x\npassword: nope\n');
const both = file('both.yaml', 'url: http://x\ntoken: a\ntokenFile: token\n');
const emptyToken = file('empty-token', '  \n');

type Row = [string, ConfigFlags, NodeJS.ProcessEnv, { url: string; token: string } | RegExp];
const cases: Row[] = [
  [
    'the environment alone is enough',
    {},
    { SHIPSHAPE_URL: 'http://env:1', SHIPSHAPE_TOKEN: 'env' },
    { url: 'http://env:1', token: 'env' },
  ],
  [
    '--url and --token-file win over the environment',
    { url: 'http://flag:2', tokenFile },
    { SHIPSHAPE_URL: 'http://env:1', SHIPSHAPE_TOKEN: 'env' },
    { url: 'http://flag:2', token: 'from-token-file' },
  ],
  [
    'the environment wins over the config file',
    { config: fullConfig },
    { SHIPSHAPE_TOKEN: 'env' },
    { url: 'http://from-config:8080', token: 'env' },
  ],
  [
    'the config file fills what the environment leaves out; a trailing slash is dropped',
    { config: fullConfig },
    {},
    { url: 'http://from-config:8080', token: 'from-config' },
  ],
  [
    'tokenFile in the config file is read relative to the file',
    { config: tokenFileConfig },
    {},
    { url: 'http://from-config:8080', token: 'from-token-file' },
  ],
  [
    'without --config, the config file looked for is the one under XDG_CONFIG_HOME',
    {},
    { XDG_CONFIG_HOME: join(home, 'xdg') },
    /no API URL: set SHIPSHAPE_URL, pass --url, or set url in .*xdg\/shipshape\/config\.yaml/,
  ],
  ['no URL anywhere names SHIPSHAPE_URL', {}, { SHIPSHAPE_TOKEN: 'env' }, /^no API URL: set SHIPSHAPE_URL/],
  [
    'no token anywhere names SHIPSHAPE_TOKEN',
    {},
    { SHIPSHAPE_URL: 'http://env:1' },
    /^no API token: set SHIPSHAPE_TOKEN, pass --token-file, or set token or tokenFile in /,
  ],
  [
    'a URL that is not http(s) names where it came from',
    {},
    { SHIPSHAPE_URL: 'ftp://x', SHIPSHAPE_TOKEN: 'env' },
    /^SHIPSHAPE_URL: "ftp:\/\/x" must start with http/,
  ],
  [
    'a --config file that does not exist is named',
    { config: join(home, 'nope.yaml') },
    {},
    /^--config .*nope\.yaml: no such file$/,
  ],
  [
    'an unknown field in the config file is named',
    { config: unknownField },
    {},
    /unknown\.yaml: \(file\): unknown field\(s\): password \(fields: url, token, tokenFile\)$/,
  ],
  ['token and tokenFile together are refused', { config: both }, {}, /token, tokenFile: give one of them, not both/],
  [
    'an empty token file is refused, naming it',
    { url: 'http://flag:2', tokenFile: emptyToken },
    {},
    /^--token-file .*empty-token: is empty$/,
  ],
];

test.each(cases)('%s', (_what, flags, env, expected) => {
  const run = () => resolveApiConfig(flags, env, home);
  if (expected instanceof RegExp) expect(run).toThrow(expected);
  else expect(run()).toEqual(expected);
});

test.each([
  ['nothing is a dash', null, '-'],
  ['an empty list is a dash', [], '-'],
  ['a list is comma-separated', ['compute', 'storage'], 'compute,storage'],
  ['an ISO time is UTC to the second', '2026-11-28T12:30:03.482Z', '2026-11-28 12:30:03'],
  ['a line break is a space, so a row stays one line', 'one\n  two', 'one two'],
  ['a number is itself', 0, '0'],
])('cell: %s', (_what, value, shown) => {
  expect(cell(value)).toBe(shown);
});
