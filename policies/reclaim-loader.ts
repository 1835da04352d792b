/**
 * Reads reclaim rules (policies/reclaim/*.yaml). A bad file is refused with
 * errors that name the file, the line and column, and the field; nothing
 * half-loaded is returned. Rule names are unique in a folder: a resource's
 * reclaim is keyed by rule and resource, so one rule's mark never clears
 * another's (cloud-custodian #419).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReclaimCheck, ReclaimRule } from '../domain/reclaim';
import { reclaimRuleSchema } from './reclaim-schema';
import { formatIssues, parseYaml, unstorableIssue, zodIssues, type FileIssue } from './yaml-positions';

export class ReclaimRuleError extends Error {
  constructor(readonly issues: FileIssue[]) {
    super(formatIssues(issues));
  }
}

/** Read one rule file's text; throws ReclaimRuleError with every issue found. */
export function parseReclaimRule(file: string, text: string): ReclaimRule {
  const unstorable = unstorableIssue(file, text);
  if (unstorable) throw new ReclaimRuleError([unstorable]);
  const yaml = parseYaml(file, text);
  if ('issues' in yaml) throw new ReclaimRuleError(yaml.issues);
  const result = reclaimRuleSchema.safeParse(yaml.doc.toJS());
  if (!result.success)
    throw new ReclaimRuleError(
      zodIssues(file, yaml, result.error.issues).sort((a, b) => a.line - b.line || a.column - b.column),
    );
  const r = result.data;
  const check: ReclaimCheck =
    r.check.type === 'server-idle'
      ? { type: 'server-idle', query: r.check.query, below: r.check.below, windowMs: r.check.window }
      : r.check.type === 'server-stopped'
        ? { type: 'server-stopped', states: r.check.states, olderThanMs: r.check.olderThan }
        : { type: r.check.type, olderThanMs: r.check.olderThan };
  return {
    name: r.name,
    version: `${r.version}+${createHash('sha256').update(text).digest('hex').slice(0, 12)}`,
    description: r.description,
    severity: r.severity,
    check,
    scope: r.scope,
    lifecycle: {
      action: r.lifecycle.action,
      snapshotFirst: r.lifecycle.snapshotFirst,
      graceMs: r.lifecycle.grace,
      remindBeforeMs: r.lifecycle.remindBefore,
      restoreWindowMs: r.lifecycle.restoreWindow,
      maxExtensionMs: r.lifecycle.maxExtension,
    },
    dryRun: r.dryRun,
    file,
  };
}

/** Every rule of a set of files (name → text): each must load, and names must be unique. */
export function parseReclaimFolder(files: ReadonlyMap<string, string>): ReclaimRule[] {
  const issues: FileIssue[] = [];
  const rules: ReclaimRule[] = [];
  for (const [file, text] of files) {
    try {
      rules.push(parseReclaimRule(file, text));
    } catch (err) {
      if (!(err instanceof ReclaimRuleError)) throw err;
      issues.push(...err.issues);
    }
  }
  const seen = new Map<string, string>();
  for (const r of rules) {
    const other = seen.get(r.name);
    if (other)
      issues.push({
        file: r.file,
        line: 1,
        column: 1,
        field: 'name',
        message: `"${r.name}" is already used by ${other}`,
      });
    seen.set(r.name, r.file);
  }
  if (issues.length > 0) throw new ReclaimRuleError(issues);
  return rules;
}

/** The rules of a folder, by file name order. */
export function loadReclaimRules(dir: string): ReclaimRule[] {
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  return parseReclaimFolder(new Map(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')])));
}
