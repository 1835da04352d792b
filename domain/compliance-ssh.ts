/**
 * Rules of kind `ssh`: what to run on the host, and the pure judgement of what
 * came back. Every command is a fixed string; a rule's parameters (a path, a
 * package, a unit) go into it shell-quoted, so a parameter is always one word
 * whatever it contains. A `command` check's command is the profile author's
 * own shell text, reviewed with the profile like a policy.
 */
import { compareDebianVersions, readDebianVersion, readVersionConstraint, satisfies } from './debian-version';
import { readSearchPattern } from './search-pattern';
import { cannotJudge, fails, passes, type Verdict } from './compliance-verdict';

export type SshCheck =
  | { type: 'package'; package: string; installed: boolean; version?: string }
  | {
      type: 'setting';
      path?: string;
      command?: string;
      key: string;
      allowed: string[];
      default?: string;
      /** sshd keeps the first value it reads; most other files the last. */
      precedence: 'first' | 'last';
      ignoreCase: boolean;
    }
  | { type: 'file-content'; path: string; pattern: string; expect: 'present' | 'absent' }
  | { type: 'file-mode'; path: string; mode?: string; owner?: string; group?: string[] }
  | { type: 'service'; unit: string; active?: boolean; enabled?: boolean }
  | {
      type: 'command';
      command: string;
      exitCode?: number;
      output?: { pattern: string; expect: 'present' | 'absent' };
      empty?: boolean;
    };

/** What one command gave: its exit code (null when it did not finish), its output, and whether it was cut. */
export interface CommandOutput {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** The output passed the size cap and was cut. */
  truncated?: boolean;
  /** Why the command did not finish (timeout, channel closed). */
  error?: string;
}

/** What one SSH connection read from a host: each command's output by its command text, or why nothing was read. */
export type SshEvidence =
  | { reachable: true; outputs: Readonly<Record<string, CommandOutput>> }
  | { reachable: false; error: string };

/** One word for the shell, whatever the text holds: single quotes, and each ' as '\''. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export const packageCommand = (pkg: string) => `dpkg-query -W -f '\${Status}\\t\${Version}\\n' ${shellQuote(pkg)}`;
export const readFileCommand = (path: string) => `cat -- ${shellQuote(path)}`;
export const statCommand = (path: string) => `stat -c '%a %U %G' -- ${shellQuote(path)}`;
export const isActiveCommand = (unit: string) => `systemctl is-active -- ${shellQuote(unit)}`;
export const isEnabledCommand = (unit: string) => `systemctl is-enabled -- ${shellQuote(unit)}`;

/** The commands a check needs, in the order it reads them. */
export function sshCommands(check: SshCheck): string[] {
  switch (check.type) {
    case 'package':
      return [packageCommand(check.package)];
    case 'setting':
      return [check.command ?? readFileCommand(check.path!)];
    case 'file-content':
      return [readFileCommand(check.path)];
    case 'file-mode':
      return [statCommand(check.path)];
    case 'service':
      return [
        ...(check.active !== undefined ? [isActiveCommand(check.unit)] : []),
        ...(check.enabled !== undefined ? [isEnabledCommand(check.unit)] : []),
      ];
    case 'command':
      return [check.command];
  }
}

const firstLine = (text: string) => text.trim().split('\n')[0]?.slice(0, 200) ?? '';

/** The output of a command, or why it cannot be used: not run, not finished, cut short. */
function outputOf(
  evidence: SshEvidence,
  command: string,
  expected: string,
): { out: CommandOutput } | { verdict: Verdict } {
  if (!evidence.reachable) return { verdict: cannotJudge(expected, `host not read over SSH: ${evidence.error}`) };
  const out = evidence.outputs[command];
  if (!out) return { verdict: cannotJudge(expected, `no output of \`${command}\` in the evidence`) };
  if (out.error || out.exitCode === null)
    return { verdict: cannotJudge(expected, `\`${command}\` did not finish: ${out.error ?? 'no exit code'}`) };
  if (out.truncated)
    return { verdict: cannotJudge(expected, `the output of \`${command}\` passed the size cap and was cut`) };
  if (out.exitCode === 126 || out.exitCode === 127)
    return {
      verdict: cannotJudge(
        expected,
        `\`${command}\` could not be run (exit ${out.exitCode}): ${firstLine(out.stderr) || 'command not found'}`,
      ),
    };
  return { out };
}

export function judgeSsh(check: SshCheck, evidence: SshEvidence): Verdict {
  switch (check.type) {
    case 'package':
      return judgePackage(check, evidence);
    case 'setting':
      return judgeSetting(check, evidence);
    case 'file-content':
      return judgeFileContent(check, evidence);
    case 'file-mode':
      return judgeFileMode(check, evidence);
    case 'service':
      return judgeService(check, evidence);
    case 'command':
      return judgeCommand(check, evidence);
  }
}

function judgePackage(check: Extract<SshCheck, { type: 'package' }>, evidence: SshEvidence): Verdict {
  const expected = !check.installed
    ? `${check.package} not installed`
    : `${check.package} installed${check.version ? ` (${check.version})` : ''}`;
  const read = outputOf(evidence, packageCommand(check.package), expected);
  if ('verdict' in read) return read.verdict;
  const { out } = read;
  let installedVersion: string | null = null;
  let status = 'not known to dpkg';
  if (out.exitCode === 0) {
    const m = /^(\S+) (\S+) (\S+)\t(.*)$/.exec(out.stdout.trim());
    if (!m)
      return cannotJudge(expected, 'dpkg-query gave output that is not "<status>\\t<version>"', firstLine(out.stdout));
    status = m[3]!;
    if (status === 'installed') installedVersion = m[4]!;
  } else if (out.exitCode !== 1 || out.stdout.trim() !== '') {
    return cannotJudge(expected, `dpkg-query failed (exit ${out.exitCode}): ${firstLine(out.stderr)}`);
  }
  if (installedVersion === null) {
    const observed = `${check.package} not installed (${status})`;
    return check.installed
      ? fails(expected, observed, `${check.package} is not installed`)
      : passes(expected, observed, `${check.package} is not installed`);
  }
  const observed = `${check.package} ${installedVersion}`;
  if (!check.installed) return fails(expected, observed, `${check.package} is installed (${installedVersion})`);
  if (!check.version) return passes(expected, observed, `${check.package} is installed`);
  const constraint = readVersionConstraint(check.version);
  if ('problem' in constraint) return cannotJudge(expected, `the rule's version constraint: ${constraint.problem}`);
  const version = readDebianVersion(installedVersion);
  if ('problem' in version)
    return cannotJudge(expected, `dpkg reports a version that cannot be read: ${version.problem}`, observed);
  const ok = satisfies(version, constraint);
  const relation = ['older than', 'the same as', 'newer than'][compareDebianVersions(version, constraint.version) + 1];
  const reason = `${installedVersion} is ${relation} ${constraint.text.split(' ')[1]}`;
  return ok ? passes(expected, observed, reason) : fails(expected, observed, `${reason}; needs ${constraint.text}`);
}

function judgeSetting(check: Extract<SshCheck, { type: 'setting' }>, evidence: SshEvidence): Verdict {
  const where = check.path ?? `\`${check.command}\``;
  const expected = `${check.key} ${check.allowed.length === 1 ? `= ${check.allowed[0]}` : `in [${check.allowed.join(', ')}]`} in ${where}`;
  const command = check.command ?? readFileCommand(check.path!);
  const read = outputOf(evidence, command, expected);
  if ('verdict' in read) return read.verdict;
  if (read.out.exitCode !== 0)
    return cannotJudge(expected, `could not read ${where} (exit ${read.out.exitCode}): ${firstLine(read.out.stderr)}`);
  const same = (a: string, b: string) => (check.ignoreCase ? a.toLowerCase() === b.toLowerCase() : a === b);
  let value: string | undefined;
  for (const raw of read.out.stdout.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([^\s=]+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (!m || !same(m[1]!, check.key)) continue;
    value = m[2]!.trim().replace(/^"(.*)"$/, '$1');
    if (check.precedence === 'first') break;
  }
  const set = value !== undefined;
  const effective = value ?? check.default;
  if (effective === undefined) return fails(expected, `${check.key} not set`, `${check.key} is not set in ${where}`);
  const observed = set ? `${check.key} ${effective}` : `${check.key} not set (default ${effective})`;
  return check.allowed.some((a) => same(a, effective))
    ? passes(expected, observed, `${check.key} is ${effective}${set ? '' : ' by default'}`)
    : fails(
        expected,
        observed,
        `${check.key} is ${effective}${set ? '' : ' by default'}, not ${check.allowed.join(' or ')}`,
      );
}

function judgeFileContent(check: Extract<SshCheck, { type: 'file-content' }>, evidence: SshEvidence): Verdict {
  const expected = `${check.path} ${check.expect === 'present' ? 'matches' : 'does not match'} /${check.pattern}/`;
  const read = outputOf(evidence, readFileCommand(check.path), expected);
  if ('verdict' in read) return read.verdict;
  if (read.out.exitCode !== 0)
    return cannotJudge(
      expected,
      `could not read ${check.path} (exit ${read.out.exitCode}): ${firstLine(read.out.stderr)}`,
    );
  return judgePattern(expected, check.path, read.out.stdout, check.pattern, check.expect);
}

function judgePattern(
  expected: string,
  what: string,
  text: string,
  pattern: string,
  expect: 'present' | 'absent',
): Verdict {
  const compiled = readSearchPattern(pattern);
  if ('problem' in compiled) return cannotJudge(expected, `the rule's pattern: ${compiled.problem}`);
  const found = compiled.test(text);
  const observed = found ? `${what} matches` : `${what} does not match`;
  if (found === (expect === 'present')) return passes(expected, observed, `${observed} /${pattern}/`);
  return fails(expected, observed, `${observed} /${pattern}/`);
}

function judgeFileMode(check: Extract<SshCheck, { type: 'file-mode' }>, evidence: SshEvidence): Verdict {
  const wants = [
    check.mode ? `mode ${check.mode} or stricter` : null,
    check.owner ? `owner ${check.owner}` : null,
    check.group ? `group ${check.group.join(' or ')}` : null,
  ].filter(Boolean);
  const expected = `${check.path}: ${wants.join(', ')}`;
  const read = outputOf(evidence, statCommand(check.path), expected);
  if ('verdict' in read) return read.verdict;
  if (read.out.exitCode !== 0)
    return cannotJudge(
      expected,
      `could not stat ${check.path} (exit ${read.out.exitCode}): ${firstLine(read.out.stderr)}`,
    );
  const m = /^([0-7]{1,4}) (\S+) (\S+)$/.exec(read.out.stdout.trim());
  if (!m)
    return cannotJudge(expected, 'stat gave output that is not "<mode> <owner> <group>"', firstLine(read.out.stdout));
  const [mode, owner, group] = [parseInt(m[1]!, 8), m[2]!, m[3]!];
  const observed = `${check.path}: mode ${mode.toString(8).padStart(4, '0')}, owner ${owner}, group ${group}`;
  const wrong: string[] = [];
  if (check.mode) {
    const extra = mode & ~parseInt(check.mode, 8) & 0o7777;
    if (extra !== 0) wrong.push(`mode grants ${extra.toString(8).padStart(4, '0')} beyond ${check.mode}`);
  }
  if (check.owner && owner !== check.owner) wrong.push(`owner is ${owner}, not ${check.owner}`);
  if (check.group && !check.group.includes(group)) wrong.push(`group is ${group}, not ${check.group.join(' or ')}`);
  return wrong.length === 0
    ? passes(expected, observed, `${check.path} has ${wants.join(', ')}`)
    : fails(expected, observed, wrong.join('; '));
}

const ACTIVE_STATES = [
  'active',
  'reloading',
  'refreshing',
  'inactive',
  'failed',
  'activating',
  'deactivating',
  'maintenance',
];
const ENABLED_STATES = [
  'enabled',
  'enabled-runtime',
  'static',
  'indirect',
  'generated',
  'alias',
  'linked',
  'linked-runtime',
  'transient',
];
const DISABLED_STATES = ['disabled', 'masked', 'masked-runtime', 'not-found'];

function judgeService(check: Extract<SshCheck, { type: 'service' }>, evidence: SshEvidence): Verdict {
  const wants = [
    check.active !== undefined ? (check.active ? 'active' : 'not active') : null,
    check.enabled !== undefined ? (check.enabled ? 'enabled' : 'not enabled') : null,
  ].filter(Boolean);
  const expected = `${check.unit} ${wants.join(' and ')}`;
  const seen: string[] = [];
  const wrong: string[] = [];
  if (check.active !== undefined) {
    const read = outputOf(evidence, isActiveCommand(check.unit), expected);
    if ('verdict' in read) return read.verdict;
    const state = read.out.stdout.trim();
    if (!ACTIVE_STATES.includes(state))
      return cannotJudge(
        expected,
        `systemctl is-active gave "${firstLine(state)}" (${firstLine(read.out.stderr) || 'not a unit state'})`,
      );
    seen.push(state);
    const active = state === 'active' || state === 'reloading' || state === 'refreshing';
    if (active !== check.active) wrong.push(`${check.unit} is ${state}`);
  }
  if (check.enabled !== undefined) {
    const read = outputOf(evidence, isEnabledCommand(check.unit), expected);
    if ('verdict' in read) return read.verdict;
    const state = read.out.stdout.trim();
    const enabled = ENABLED_STATES.includes(state) ? true : DISABLED_STATES.includes(state) ? false : null;
    if (enabled === null)
      return cannotJudge(
        expected,
        `systemctl is-enabled gave "${firstLine(state)}" (${firstLine(read.out.stderr) || 'not an enablement state'})`,
      );
    seen.push(state);
    if (enabled !== check.enabled) wrong.push(`${check.unit} is ${state}`);
  }
  const observed = `${check.unit} ${seen.join(', ')}`;
  return wrong.length === 0
    ? passes(expected, observed, `${check.unit} is ${wants.join(' and ')}`)
    : fails(expected, observed, wrong.join('; '));
}

function judgeCommand(check: Extract<SshCheck, { type: 'command' }>, evidence: SshEvidence): Verdict {
  const exitCode = check.exitCode ?? (check.output || check.empty !== undefined ? undefined : 0);
  const wants = [
    exitCode !== undefined ? `exit ${exitCode}` : null,
    check.output
      ? `output ${check.output.expect === 'present' ? 'matches' : 'does not match'} /${check.output.pattern}/`
      : null,
    check.empty !== undefined ? (check.empty ? 'no output' : 'some output') : null,
  ].filter(Boolean);
  const expected = `\`${check.command}\`: ${wants.join(', ')}`;
  const read = outputOf(evidence, check.command, expected);
  if ('verdict' in read) return read.verdict;
  const { out } = read;
  const shown = firstLine(out.stdout);
  const observed = `exit ${out.exitCode}${shown ? `, output "${shown}"` : ', no output'}`;
  if (exitCode !== undefined && out.exitCode !== exitCode)
    return fails(
      expected,
      observed,
      `exited ${out.exitCode}, not ${exitCode}${out.stderr.trim() ? `: ${firstLine(out.stderr)}` : ''}`,
    );
  if (check.empty !== undefined && (out.stdout.trim() === '') !== check.empty)
    return fails(
      expected,
      observed,
      check.empty ? `printed ${out.stdout.trim().split('\n').length} line(s): ${shown}` : 'printed nothing',
    );
  if (check.output) {
    const v = judgePattern(expected, 'the output', out.stdout, check.output.pattern, check.output.expect);
    return { ...v, observed };
  }
  return passes(expected, observed, wants.join(', '));
}
