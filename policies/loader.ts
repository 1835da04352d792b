/**
 * Reads every policy file under a folder. A bad file stops the load with an
 * error that names the file and the field; nothing half-loaded is returned.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { RemediationPolicy } from '../domain/remediation';
import type { MatchablePolicy } from '../domain/policy-match';
import { policyFileSchema } from './schema';

export class PolicyError extends Error {}

export interface LoadedPolicy extends MatchablePolicy {
  file: string;
  policy: RemediationPolicy;
}

export function parsePolicy(file: string, text: string): LoadedPolicy {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new PolicyError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  const result = policyFileSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new PolicyError(`${file}: ${issues.join('; ')}`);
  }
  const p = result.data;
  const version = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return {
    file,
    name: p.name,
    signals: p.match.signals,
    policy: { name: p.name, version, approval: p.approval, drain: p.drain, repair: p.repair, guards: p.guards, verify: p.verify },
  };
}

export function loadPolicies(dir: string): LoadedPolicy[] {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && !/^guards\.ya?ml$/.test(f)).sort();
  const policies = files.map((f) => parsePolicy(f, readFileSync(join(dir, f), 'utf8')));
  const seen = new Map<string, string>();
  for (const p of policies) {
    const other = seen.get(p.name);
    if (other) throw new PolicyError(`${p.file}: name: "${p.name}" is already used by ${other}`);
    seen.set(p.name, p.file);
  }
  return policies;
}
