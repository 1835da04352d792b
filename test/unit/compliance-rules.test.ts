/** Compliance rules judged from evidence, table-driven: each kind passes and fails for the right reason. */
import { execFileSync } from 'node:child_process';
import {
  compareDebianVersions,
  readDebianVersion,
  readVersionConstraint,
  satisfies,
  type DebianVersion,
  type VersionConstraint,
} from '../../domain/debian-version';
import {
  evidenceNeeded,
  judgeRule,
  mostCommonVersion,
  redfishEvidenceFromReading,
  shellQuote,
  sshCommandsFor,
  type CommandOutput,
  type ComplianceRule,
  type ComplianceScope,
  type HostEvidence,
  type HostFacts,
  type OpenStackCheck,
  type OpenStackEvidence,
  type RedfishCheck,
  type RedfishEvidence,
  type RuleResult,
  type SshCheck,
} from '../../domain/compliance';
import { parseMatcher } from '../../domain/label-matcher';
import type { BmcReading } from '../../domain/telemetry';

const version = (text: string): DebianVersion => {
  const v = readDebianVersion(text);
  if ('problem' in v) throw new Error(v.problem);
  return v;
};
const constraint = (text: string): VersionConstraint => {
  const c = readVersionConstraint(text);
  if ('problem' in c) throw new Error(c.problem);
  return c;
};

describe('Debian version comparison (Debian Policy 5.6.12, as dpkg)', () => {
  const cases: [string, string, -1 | 0 | 1, string][] = [
    ['1.0', '1.0', 0, 'the same version'],
    ['1:1.0', '2.0', 1, 'the epoch decides first'],
    ['0:1.0', '1.0', 0, 'a missing epoch is 0'],
    ['1.10', '1.9', 1, 'digit runs compare as numbers'],
    ['00.1', '0.1', 0, 'leading zeros do not count'],
    ['1.0~rc1', '1.0', -1, '~ sorts before the end'],
    ['1.0~~', '1.0~', -1, '~~ sorts before ~'],
    ['1.0', '1.0+b1', -1, 'the end sorts before +'],
    ['1.0a', '1.0', 1, 'a letter sorts after the end'],
    ['1.0a', '1.0+', -1, 'letters sort before other characters'],
    ['1.0-1', '1.0-2', -1, 'the revision decides when upstream is equal'],
    ['1.0-0', '1.0', 0, 'a missing revision is 0'],
    ['1.2-3-5', '1.2-3-4', 1, 'the revision is after the last dash'],
    ['2.30-1', '2.4-1', 1, '30 > 4, not "3" < "4"'],
    ['1:9.2p1-2+deb12u7', '1:9.2p1-2+deb12u3', 1, 'a Debian stable update'],
    ['1:9.2p1-2+deb12u3', '1:9.2p1-2', 1, 'a stable update after the release'],
    ['1:9.2p1-2~bpo11+1', '1:9.2p1-2', -1, 'a backport sorts before the release'],
    ['12345678901234567890.1', '12345678901234567889.1', 1, 'numbers past 2^53 still compare'],
  ];
  test.each(cases)('%s vs %s → %i: %s', (a, b, expected) => {
    expect(compareDebianVersions(version(a), version(b))).toBe(expected);
    expect(compareDebianVersions(version(b), version(a))).toBe(-expected || 0);
  });

  const refused: [string, string][] = [
    ['', 'is empty'],
    ['x:1.0', '"x:1.0": the epoch "x" is not a number'],
    ['v1.0', '"v1.0": the upstream version must start with a digit and use only A-Za-z0-9.+~-:'],
    ['1.0-', '"1.0-": the revision must be non-empty and use only A-Za-z0-9.+~'],
    ['1.0 beta', '"1.0 beta": the upstream version must start with a digit and use only A-Za-z0-9.+~-:'],
  ];
  test.each(refused)('"%s" is not a version: %s', (text, problem) =>
    expect(readDebianVersion(text)).toEqual({ problem }),
  );

  const constraints: [string, string, boolean][] = [
    ['1:9.2p1-2+deb12u3', '>= 1:9.2p1-2+deb12u3', true],
    ['1:9.2p1-2+deb12u2', '>= 1:9.2p1-2+deb12u3', false],
    ['1.0~rc1', '<< 1.0', true],
    ['1.0', '<< 1.0', false],
    ['1.0', '<= 1.0', true],
    ['1.0-0', '= 1.0', true],
    ['1.0-1', '= 1.0', false],
    ['1.1', '>> 1.0', true],
    ['1.0', '>> 1.0', false],
  ];
  test.each(constraints)('%s satisfies %s: %s', (v, c, expected) =>
    expect(satisfies(version(v), constraint(c))).toBe(expected),
  );

  test('a constraint needs an operator and a version', () => {
    expect(readVersionConstraint('1.0')).toEqual({
      problem: '"1.0" must be an operator (<<, <=, =, >=, >>) and a version, like ">= 1:9.2p1-2"',
    });
    expect(readVersionConstraint('> 1.0')).toHaveProperty('problem');
    expect(readVersionConstraint('>= v1')).toEqual({
      problem: 'the version "v1": the upstream version must start with a digit and use only A-Za-z0-9.+~-:',
    });
  });
});

const facts: HostFacts = { host: 'cmp-1', roles: ['compute'], zone: 'az1', labels: { rack: 'r1' } };

function rule(
  kind: 'ssh' | 'redfish' | 'openstack',
  check: SshCheck | RedfishCheck | OpenStackCheck,
  scopes: ComplianceScope[] = [{}],
): ComplianceRule {
  return {
    id: `t.${check.type}`,
    title: check.type,
    severity: 'warning',
    rationale: 'test',
    fix: null,
    scopes,
    kind,
    check,
  } as ComplianceRule;
}

const ran = (stdout: string, exitCode: number | null = 0, more: Partial<CommandOutput> = {}): CommandOutput => ({
  exitCode,
  stdout,
  stderr: '',
  ...more,
});

/** Judge an ssh check against one output of the command it needs (or none). */
function judgeSshWith(check: SshCheck, outputs: (CommandOutput | undefined)[]): RuleResult {
  const r = rule('ssh', check);
  const need = evidenceNeeded(r);
  if (need.kind !== 'ssh') throw new Error('not ssh');
  const record: Record<string, CommandOutput> = {};
  need.commands.forEach((c, i) => {
    if (outputs[i]) record[c] = outputs[i]!;
  });
  return judgeRule(r, { facts, ssh: { reachable: true, outputs: record } });
}

type Case<C> = [string, C, (CommandOutput | undefined)[], RuleResult['state'], string];

describe('ssh rules', () => {
  const openssh: SshCheck = {
    type: 'package',
    package: 'openssh-server',
    installed: true,
    version: '>= 1:9.2p1-2+deb12u3',
  };
  const rootLogin: SshCheck = {
    type: 'setting',
    command: 'cat /etc/ssh/sshd_config.d/*.conf 2>/dev/null; cat /etc/ssh/sshd_config',
    key: 'PermitRootLogin',
    allowed: ['no'],
    default: 'prohibit-password',
    precedence: 'first',
    ignoreCase: true,
  };
  const shadow: SshCheck = {
    type: 'file-mode',
    path: '/etc/shadow',
    mode: '0640',
    owner: 'root',
    group: ['root', 'shadow'],
  };
  const chrony: SshCheck = { type: 'service', unit: 'chrony.service', active: true, enabled: true };
  const noWorldWritable: SshCheck = {
    type: 'command',
    command: 'find /etc -xdev -perm -0002 ! -type l -print 2>/dev/null',
    empty: true,
  };
  const security: SshCheck = {
    type: 'file-content',
    path: '/etc/apt/sources.list',
    pattern: '^[ \\t]*deb[ \\t][^#\\n]*security',
    expect: 'present',
  };

  const cases: Case<SshCheck>[] = [
    [
      'package newer than the constraint passes',
      openssh,
      [ran('install ok installed\t1:9.2p1-2+deb12u7\n')],
      'pass',
      '1:9.2p1-2+deb12u7 is newer than 1:9.2p1-2+deb12u3',
    ],
    [
      'package at the constraint passes',
      openssh,
      [ran('install ok installed\t1:9.2p1-2+deb12u3\n')],
      'pass',
      'is the same as',
    ],
    [
      'package older than the constraint fails',
      openssh,
      [ran('install ok installed\t1:9.2p1-2+deb12u2\n')],
      'fail',
      '1:9.2p1-2+deb12u2 is older than 1:9.2p1-2+deb12u3; needs >= 1:9.2p1-2+deb12u3',
    ],
    [
      'package unknown to dpkg fails as not installed',
      openssh,
      [ran('', 1, { stderr: 'dpkg-query: no packages found matching openssh-server' })],
      'fail',
      'openssh-server is not installed',
    ],
    [
      'package removed with its config left fails as not installed',
      openssh,
      [ran('deinstall ok config-files\t1:9.2p1-2\n')],
      'fail',
      'openssh-server is not installed',
    ],
    [
      'package that must be absent and is absent passes',
      { type: 'package', package: 'telnetd', installed: false },
      [ran('', 1)],
      'pass',
      'telnetd is not installed',
    ],
    [
      'package that must be absent and is installed fails',
      { type: 'package', package: 'telnetd', installed: false },
      [ran('install ok installed\t0.17-44\n')],
      'fail',
      'telnetd is installed (0.17-44)',
    ],
    [
      'package query with garbage output is an error',
      openssh,
      [ran('openssh-server 9.2')],
      'error',
      'dpkg-query gave output that is not',
    ],
    [
      'package with a version dpkg should never print is an error',
      openssh,
      [ran('install ok installed\tnot-a-version\n')],
      'error',
      'dpkg reports a version that cannot be read',
    ],
    [
      'package query that failed otherwise is an error',
      openssh,
      [ran('', 2, { stderr: 'dpkg-query: error: database locked' })],
      'error',
      'dpkg-query failed (exit 2): dpkg-query: error: database locked',
    ],
    [
      'package query missing from the evidence is an error naming the command',
      openssh,
      [undefined],
      'error',
      "no output of `dpkg-query -W -f '${Status}\\t${Version}\\n' 'openssh-server'`",
    ],

    [
      'setting off in a drop-in read first passes though the main file says yes',
      rootLogin,
      [ran('PermitRootLogin no\n# main\nPermitRootLogin yes\n')],
      'pass',
      'PermitRootLogin is no',
    ],
    ['setting matched case-insensitively passes', rootLogin, [ran('permitrootlogin No\n')], 'pass', 'is No'],
    ['setting yes fails', rootLogin, [ran('Port 22\nPermitRootLogin yes\n')], 'fail', 'PermitRootLogin is yes, not no'],
    [
      'setting commented out falls back to the default and fails',
      rootLogin,
      [ran('#PermitRootLogin no\n')],
      'fail',
      'PermitRootLogin is prohibit-password by default, not no',
    ],
    [
      'setting whose file cannot be read is an error',
      rootLogin,
      [ran('', 1, { stderr: 'cat: /etc/ssh/sshd_config: No such file or directory' })],
      'error',
      'could not read `cat',
    ],
    [
      'setting with last precedence takes the last value',
      {
        type: 'setting',
        path: '/etc/sysctl.conf',
        key: 'net.ipv4.ip_forward',
        allowed: ['0'],
        precedence: 'last',
        ignoreCase: false,
      },
      [ran('net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward=0\n')],
      'pass',
      'net.ipv4.ip_forward is 0',
    ],
    [
      'setting absent without a default fails as not set',
      {
        type: 'setting',
        path: '/etc/sysctl.conf',
        key: 'kernel.kptr_restrict',
        allowed: ['1', '2'],
        precedence: 'last',
        ignoreCase: false,
      },
      [ran('vm.swappiness = 10\n')],
      'fail',
      'kernel.kptr_restrict is not set in /etc/sysctl.conf',
    ],

    [
      'file content found passes',
      security,
      [
        ran(
          'deb http://deb.debian.org/debian bookworm main\ndeb http://security.debian.org/debian-security bookworm-security main\n',
        ),
      ],
      'pass',
      '/etc/apt/sources.list matches',
    ],
    [
      'file content only in a comment fails',
      security,
      [
        ran(
          'deb http://deb.debian.org/debian bookworm main\n# deb http://security.debian.org/ bookworm-security main\n',
        ),
      ],
      'fail',
      '/etc/apt/sources.list does not match',
    ],
    [
      'file content that must be absent and is present fails',
      { ...security, expect: 'absent' } as SshCheck,
      [ran('deb http://security.debian.org/debian-security bookworm-security main\n')],
      'fail',
      'matches',
    ],

    [
      'mode 0640 root:shadow passes',
      shadow,
      [ran('640 root shadow\n')],
      'pass',
      '/etc/shadow has mode 0640 or stricter',
    ],
    ['a stricter mode passes', shadow, [ran('0 root root\n')], 'pass', 'has mode'],
    [
      'a world-readable mode fails, naming the extra bits',
      shadow,
      [ran('644 root shadow\n')],
      'fail',
      'mode grants 0004 beyond 0640',
    ],
    [
      'a wrong owner and group fail, each named',
      shadow,
      [ran('640 daemon adm\n')],
      'fail',
      'owner is daemon, not root; group is adm, not root or shadow',
    ],
    [
      'stat of a missing file is an error',
      shadow,
      [ran('', 1, { stderr: "stat: cannot statx '/etc/shadow': No such file or directory" })],
      'error',
      'could not stat /etc/shadow (exit 1): stat: cannot statx',
    ],
    [
      'stat output that is not mode owner group is an error',
      shadow,
      [ran('-rw-r----- 1 root shadow')],
      'error',
      'stat gave output that is not "<mode> <owner> <group>"',
    ],

    [
      'service active and enabled passes',
      chrony,
      [ran('active\n'), ran('enabled\n')],
      'pass',
      'chrony.service is active and enabled',
    ],
    ['service inactive fails', chrony, [ran('inactive\n', 3), ran('enabled\n')], 'fail', 'chrony.service is inactive'],
    [
      'service active but disabled fails',
      chrony,
      [ran('active\n'), ran('disabled\n', 1)],
      'fail',
      'chrony.service is disabled',
    ],
    [
      'service on a host without systemd running is an error',
      chrony,
      [ran('offline\n', 1, { stderr: 'System has not been booted with systemd as init system (PID 1).' })],
      'error',
      'systemctl is-active gave "offline"',
    ],

    ['command with no output passes', noWorldWritable, [ran('', 1)], 'pass', 'no output'],
    [
      'command that prints files fails, naming them',
      noWorldWritable,
      [ran('/etc/cron.d/backup\n/etc/profile.d/x.sh\n')],
      'fail',
      'printed 2 line(s): /etc/cron.d/backup',
    ],
    [
      'command exit 0 expected and given passes',
      { type: 'command', command: 'timedatectl show -p NTPSynchronized --value | grep -qx yes' },
      [ran('')],
      'pass',
      'exit 0',
    ],
    [
      'command exit 0 expected, exit 1 given fails',
      { type: 'command', command: 'timedatectl show -p NTPSynchronized --value | grep -qx yes' },
      [ran('', 1)],
      'fail',
      'exited 1, not 0',
    ],
    [
      'command not found is an error',
      noWorldWritable,
      [ran('', 127, { stderr: 'sh: 1: find: not found' })],
      'error',
      'could not be run (exit 127): sh: 1: find: not found',
    ],
    [
      'command cut at the size cap is an error',
      noWorldWritable,
      [ran('/etc/a\n', 0, { truncated: true })],
      'error',
      'passed the size cap and was cut',
    ],
    [
      'command that timed out is an error',
      noWorldWritable,
      [ran('', null, { error: 'timed out after 10 s' })],
      'error',
      'did not finish: timed out after 10 s',
    ],
    [
      'command output matching the pattern passes',
      { type: 'command', command: 'uname -r', output: { pattern: '^6\\.1\\.', expect: 'present' } },
      [ran('6.1.0-28-amd64\n')],
      'pass',
      'the output matches /^6\\.1\\./',
    ],
    [
      'command output not matching the pattern fails',
      { type: 'command', command: 'uname -r', output: { pattern: '^6\\.1\\.', expect: 'present' } },
      [ran('5.10.0-30-amd64\n')],
      'fail',
      'the output does not match',
    ],
  ];
  test.each(cases)('%s', (_what, check, outputs, state, reason) => {
    const result = judgeSshWith(check, outputs);
    expect({ state: result.state, ruleId: result.ruleId }).toEqual({ state, ruleId: `t.${check.type}` });
    expect(result.reason).toContain(reason);
  });

  test('a pass and a fail say what was expected and what was observed', () => {
    expect(judgeSshWith(shadow, [ran('644 root shadow\n')])).toEqual({
      ruleId: 't.file-mode',
      state: 'fail',
      expected: '/etc/shadow: mode 0640 or stricter, owner root, group root or shadow',
      observed: '/etc/shadow: mode 0644, owner root, group shadow',
      reason: 'mode grants 0004 beyond 0640',
    });
    expect(judgeSshWith(openssh, [ran('install ok installed\t1:9.2p1-2+deb12u7\n')])).toMatchObject({
      expected: 'openssh-server installed (>= 1:9.2p1-2+deb12u3)',
      observed: 'openssh-server 1:9.2p1-2+deb12u7',
    });
  });

  test('a host that could not be reached is an error for every ssh rule, with why', () => {
    const evidence: HostEvidence = { facts, ssh: { reachable: false, error: 'host key changed' } };
    expect(judgeRule(rule('ssh', shadow), evidence)).toMatchObject({
      state: 'error',
      reason: 'host not read over SSH: host key changed',
    });
    expect(judgeRule(rule('ssh', shadow), { facts })).toMatchObject({
      state: 'error',
      reason: 'host not read over SSH: no SSH reading in the evidence',
    });
  });

  test('parameters are shell-quoted: a path with quotes and $(…) stays one word', () => {
    const path = `/etc/it's $(touch /tmp/pwned) \`id\` "x"`;
    const need = evidenceNeeded(rule('ssh', { type: 'file-mode', path, mode: '0600' }));
    expect(need).toEqual({
      kind: 'ssh',
      commands: [`stat -c '%a %U %G' -- '/etc/it'\\''s $(touch /tmp/pwned) \`id\` "x"'`],
    });
    for (const text of [path, "'", "''", 'a\nb', '$HOME', '\\']) {
      expect(execFileSync('sh', ['-c', `printf '%s' ${shellQuote(text)}`], { encoding: 'utf8' })).toBe(text);
    }
  });

  test('one connection runs each command once, however many rules read it', () => {
    const rules = [
      rule('ssh', rootLogin),
      rule('ssh', { ...rootLogin, key: 'PasswordAuthentication', allowed: ['no'], default: 'yes' } as SshCheck),
      rule('ssh', shadow),
      rule('redfish', { type: 'psu-redundancy' }),
    ];
    expect(sshCommandsFor(rules)).toEqual([
      'cat /etc/ssh/sshd_config.d/*.conf 2>/dev/null; cat /etc/ssh/sshd_config',
      "stat -c '%a %U %G' -- '/etc/shadow'",
    ]);
    expect(evidenceNeeded(rule('ssh', chrony))).toEqual({
      kind: 'ssh',
      commands: ["systemctl is-active -- 'chrony.service'", "systemctl is-enabled -- 'chrony.service'"],
    });
  });
});

describe('scope', () => {
  const check: SshCheck = { type: 'command', command: 'true' };
  const matcher = (m: string) => parseMatcher(m)!;
  const cases: [string, ComplianceScope[], RuleResult['state'], string][] = [
    ['no scope applies to every host', [{}], 'pass', 'exit 0'],
    ['a role the host has', [{ roles: ['compute', 'storage'] }], 'pass', 'exit 0'],
    ['a role the host lacks', [{ roles: ['storage'] }], 'not-applicable', "the host's roles (compute) are not storage"],
    ['another zone', [{ zones: ['az2'] }], 'not-applicable', "the host's zone (az1) is not az2"],
    ['a label that matches', [{ labels: [matcher('rack=~"r[0-9]"')] }], 'pass', 'exit 0'],
    [
      'a label that does not',
      [{ labels: [matcher('rack="r2"')] }],
      'not-applicable',
      'the host\'s labels do not match rack="r2"',
    ],
    [
      'the profile includes the host but the rule narrows it out',
      [{ roles: ['compute'] }, { zones: ['az9'] }],
      'not-applicable',
      'zone (az1) is not az9',
    ],
  ];
  test.each(cases)('%s', (_what, scopes, state, reason) => {
    const result = judgeRule(rule('ssh', check, scopes), {
      facts,
      ssh: { reachable: true, outputs: { true: ran('') } },
    });
    expect(result.state).toBe(state);
    expect(result.reason).toContain(reason);
  });

  test('out of scope is not-applicable even when nothing was read', () => {
    expect(judgeRule(rule('redfish', { type: 'psu-redundancy' }, [{ roles: ['storage'] }]), { facts }).state).toBe(
      'not-applicable',
    );
  });
});

describe('redfish rules', () => {
  const read: RedfishEvidence = {
    source: 'live',
    readAt: '2026-12-08T00:00:00Z',
    model: 'PowerEdge R650',
    biosVersion: '1.13.2',
    bmcFirmware: '7.00.00.173',
    biosAttributes: { SriovGlobalEnable: 'Enabled', ProcVirtualization: 'Enabled' },
    secureBoot: true,
    psuRedundancy: 'ok',
  };
  const bios: RedfishCheck = {
    type: 'firmware',
    component: 'bios',
    allowed: { 'PowerEdge R650': ['1.13.2', '1.14.1'] },
    unlistedModels: 'fail',
  };
  const bmc: RedfishCheck = {
    type: 'firmware',
    component: 'bmc',
    allowed: { 'PowerEdge R650': ['7.10.30.00'] },
    unlistedModels: 'fail',
  };
  const sriov: RedfishCheck = { type: 'bios-attribute', attribute: 'SriovGlobalEnable', expected: 'Enabled' };
  const secureBoot: RedfishCheck = { type: 'secure-boot', enabled: true };
  const psu: RedfishCheck = { type: 'psu-redundancy' };
  const cases: [
    string,
    RedfishCheck,
    Partial<RedfishEvidence> | { unread: string } | undefined,
    RuleResult['state'],
    string,
  ][] = [
    ['an allowed BIOS passes', bios, {}, 'pass', 'BIOS 1.13.2 is allowed for PowerEdge R650'],
    [
      'a BIOS not allowed fails, listing the allowed',
      bios,
      { biosVersion: '1.9.0' },
      'fail',
      'BIOS 1.9.0 is not allowed for PowerEdge R650 (allowed: 1.13.2, 1.14.1)',
    ],
    ['a BMC firmware not allowed fails', bmc, {}, 'fail', 'BMC firmware 7.00.00.173 is not allowed'],
    [
      'an unlisted model fails by default',
      bios,
      { model: 'PowerEdge R760' },
      'fail',
      'no BIOS versions are allowed for model PowerEdge R760',
    ],
    [
      'an unlisted model is not applicable when the rule says so',
      { ...bios, unlistedModels: 'not-applicable' } as RedfishCheck,
      { model: 'PowerEdge R760' },
      'not-applicable',
      'model PowerEdge R760 has no allowed BIOS versions',
    ],
    [
      'firmware without the model is an error',
      bios,
      { model: null },
      'error',
      'the system model is not in the BMC reading (live of 2026-12-08T00:00:00Z)',
    ],
    [
      'firmware without the version is an error',
      bmc,
      { bmcFirmware: null },
      'error',
      'the BMC firmware version is not in the BMC reading',
    ],
    ['a BIOS attribute as expected passes', sriov, {}, 'pass', 'SriovGlobalEnable = Enabled'],
    [
      'a BIOS attribute otherwise fails',
      sriov,
      { biosAttributes: { SriovGlobalEnable: 'Disabled' } },
      'fail',
      'SriovGlobalEnable is Disabled, not Enabled',
    ],
    [
      'a BIOS attribute the BIOS lacks is an error',
      sriov,
      { biosAttributes: {} },
      'error',
      'the BIOS has no attribute SriovGlobalEnable',
    ],
    [
      'BIOS attributes not read are an error',
      sriov,
      { biosAttributes: null },
      'error',
      'BIOS attributes are not in the BMC reading',
    ],
    ['secure boot enabled passes', secureBoot, {}, 'pass', 'secure boot enabled'],
    ['secure boot disabled fails', secureBoot, { secureBoot: false }, 'fail', 'secure boot disabled'],
    [
      'secure boot not read is an error',
      secureBoot,
      { secureBoot: null },
      'error',
      'the secure boot state is not in the BMC reading',
    ],
    ['redundant power supplies pass', psu, {}, 'pass', 'power supply redundancy ok'],
    ['lost redundancy fails', psu, { psuRedundancy: 'lost' }, 'fail', 'power supply redundancy lost'],
    [
      'unknown redundancy is an error',
      psu,
      { psuRedundancy: 'unknown' },
      'error',
      'the BMC reports no power supply redundancy',
    ],
    [
      'a BMC that could not be read is an error, with why',
      psu,
      { unread: 'unreachable: connect ECONNREFUSED' },
      'error',
      'BMC not read: unreachable: connect ECONNREFUSED',
    ],
    ['no BMC reading at all is an error', psu, undefined, 'error', 'no BMC reading in the evidence'],
  ];
  test.each(cases)('%s', (_what, check, change, state, reason) => {
    const redfish =
      change === undefined ? undefined : 'unread' in change ? (change as { unread: string }) : { ...read, ...change };
    const result = judgeRule(rule('redfish', check), { facts, redfish });
    expect(result.state).toBe(state);
    expect(result.reason).toContain(reason);
  });

  test("the sweep's snapshot gives firmware versions and redundancy, not the model or secure boot", () => {
    const reading = { biosVersion: 'SIM-2.4.1', bmcFirmware: 'SIM-BMC 5.10', psuRedundancy: 'lost' } as BmcReading;
    const evidence = redfishEvidenceFromReading(reading, '2026-12-08T00:00:00Z');
    expect(evidence).toEqual({
      source: 'snapshot',
      readAt: '2026-12-08T00:00:00Z',
      model: null,
      biosVersion: 'SIM-2.4.1',
      bmcFirmware: 'SIM-BMC 5.10',
      biosAttributes: null,
      secureBoot: null,
      psuRedundancy: 'lost',
    });
    expect(judgeRule(rule('redfish', psu), { facts, redfish: evidence }).state).toBe('fail');
    expect(judgeRule(rule('redfish', secureBoot), { facts, redfish: evidence }).state).toBe('error');
    expect(evidenceNeeded(rule('redfish', bios))).toEqual({ kind: 'redfish', fields: ['model', 'biosVersion'] });
  });
});

describe('openstack rules', () => {
  const cloud: OpenStackEvidence = {
    computeService: { enabled: true, up: true, disabledReason: null },
    zones: ['az1'],
    aggregates: ['gpu'],
    hypervisorVersion: '8002000',
    fleetHypervisorVersions: { 'cmp-1': '8002000', 'cmp-2': '8002000', 'cmp-3': '7000000' },
  };
  const service: OpenStackCheck = { type: 'compute-service', enabled: true, up: true };
  const oneAggregate: OpenStackCheck = { type: 'aggregates', exactly: 1 };
  const hypervisor: OpenStackCheck = { type: 'hypervisor-version', equal: 'fleet-most-common' };
  const cases: [
    string,
    OpenStackCheck,
    Partial<OpenStackEvidence> | { unread: string },
    RuleResult['state'],
    string,
  ][] = [
    ['nova-compute enabled and up passes', service, {}, 'pass', 'nova-compute enabled, up'],
    [
      'nova-compute disabled fails, with its reason',
      service,
      { computeService: { enabled: false, up: true, disabledReason: 'shipshape: drained' } },
      'fail',
      'nova-compute is disabled: shipshape: drained',
    ],
    [
      'nova-compute down fails',
      service,
      { computeService: { enabled: true, up: false, disabledReason: null } },
      'fail',
      'nova-compute is down',
    ],
    [
      'no nova-compute on the host fails',
      service,
      { computeService: null },
      'fail',
      'the host has no nova-compute service',
    ],
    ['one aggregate passes', oneAggregate, {}, 'pass', 'in 1 aggregate(s): gpu'],
    ['no aggregate fails', oneAggregate, { aggregates: [] }, 'fail', 'the host is in no aggregate, not exactly 1'],
    [
      'two aggregates fail',
      oneAggregate,
      { aggregates: ['gpu', 'ssd'] },
      'fail',
      'in 2 aggregate(s): gpu, ssd, not exactly 1',
    ],
    ['one zone passes', { type: 'zones', exactly: 1 }, {}, 'pass', 'in 1 availability zone(s): az1'],
    ["the fleet's most common hypervisor passes", hypervisor, {}, 'pass', "the fleet's most common version 8002000"],
    [
      'an older hypervisor fails',
      hypervisor,
      { hypervisorVersion: '7000000' },
      'fail',
      "the hypervisor is 7000000, the fleet's most common is 8002000",
    ],
    [
      'no hypervisor version is an error',
      hypervisor,
      { hypervisorVersion: null },
      'error',
      'the host has no hypervisor version',
    ],
    [
      'no fleet versions is an error',
      hypervisor,
      { fleetHypervisorVersions: {} },
      'error',
      "the fleet's hypervisor versions are not in the reading",
    ],
    [
      'the cloud not read is an error, with why',
      service,
      { unread: 'Keystone: 401' },
      'error',
      'OpenStack not read: Keystone: 401',
    ],
  ];
  test.each(cases)('%s', (_what, check, change, state, reason) => {
    const openstack = 'unread' in change ? (change as { unread: string }) : { ...cloud, ...change };
    const result = judgeRule(rule('openstack', check), { facts, openstack });
    expect(result.state).toBe(state);
    expect(result.reason).toContain(reason);
  });

  test('on a tie the newest of the most common versions is the fleet version', () => {
    expect(mostCommonVersion({ a: '9000000', b: '10000000', c: '9000000', d: '10000000', e: '8000000' })).toEqual({
      version: '10000000',
      hosts: 2,
    });
    expect(mostCommonVersion({ a: '2.0', b: '10.0' })).toEqual({ version: '10.0', hosts: 1 });
    expect(mostCommonVersion({})).toBeNull();
  });
});
