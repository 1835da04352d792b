/**
 * Reads policy files. A bad file is refused with errors that name the file,
 * the line and column, and the field; nothing half-loaded is returned.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMatcher } from '../domain/label-matcher';
import type { PolicyMatch } from '../domain/policy';
import { stepRefusal } from '../domain/provider';
import { REPAIR_ACTIONS, type RemediationPolicy, type RepairAction } from '../domain/remediation';
import { policyFileSchema } from './schema';
import { formatIssues, parseYaml, positionOf, unstorableIssue, zodIssues, type FileIssue } from './yaml-positions';

export type PolicyIssue = FileIssue;

export class PolicyError extends Error {
  constructor(
    message: string,
    readonly issues: PolicyIssue[] = [],
  ) {
    super(message);
  }
}

export interface LoadedPolicy {
  file: string;
  name: string;
  match: PolicyMatch;
  policy: RemediationPolicy;
  /** The file's text, as stored with its version. */
  source: string;
  priority: number;
}

/** Match order: higher priority first, then file name. */
export function inMatchOrder(policies: LoadedPolicy[]): LoadedPolicy[] {
  return [...policies].sort((a, b) => b.priority - a.priority || a.file.localeCompare(b.file));
}

function fail(file: string, issues: PolicyIssue[]): never {
  throw new PolicyError(formatIssues(issues), issues);
}

export interface LoadOptions {
  /** The fleet provider in use (`SHIPSHAPE_PROVIDER`): a step it cannot take is refused. */
  provider?: string;
}

export function parsePolicy(file: string, text: string, options: LoadOptions = {}): LoadedPolicy {
  refuseUnstorable(file, text);
  const yaml = parseYaml(file, text);
  if ('issues' in yaml) fail(file, yaml.issues);
  const result = policyFileSchema.safeParse(yaml.doc.toJS());
  if (!result.success) fail(file, zodIssues(file, yaml, result.error.issues));
  const p = result.data;
  const refused = p.steps.flatMap((step, i) => {
    const why = options.provider ? stepRefusal(options.provider, step.action) : null;
    return why ? [{ file, ...positionOf(yaml, ['steps', i, 'action']), field: `steps.${i}.action`, message: why }] : [];
  });
  if (refused.length > 0) fail(file, refused);
  const version = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const repairs = p.steps
    .map((s) => s.action)
    .filter((a): a is RepairAction => (REPAIR_ACTIONS as readonly string[]).includes(a));
  return {
    file,
    name: p.name,
    source: text,
    priority: p.priority,
    match: {
      signals: p.match.signals,
      labels: p.match.labels.map((m) => parseMatcher(m)!),
      severities: p.match.severity ?? null,
      roles: p.match.roles ?? null,
      zones: p.match.zones ?? null,
    },
    policy: {
      name: p.name,
      version,
      approval: { required: p.approval.mode === 'always', timeoutSeconds: p.approval.timeoutSeconds, rule: p.approval },
      confirm: p.confirm,
      drain: p.drain,
      repair: repairs,
      ladder: p.steps,
      guards: p.guards,
      verify: p.verify,
    },
  };
}

/** The file's text is stored with its version: a character PostgreSQL cannot keep is refused where it stands. */
function refuseUnstorable(file: string, text: string): void {
  const issue = unstorableIssue(file, text);
  if (issue) fail(file, [issue]);
}

/** A policy file of the folder: YAML, and not guards.yaml (the fleet-wide guards file). */
export function isPolicyFile(file: string): boolean {
  return /\.ya?ml$/.test(file) && !/^guards\.ya?ml$/.test(file);
}

/** The policy files of a folder and their text, by file name in name order. */
export function readPolicyFolder(dir: string): Map<string, string> {
  const files = readdirSync(dir).filter(isPolicyFile).sort();
  return new Map(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/** Every policy of a folder's files, as one set: each file must load and the names must be unique. */
export function parsePolicyFolder(files: ReadonlyMap<string, string>, options: LoadOptions = {}): LoadedPolicy[] {
  const policies = [...files].map(([file, text]) => parsePolicy(file, text, options));
  assertUniqueNames(policies);
  return inMatchOrder(policies);
}

/** Every policy file of a folder (guards.yaml is the guards file, not a policy). */
export function loadPolicies(dir: string, options: LoadOptions = {}): LoadedPolicy[] {
  return parsePolicyFolder(readPolicyFolder(dir), options);
}

export function assertUniqueNames(policies: readonly LoadedPolicy[]): void {
  const seen = new Map<string, string>();
  for (const p of policies) {
    const other = seen.get(p.name);
    if (other)
      fail(p.file, [
        { file: p.file, line: 1, column: 1, field: 'name', message: `"${p.name}" is already used by ${other}` },
      ]);
    seen.set(p.name, p.file);
  }
}
