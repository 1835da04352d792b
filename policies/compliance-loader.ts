/**
 * Reads compliance profiles (policies/compliance/*.yaml). A bad file is
 * refused with errors that name the file, the line and column, and the field;
 * nothing half-loaded is returned. Profile names are unique in a folder, and
 * so are rule ids (a finding is keyed by host, profile and rule id).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { ComplianceProfile, ComplianceRule, ComplianceScope } from '../domain/compliance';
import { parseMatcher } from '../domain/label-matcher';
import { profileFileSchema, type ProfileFile } from './compliance-schema';
import { formatIssues, parseYaml, unstorableIssue, zodIssues, type FileIssue } from './yaml-positions';

export class ComplianceProfileError extends Error {
  constructor(readonly issues: FileIssue[]) {
    super(formatIssues(issues));
  }
}

function fail(issues: FileIssue[]): never {
  throw new ComplianceProfileError(issues);
}

function scopeOf(scope: ProfileFile['scope']): ComplianceScope {
  return {
    ...(scope.roles ? { roles: scope.roles } : {}),
    ...(scope.zones ? { zones: scope.zones } : {}),
    ...(scope.labels ? { labels: scope.labels.map((m) => parseMatcher(m)!) } : {}),
  };
}

/** A field the format does not have is reported at that field, one issue each, not at the object that holds it. */
function eachUnknownKey(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'unrecognized_keys') return [issue];
  return issue.keys.map((key) => ({ ...issue, path: [...issue.path, key], message: 'is not a field of this format' }));
}

/** Read one profile file's text; throws ComplianceProfileError with every issue found. */
export function parseProfile(file: string, text: string): ComplianceProfile {
  const unstorable = unstorableIssue(file, text);
  if (unstorable) fail([unstorable]);
  const yaml = parseYaml(file, text);
  if ('issues' in yaml) fail(yaml.issues);
  const result = profileFileSchema.safeParse(yaml.doc.toJS());
  if (!result.success)
    fail(
      zodIssues(file, yaml, result.error.issues.flatMap(eachUnknownKey)).sort(
        (a, b) => a.line - b.line || a.column - b.column,
      ),
    );
  const p = result.data;
  const profileScope = scopeOf(p.scope);
  const rules = p.rules.map(
    ({ scope, fix, ...rule }) =>
      ({
        ...rule,
        // The schema's checks fit the domain's: a change to either that breaks this is a compile error.
        check: rule.check satisfies ComplianceRule['check'],
        fix: fix
          ? {
              ...(fix.ssh !== undefined ? { ssh: fix.ssh } : { action: fix.action! }),
              disruption: fix.disruption,
              drain: fix.drain,
            }
          : null,
        scopes: scope ? [profileScope, scopeOf(scope)] : [profileScope],
      }) as ComplianceRule,
  );
  return {
    name: p.name,
    version: p.version,
    digest: createHash('sha256').update(text).digest('hex').slice(0, 12),
    prefix: p.prefix,
    description: p.description,
    scope: profileScope,
    schedule: p.schedule ?? null,
    rules,
    file,
    source: text,
  };
}

/** The profile files of a folder (YAML), by file name in name order. */
export function readProfileFolder(dir: string): Map<string, string> {
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  return new Map(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/** Every profile of a set of files: each must load, and names and prefixes must be unique across them. */
export function parseProfileFolder(files: ReadonlyMap<string, string>): ComplianceProfile[] {
  const issues: FileIssue[] = [];
  const profiles: ComplianceProfile[] = [];
  for (const [file, text] of files) {
    try {
      profiles.push(parseProfile(file, text));
    } catch (err) {
      if (!(err instanceof ComplianceProfileError)) throw err;
      issues.push(...err.issues);
    }
  }
  if (issues.length > 0) fail(issues);
  const names = new Map<string, string>();
  const prefixes = new Map<string, string>();
  for (const p of profiles) {
    const sameName = names.get(p.name);
    if (sameName)
      issues.push({
        file: p.file,
        ...lineOf(p.source, 'name'),
        field: 'name',
        message: `"${p.name}" is already used by ${sameName}`,
      });
    const samePrefix = prefixes.get(p.prefix);
    if (samePrefix)
      issues.push({
        file: p.file,
        ...lineOf(p.source, 'prefix'),
        field: 'prefix',
        message: `"${p.prefix}" is already used by ${samePrefix}: rule ids would collide`,
      });
    names.set(p.name, p.file);
    prefixes.set(p.prefix, p.file);
  }
  if (issues.length > 0) fail(issues);
  return profiles;
}

/** Where a top-level key stands in a profile's text (line 1 when it cannot be found). */
function lineOf(text: string, key: string): { line: number; column: number } {
  const index = text.search(new RegExp(`^${key}:`, 'm'));
  return { line: index < 0 ? 1 : text.slice(0, index).split('\n').length, column: 1 };
}

/** The profiles of a folder (policies/compliance/ by default at the caller). */
export function loadProfiles(dir: string): ComplianceProfile[] {
  const files = readProfileFolder(dir);
  const last = parsedFolders.get(dir);
  if (last && sameFiles(last.files, files)) return [...last.profiles];
  const profiles = parseProfileFolder(files);
  parsedFolders.set(dir, { files, profiles });
  return [...profiles];
}

/**
 * The last parse of each folder, reused while its files' texts are the same: a scan reads the folder for
 * every host, and parsing a 200-rule profile takes ~90 ms of CPU (1,000 hosts: 90 s of a 130 s scan).
 * The files are still read each time, so an edited profile takes effect at the next host's scan.
 */
const parsedFolders = new Map<string, { files: ReadonlyMap<string, string>; profiles: ComplianceProfile[] }>();

function sameFiles(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, text] of a) if (b.get(name) !== text) return false;
  return true;
}

/** One rule of the loaded profiles by its id, with its profile. */
export function findRule(
  profiles: readonly ComplianceProfile[],
  ruleId: string,
): { profile: ComplianceProfile; rule: ComplianceRule } | null {
  for (const profile of profiles) {
    const rule = profile.rules.find((r) => r.id === ruleId);
    if (rule) return { profile, rule };
  }
  return null;
}
