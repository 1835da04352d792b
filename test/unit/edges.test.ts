/** Input at the edges: configuration, policy files, and alert labels. Table-driven, no services. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POLICY_SCHEMA_PATH, renderPolicySchema } from '../../scripts/policy-schema';
import { fingerprintOf, hostFromLabels, severityFromLabel } from '../../api/normalize';
import { loadConfig } from '../../config';
import { loadPolicies, parsePolicy } from '../../policies/loader';

describe('configuration', () => {
  const base = { DATABASE_URL: 'postgres://u@localhost:5432/db' };
  test('defaults fill everything but the database', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      TEMPORAL_ADDRESS: 'localhost:7233',
      TEMPORAL_NAMESPACE: 'default',
      SHIPSHAPE_PROVIDER: 'simulated',
      SHIPSHAPE_API_PORT: 8080,
      SHIPSHAPE_ALERTMANAGER_HOST_LABEL: 'host',
    });
  });
  const bad: [string, Record<string, string | undefined>, RegExp][] = [
    ['a missing DATABASE_URL', {}, /DATABASE_URL: is required/],
    ['a DATABASE_URL that is not postgres', { DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a postgres:\/\/ URL/],
    [
      'a TEMPORAL_ADDRESS without a port',
      { ...base, TEMPORAL_ADDRESS: 'temporal' },
      /TEMPORAL_ADDRESS: must be host:port/,
    ],
    [
      'a TLS certificate without its key',
      { ...base, TEMPORAL_TLS_CERT_PATH: '/c.pem' },
      /TEMPORAL_TLS_CERT_PATH: .*set together/,
    ],
    ['an unknown provider', { ...base, SHIPSHAPE_PROVIDER: 'vmware' }, /SHIPSHAPE_PROVIDER/],
    ['a port out of range', { ...base, SHIPSHAPE_API_PORT: '70000' }, /SHIPSHAPE_API_PORT/],
    [
      'a short dev token',
      { ...base, SHIPSHAPE_DEV_TOKEN: 'abc' },
      /SHIPSHAPE_DEV_TOKEN: must be at least 20 characters/,
    ],
    [
      'a dev token outside the demo',
      { ...base, SHIPSHAPE_DEV_TOKEN: 'shipshape-demo-admin-token' },
      /SHIPSHAPE_DEV_TOKEN: only the demo has a dev token \(SHIPSHAPE_DEMO=true\)/,
    ],
    ['a boolean that is not one', { ...base, TEMPORAL_TLS: 'maybe' }, /TEMPORAL_TLS/],
    [
      'a public URL that is not http(s)',
      { ...base, SHIPSHAPE_PUBLIC_URL: 'ftp://shipshape.example.org' },
      /SHIPSHAPE_PUBLIC_URL: must be an http or https URL/,
    ],
    ['an empty notifications file name', { ...base, SHIPSHAPE_NOTIFICATIONS_FILE: '' }, /SHIPSHAPE_NOTIFICATIONS_FILE/],
  ];
  test('the public URL loses its trailing slash, so links are `<url>/v1/inbox/<id>`', () => {
    expect(loadConfig({ ...base, SHIPSHAPE_PUBLIC_URL: 'https://shipshape.example.org/' }).SHIPSHAPE_PUBLIC_URL).toBe(
      'https://shipshape.example.org',
    );
  });
  test.each(bad)('%s stops start-up with a message naming the variable', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('policy files', () => {
  const good = 'name: host-down\nmatch:\n  signals: [HostDown]\nsteps:\n  - action: power-cycle\n';
  test('a minimal file gets safe defaults and a content-hash version', () => {
    const p = parsePolicy('host-down.yaml', good);
    expect(p.policy).toMatchObject({
      name: 'host-down',
      approval: { required: false, timeoutSeconds: 1800, rule: { mode: 'never', onTimeout: 'escalate' } },
      confirm: ['host-health', 'power', 'compute-service'],
      ladder: [{ action: 'power-cycle' }],
      verify: { attempts: 6, intervalSeconds: 10 },
    });
    expect(p.policy.version).toMatch(/^[0-9a-f]{12}$/);
    expect(parsePolicy('host-down.yaml', `${good}\n`).policy.version).not.toBe(p.policy.version);
  });
  const bad: [string, string, RegExp][] = [
    ['YAML that does not parse', 'name: [unclosed\n', /^x\.yaml:\d+:\d+: \(yaml\): /],
    [
      'a step not in the catalog, at its line and column',
      good.replace('power-cycle', 'reinstall-os'),
      /^x\.yaml:5:13: steps\.0\.action: /,
    ],
    ['an unknown field', `${good}colour: red\n`, /^x\.yaml:1:1: \(file\): Unrecognized key: "colour"/],
    ['a bad name', good.replace('host-down', 'Host Down'), /^x\.yaml:1:7: name: must be lower-case/],
    ['no signals', good.replace('[HostDown]', '[]'), /^x\.yaml:3:12: match\.signals: must name at least one signal/],
    [
      'a malformed label matcher',
      good.replace('  signals: [HostDown]', '  signals: [HostDown]\n  labels: [env=prod]'),
      /^x\.yaml:4:12: match\.labels\.0: must be a matcher like/,
    ],
    [
      'a wait step without seconds',
      `${good}  - action: wait\n`,
      /^x\.yaml:6:5: steps\.1\.seconds: a wait step needs seconds/,
    ],
    [
      'a notify step without a message',
      good.replace('power-cycle', 'notify'),
      /steps\.0\.message: a notify step needs a message/,
    ],
    [
      'approval "when" without a condition',
      `${good}approval:\n  mode: when\n`,
      /^x\.yaml:7:3: approval\.when: mode "when" needs a when: condition/,
    ],
  ];
  test.each(bad)('%s is refused with the file, line, column and field', (_name, text, message) => {
    expect(() => parsePolicy('x.yaml', text)).toThrow(message);
  });
  test('the shipped policies load', () => {
    const names = loadPolicies(join(__dirname, '..', '..', 'policies')).map((p) => p.name);
    expect(names).toEqual([
      'compliance-drift',
      'compliance-drift-disruptive',
      'hardware-degraded',
      'hardware-fault',
      'host-down',
      'inlet-temperature',
    ]);
  });
  test('the published JSON Schema is the one the policy schema produces (npm run build writes it)', () => {
    expect(readFileSync(POLICY_SCHEMA_PATH, 'utf8')).toBe(renderPolicySchema());
  });
});

describe('alert labels', () => {
  const hosts: [Record<string, string>, string | null][] = [
    [{ host: 'cmp-1', instance: 'other:9100' }, 'cmp-1'],
    [{ instance: 'cmp-2:9100' }, 'cmp-2'],
    [{ instance: 'cmp-3' }, 'cmp-3'],
    [{ instance: '10.0.0.7:9100' }, '10.0.0.7'],
    [{ instance: '[fd00::7]:9100' }, 'fd00::7'],
    [{ job: 'node' }, null],
  ];
  test.each(hosts)('labels %o name host %s', (labels, expected) => {
    expect(hostFromLabels(labels, 'host')).toBe(expected);
  });
  const severities: [string | undefined, string][] = [
    ['critical', 'critical'],
    ['page', 'critical'],
    ['ERROR', 'critical'],
    ['warning', 'warning'],
    ['info', 'info'],
    [undefined, 'warning'],
    ['weird', 'warning'],
  ];
  test.each(severities)('severity label %s is %s', (label, expected) => {
    expect(severityFromLabel(label)).toBe(expected);
  });
  test('a fingerprint ignores label order and changes with the host', () => {
    const a = fingerprintOf('am', 'HostDown', 'h1', { a: '1', b: '2' });
    expect(fingerprintOf('am', 'HostDown', 'h1', { b: '2', a: '1' })).toBe(a);
    expect(fingerprintOf('am', 'HostDown', 'h2', { a: '1', b: '2' })).not.toBe(a);
  });
});

describe('the policies guide', () => {
  const guide = readFileSync(join(__dirname, '..', '..', 'docs', 'policies.md'), 'utf8');
  const examples = [...guide.matchAll(/### \d\. (.+)\n[\s\S]*?```yaml\n([\s\S]*?)```/g)].map(
    (m) => [m[1]!, m[2]!] as const,
  );
  test('has three worked examples', () => {
    expect(examples.map(([title]) => title)).toEqual([
      'A compute host is down',
      'Inlet temperature warning',
      'Correctable ECC errors rising',
    ]);
  });
  test.each(examples)('the example "%s" is a valid policy', (_title, yaml) => {
    expect(() => parsePolicy('example.yaml', yaml)).not.toThrow();
  });
});
