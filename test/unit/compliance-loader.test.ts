/** Compliance profiles as files: the shipped ones load; a bad file is refused at its line and column, naming the field. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPLIANCE_SCHEMA_PATH, renderComplianceSchema } from '../../scripts/policy-schema';
import {
  ComplianceProfileError,
  findRule,
  loadProfiles,
  parseProfile,
  parseProfileFolder,
} from '../../policies/compliance-loader';
import { cronProblem } from '../../policies/compliance-schema';
import {
  evidenceNeeded,
  judgeProfile,
  judgeRule,
  planHostScan,
  type ComplianceRule,
  type HostFacts,
} from '../../domain/compliance';

const SHIPPED = join(__dirname, '..', '..', 'policies', 'compliance');

const minimal = (rules: string, head = '') => `name: demo
version: '1'
prefix: demo
description: A profile for tests
${head}rules:
${rules}`;

const sshRule = (id: string) => `  - id: ${id}
    title: Shadow protected
    severity: critical
    rationale: Hashes stay secret.
    kind: ssh
    check:
      type: file-mode
      path: /etc/shadow
      mode: '0640'
`;

/** The issues a text is refused with, as `line:column: field: message`. */
function refusal(text: string, file = 'demo.yaml'): string[] {
  try {
    parseProfile(file, text);
  } catch (err) {
    if (err instanceof ComplianceProfileError)
      return err.issues.map((i) => `${i.line}:${i.column}: ${i.field}: ${i.message}`);
    throw err;
  }
  throw new Error('the profile loaded');
}

describe('the shipped profiles', () => {
  const profiles = loadProfiles(SHIPPED);

  test('all three load, each rule id under its profile prefix', () => {
    expect(profiles.map((p) => [p.name, p.prefix])).toEqual([
      ['compute-host', 'compute'],
      ['hardware-baseline', 'hw'],
      ['os-baseline', 'os'],
    ]);
    for (const p of profiles) for (const r of p.rules) expect(r.id.startsWith(`${p.prefix}.`)).toBe(true);
  });

  test('the OS baseline has the rules the issue names, all of kind ssh', () => {
    const os = profiles.find((p) => p.name === 'os-baseline')!;
    expect(os.rules.map((r) => r.id)).toEqual([
      'os.ssh-root-login-off',
      'os.ssh-password-login-off',
      'os.time-synchronised',
      'os.security-updates-source',
      'os.etc-no-world-writable',
      'os.shadow-mode',
      'os.openssh-regresshion-fixed',
    ]);
    expect(new Set(os.rules.map((r) => r.kind))).toEqual(new Set(['ssh']));
  });

  test('the compute profile applies to compute hosts only, and the hardware profile reads the BMC', () => {
    const compute = profiles.find((p) => p.name === 'compute-host')!;
    expect(compute.scope).toEqual({ roles: ['compute'] });
    expect(compute.rules.every((r) => r.kind === 'openstack' && r.scopes[0] === compute.scope)).toBe(true);
    const hw = profiles.find((p) => p.name === 'hardware-baseline')!;
    expect(hw.rules.map((r) => r.kind)).toEqual(['redfish', 'redfish', 'redfish', 'redfish']);
  });

  test('a fix is read with its disruption and drain, and either an SSH command or a catalog action', () => {
    expect(findRule(profiles, 'compute.nova-compute-enabled-up')!.rule.fix).toEqual({
      action: 'restart-compute-service',
      disruption: 'service-restart',
      drain: false,
    });
    expect(findRule(profiles, 'os.shadow-mode')!.rule.fix).toEqual({
      ssh: 'chown root:shadow /etc/shadow && chmod 0640 /etc/shadow',
      disruption: 'none',
      drain: false,
    });
    expect(findRule(profiles, 'os.security-updates-source')!.rule.fix).toBeNull();
  });

  test('each profile carries its schedule and a digest of its text', () => {
    const os = profiles.find((p) => p.name === 'os-baseline')!;
    expect(os.schedule).toEqual({ cron: '0 3 * * *' });
    expect(os.digest).toMatch(/^[0-9a-f]{12}$/);
    expect(profiles.find((p) => p.name === 'compute-host')!.schedule).toEqual({ everyMinutes: 60 });
  });

  test('the SSH commands of the shipped rules quote their parameters', () => {
    expect(evidenceNeeded(findRule(profiles, 'os.shadow-mode')!.rule)).toEqual({
      kind: 'ssh',
      commands: ["stat -c '%a %U %G' -- '/etc/shadow'"],
    });
    expect(evidenceNeeded(findRule(profiles, 'os.openssh-regresshion-fixed')!.rule)).toEqual({
      kind: 'ssh',
      commands: ["dpkg-query -W -f '${Status}\\t${Version}\\n' 'openssh-server'"],
    });
  });
});

describe('the shipped OS rules judge what Debian 12 hosts hold', () => {
  const profiles = loadProfiles(SHIPPED);
  const facts: HostFacts = { host: 'deb-1', roles: ['compute'], zone: 'az1', labels: {} };
  /** Judge a shipped rule with each command it needs answering `stdout` and `exitCode`. */
  const judge = (ruleId: string, stdout: string, exitCode = 0) => {
    const rule: ComplianceRule = findRule(profiles, ruleId)!.rule;
    const need = evidenceNeeded(rule);
    if (need.kind !== 'ssh') throw new Error(`${ruleId} is not an ssh rule`);
    const outputs = Object.fromEntries(need.commands.map((c) => [c, { exitCode, stdout, stderr: '' }]));
    return judgeRule(rule, { facts, ssh: { reachable: true, outputs } });
  };
  const deb822 = `Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
`;
  const cases: [string, string, string, number, string][] = [
    ['a deb822 security source', 'os.security-updates-source', deb822, 0, 'pass'],
    [
      'a one-line security source',
      'os.security-updates-source',
      'deb http://security.debian.org/debian-security bookworm-security main\n',
      0,
      'pass',
    ],
    ['no security source', 'os.security-updates-source', deb822.split('\n\n')[0]!, 0, 'fail'],
    [
      'only a deb-src security source',
      'os.security-updates-source',
      'deb-src http://security.debian.org/debian-security bookworm-security main\n',
      0,
      'fail',
    ],
    [
      "Debian 12's own sshd_config (root by key only)",
      'os.ssh-root-login-off',
      'Include /etc/ssh/sshd_config.d/*.conf\n#PermitRootLogin prohibit-password\n',
      0,
      'fail',
    ],
    [
      'root login off',
      'os.ssh-root-login-off',
      'Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n',
      0,
      'pass',
    ],
    [
      "Debian 12's own sshd_config (passwords by default)",
      'os.ssh-password-login-off',
      '#PasswordAuthentication yes\n',
      0,
      'fail',
    ],
    ['time synchronised', 'os.time-synchronised', '', 0, 'pass'],
    ['no time service', 'os.time-synchronised', '', 3, 'fail'],
    ['nothing world-writable (some directories unreadable)', 'os.etc-no-world-writable', '', 1, 'pass'],
  ];
  test.each(cases)('%s: %s', (_what, ruleId, stdout, exitCode, state) =>
    expect(judge(ruleId, stdout, exitCode).state).toBe(state),
  );
});

describe('a host scan of the shipped profiles', () => {
  const profiles = loadProfiles(SHIPPED);
  const storage: HostFacts = { host: 'sto-1', roles: ['storage'], zone: 'az1', labels: {} };
  const compute: HostFacts = { ...storage, host: 'cmp-1', roles: ['compute'] };

  test('a storage host is not read for the compute profile; the sshd configuration is read once for two rules', () => {
    const plan = planHostScan(profiles, storage);
    expect(plan.rules.some((r) => r.profile === 'compute-host')).toBe(false);
    expect(plan.openstackFields).toEqual([]);
    expect(plan.redfishFields).toEqual(['model', 'biosVersion', 'bmcFirmware', 'psuRedundancy', 'secureBoot']);
    expect(plan.sshCommands.filter((c) => c.includes('sshd_config'))).toHaveLength(1);
    expect(plan.sshCommands).toHaveLength(6);
    expect(planHostScan(profiles, compute).openstackFields).toEqual([
      'computeService',
      'aggregates',
      'hypervisorVersion',
      'fleetHypervisorVersions',
    ]);
  });

  test("every rule of a profile is judged, those out of the host's scope as not-applicable", () => {
    const computeProfile = profiles.find((p) => p.name === 'compute-host')!;
    const results = judgeProfile(computeProfile, { facts: storage });
    expect(results.map((r) => [r.ruleId, r.state])).toEqual([
      ['compute.nova-compute-enabled-up', 'not-applicable'],
      ['compute.one-aggregate', 'not-applicable'],
      ['compute.hypervisor-fleet-version', 'not-applicable'],
    ]);
    expect(judgeProfile(computeProfile, { facts: compute }).map((r) => r.state)).toEqual(['error', 'error', 'error']);
  });
});

describe('a bad profile is refused at file:line:column with the field and the reason', () => {
  const cases: [string, string, string[]][] = [
    [
      'a rule id without the profile prefix',
      minimal(sshRule('os.shadow')),
      ['6:9: rules.0.id: must start with the profile\'s prefix "demo."'],
    ],
    [
      'a duplicate rule id, at the second',
      minimal(sshRule('demo.shadow') + sshRule('demo.shadow')),
      ['15:9: rules.1.id: "demo.shadow" is already rule 0'],
    ],
    [
      'an unknown severity',
      minimal(sshRule('demo.shadow').replace('severity: critical', 'severity: high')),
      ['8:15: rules.0.severity: Invalid option: expected one of "info"|"warning"|"critical"'],
    ],
    [
      'an unknown check type',
      minimal(sshRule('demo.shadow').replace('type: file-mode', 'type: file-perm')),
      [
        "12:13: rules.0.check.type: Invalid discriminator value. Expected 'package' | 'setting' | 'file-content' | 'file-mode' | 'service' | 'command'",
      ],
    ],
    [
      'a relative path',
      minimal(sshRule('demo.shadow').replace('path: /etc/shadow', 'path: etc/shadow')),
      ['13:13: rules.0.check.path: must be an absolute path on one line'],
    ],
    [
      'a version constraint without an operator',
      minimal(`  - id: demo.ssh
    title: t
    severity: info
    rationale: r
    kind: ssh
    check: { type: package, package: openssh-server, version: '1:9.2p1' }
`),
      [
        '11:63: rules.0.check.version: "1:9.2p1" must be an operator (<<, <=, =, >=, >>) and a version, like ">= 1:9.2p1-2"',
      ],
    ],
    [
      'a regular expression RE2 refuses',
      minimal(`  - id: demo.grep
    title: t
    severity: info
    rationale: r
    kind: ssh
    check: { type: file-content, path: /etc/hosts, pattern: '(a)\\1' }
`),
      ['11:61: rules.0.check.pattern: "(a)\\1" is not an RE2 regular expression (no backreferences or lookaround): '],
    ],
    [
      'a fix with both a command and an action',
      minimal(
        sshRule('demo.shadow') +
          `    fix: { ssh: 'chmod 0640 /etc/shadow', action: reboot, disruption: none, drain: false }
`,
      ),
      ['15:17: rules.0.fix.ssh: needs exactly one of ssh and action'],
    ],
    [
      'a fix without its disruption',
      minimal(
        sshRule('demo.shadow') +
          `    fix: { ssh: 'chmod 0640 /etc/shadow', drain: false }
`,
      ),
      ['15:10: rules.0.fix.disruption: Invalid option: expected one of "none"|"service-restart"|"reboot"'],
    ],
    [
      'a fix that reboots without draining',
      minimal(
        sshRule('demo.shadow') +
          `    fix: { action: reboot, disruption: reboot, drain: false }
`,
      ),
      ["15:55: rules.0.fix.drain: a reboot takes the host's servers down with it: a fix that reboots must drain first"],
    ],
    [
      'a cron with four fields',
      minimal(sshRule('demo.shadow'), "schedule: { cron: '0 3 * *' }\n"),
      ['5:19: schedule.cron: must have 5 fields (minute hour day-of-month month day-of-week), has 4'],
    ],
    [
      'a label matcher that is not one',
      minimal(sshRule('demo.shadow'), 'scope: { labels: [rack=r1] }\n'),
      ['5:19: scope.labels.0: must be a matcher like env="prod", env!="dev", instance=~"cmp-.*" or job!~"test.*"'],
    ],
    [
      'a missing description, at the file',
      'name: demo\nversion: "1"\nprefix: demo\nrules: []\n',
      [
        '1:1: description: Invalid input: expected string, received undefined',
        '4:8: rules: must list at least one rule',
      ],
    ],
    [
      'fields the format does not have, each at its key',
      minimal(sshRule('demo.shadow').replace('    kind: ssh', '    kind: ssh\n    impact: 0.7'), 'owner: ops\n'),
      ['5:8: owner: is not a field of this format', '12:13: rules.0.impact: is not a field of this format'],
    ],
    ['broken YAML', 'name: demo\nrules: [\n', ['3:1: (yaml): Flow sequence in block collection must be']],
  ];
  test.each(cases)('%s', (_what, text, expected) => {
    const issues = refusal(text);
    // Each issue starts with the expected text (zod's messages may go on: "…, received …").
    expect(issues.map((issue, i) => issue.slice(0, expected[i]?.length))).toEqual(expected);
  });

  test('the error message names the file on each line', () => {
    expect(() => parseProfile('policies/compliance/demo.yaml', minimal(sshRule('os.shadow')))).toThrow(
      /^policies\/compliance\/demo\.yaml:6:9: rules\.0\.id: must start/,
    );
  });

  test('two files with the same profile name or prefix are refused, at the second', () => {
    const text = minimal(sshRule('demo.shadow'));
    expect(() =>
      parseProfileFolder(
        new Map([
          ['a.yaml', text],
          ['b.yaml', text],
        ]),
      ),
    ).toThrow(
      'b.yaml:1:1: name: "demo" is already used by a.yaml\nb.yaml:3:1: prefix: "demo" is already used by a.yaml: rule ids would collide',
    );
  });

  test('every bad file of a folder is reported, not only the first', () => {
    const bad = minimal(sshRule('os.shadow'));
    expect(() =>
      parseProfileFolder(
        new Map([
          ['a.yaml', bad],
          ['b.yaml', bad.replace('name: demo', 'name: other')],
        ]),
      ),
    ).toThrow(/^a\.yaml:6:9: .*\nb\.yaml:6:9: /);
  });
});

describe('cron schedules', () => {
  const cases: [string, string | null][] = [
    ['0 3 * * *', null],
    ['*/15 * * * 1-5', null],
    ['0 0,12 1 1,6 0', null],
    ['60 * * * *', 'the minute field "60" must stay within 0-59'],
    ['0 3 * * * *', 'must have 5 fields (minute hour day-of-month month day-of-week), has 6'],
    ['*/0 * * * *', 'the minute field "*/0" has a step of 0'],
    ['@daily', 'must have 5 fields (minute hour day-of-month month day-of-week), has 1'],
  ];
  test.each(cases)('%s → %s', (cron, problem) => expect(cronProblem(cron)).toBe(problem));
});

describe('the published JSON Schema', () => {
  const schema = JSON.parse(readFileSync(COMPLIANCE_SCHEMA_PATH, 'utf8'));

  test('is the one the zod schema produces (npm run build writes it)', () => {
    expect(readFileSync(COMPLIANCE_SCHEMA_PATH, 'utf8')).toBe(renderComplianceSchema());
  });

  test('requires the fields the loader requires, for the profile and for each rule kind', () => {
    expect([...schema.required].sort()).toEqual(['description', 'name', 'prefix', 'rules', 'version']);
    const kinds = schema.properties.rules.items.oneOf ?? schema.properties.rules.items.anyOf;
    expect(kinds).toHaveLength(3);
    for (const kind of kinds)
      expect([...kind.required].sort()).toEqual(['check', 'id', 'kind', 'rationale', 'severity', 'title']);
  });

  test('a profile that omits a field the schema requires is refused by the loader too', () => {
    for (const field of ['name', 'version', 'prefix', 'description', 'rules']) {
      const text = minimal(sshRule('demo.shadow'))
        .split('\n')
        .filter((l) => !l.startsWith(`${field}:`))
        .join('\n');
      const issues =
        field === 'rules' ? refusal('name: demo\nversion: "1"\nprefix: demo\ndescription: d\n') : refusal(text);
      expect(issues.some((i) => i.includes(`${field}: `))).toBe(true);
    }
  });
});
