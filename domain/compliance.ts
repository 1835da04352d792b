/**
 * Compliance rules as code: the vocabulary shared by scans, findings and
 * waivers, the shape of a rule and a profile (read from YAML by
 * policies/compliance-loader.ts), and the pure judgement of a rule from what
 * a scanner read. A scanner asks `evidenceNeeded(rule)` what to read, reads
 * it (one SSH connection per host for all its commands), and hands the
 * evidence to `judgeRule`. No I/O here.
 */
import { labelMatches, type LabelMatcher } from './label-matcher';
import type { HostRole, Severity } from './types';
import type { RepairAction } from './remediation';
import { judgeSsh, sshCommands, type SshCheck, type SshEvidence } from './compliance-ssh';
import {
  judgeOpenStack,
  judgeRedfish,
  openstackFields,
  redfishFields,
  type OpenStackCheck,
  type OpenStackField,
  type OpenStackInput,
  type RedfishCheck,
  type RedfishField,
  type RedfishInput,
} from './compliance-platform';

export type { SshCheck, SshEvidence, CommandOutput } from './compliance-ssh';
export { shellQuote } from './compliance-ssh';
export type {
  OpenStackCheck,
  OpenStackEvidence,
  OpenStackInput,
  RedfishCheck,
  RedfishEvidence,
  RedfishInput,
} from './compliance-platform';
export { mostCommonVersion, redfishEvidenceFromReading } from './compliance-platform';

export const RULE_KINDS = ['ssh', 'redfish', 'openstack'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const FINDING_STATES = ['pass', 'fail', 'error', 'not-applicable', 'waived', 'fix-pending'] as const;
export type FindingState = (typeof FINDING_STATES)[number];
export const DISRUPTIONS = ['none', 'service-restart', 'reboot'] as const;
export type Disruption = (typeof DISRUPTIONS)[number];
/** The judgement of one rule on one host, from evidence (pure; B). */
export interface RuleResult {
  ruleId: string;
  state: 'pass' | 'fail' | 'error' | 'not-applicable';
  expected: string;
  observed: string;
  reason: string;
}

/** Which hosts a profile (or one of its rules) applies to: every field given must hold. */
export interface ComplianceScope {
  roles?: HostRole[];
  zones?: string[];
  /** Alertmanager-style matchers on the host's labels (a missing label is the empty string). */
  labels?: LabelMatcher[];
}

/** What a scope is tested against. */
export interface HostFacts {
  host: string;
  roles: HostRole[];
  zone: string | null;
  labels: Readonly<Record<string, string>>;
}

/** How a fix is applied: an SSH command, or a catalog action of the guarded host workflow. */
export type RuleFix = ({ ssh: string } | { action: RepairAction }) & {
  disruption: Disruption;
  /** Drain the host's servers before the fix. */
  drain: boolean;
};

interface RuleBase {
  /** `<profile prefix>.<kebab name>`, e.g. `os.ssh-root-login-off`. */
  id: string;
  title: string;
  severity: Severity;
  rationale: string;
  fix: RuleFix | null;
  /** The profile's scope, then the rule's own: the host must be in all of them. */
  scopes: ComplianceScope[];
}
export type SshRule = RuleBase & { kind: 'ssh'; check: SshCheck };
export type RedfishRule = RuleBase & { kind: 'redfish'; check: RedfishCheck };
export type OpenStackRule = RuleBase & { kind: 'openstack'; check: OpenStackCheck };
export type ComplianceRule = SshRule | RedfishRule | OpenStackRule;

export type ProfileSchedule = { cron: string } | { everyMinutes: number };

export interface ComplianceProfile {
  name: string;
  /** The author's version of the profile, as written in the file. */
  version: string;
  /** sha256 of the file's text (12 hex): which text a finding was judged by. */
  digest: string;
  prefix: string;
  description: string;
  scope: ComplianceScope;
  schedule: ProfileSchedule | null;
  rules: ComplianceRule[];
  file: string;
  source: string;
}

/** Everything read from one host for a scan. A kind that was not read is absent: its rules are `error`. */
export interface HostEvidence {
  facts: HostFacts;
  ssh?: SshEvidence;
  redfish?: RedfishInput;
  openstack?: OpenStackInput;
}

/** What a scanner must read for a rule: the exact SSH commands, or the fields of a BMC or cloud reading. */
export type EvidenceNeed =
  | { kind: 'ssh'; commands: string[] }
  | { kind: 'redfish'; fields: RedfishField[] }
  | { kind: 'openstack'; fields: OpenStackField[] };

export function evidenceNeeded(rule: ComplianceRule): EvidenceNeed {
  switch (rule.kind) {
    case 'ssh':
      return { kind: 'ssh', commands: sshCommands(rule.check) };
    case 'redfish':
      return { kind: 'redfish', fields: redfishFields(rule.check) };
    case 'openstack':
      return { kind: 'openstack', fields: openstackFields(rule.check) };
  }
}

/** Every SSH command the rules need, each once, in first-use order: what one connection runs for a host. */
export function sshCommandsFor(rules: readonly ComplianceRule[]): string[] {
  const commands = new Set<string>();
  for (const rule of rules) {
    const need = evidenceNeeded(rule);
    if (need.kind === 'ssh') need.commands.forEach((c) => commands.add(c));
  }
  return [...commands];
}

/** Why the host is outside the scope, or null when it is inside. */
export function outOfScope(scope: ComplianceScope, host: HostFacts): string | null {
  if (scope.roles && !scope.roles.some((r) => host.roles.includes(r)))
    return `the host's roles (${host.roles.join(', ') || 'none'}) are not ${scope.roles.join(' or ')}`;
  if (scope.zones && (host.zone === null || !scope.zones.includes(host.zone)))
    return `the host's zone (${host.zone ?? 'none'}) is not ${scope.zones.join(' or ')}`;
  for (const m of scope.labels ?? []) {
    if (!labelMatches(m, host.labels as Record<string, string>))
      return `the host's labels do not match ${m.name}${m.op}"${m.value}"`;
  }
  return null;
}

/** The rules of a profile that apply to a host (its scope and each rule's). */
export function rulesInScope(profile: ComplianceProfile, host: HostFacts): ComplianceRule[] {
  return profile.rules.filter((r) => r.scopes.every((s) => outOfScope(s, host) === null));
}

/**
 * The judgement of one rule on one host:
 * - `not-applicable` when a scope (the profile's or the rule's) excludes the host;
 * - `error` when the evidence cannot decide: the host or its BMC or cloud not read, a command missing, not
 *   finished, cut at the size cap, not found, or output that is not what the check reads — the reason names it;
 * - otherwise `pass` or `fail`, with what was expected, what was observed, and why.
 */
export function judgeRule(rule: ComplianceRule, evidence: HostEvidence): RuleResult {
  for (const scope of rule.scopes) {
    const why = outOfScope(scope, evidence.facts);
    if (why) return { ruleId: rule.id, state: 'not-applicable', expected: '', observed: '', reason: why };
  }
  switch (rule.kind) {
    case 'ssh':
      return {
        ruleId: rule.id,
        ...judgeSsh(rule.check, evidence.ssh ?? { reachable: false, error: 'no SSH reading in the evidence' }),
      };
    case 'redfish':
      return { ruleId: rule.id, ...judgeRedfish(rule.check, evidence.redfish) };
    case 'openstack':
      return { ruleId: rule.id, ...judgeOpenStack(rule.check, evidence.openstack) };
  }
}

/** What one host's scan of some profiles must read: the SSH commands (one connection), and the BMC and cloud fields. */
export interface HostScanPlan {
  rules: { profile: string; rule: ComplianceRule }[];
  sshCommands: string[];
  redfishFields: RedfishField[];
  openstackFields: OpenStackField[];
}

/** The reads a host's scan needs: only rules in scope count, so a host outside a profile is not contacted for it. */
export function planHostScan(profiles: readonly ComplianceProfile[], host: HostFacts): HostScanPlan {
  const rules = profiles.flatMap((p) => rulesInScope(p, host).map((rule) => ({ profile: p.name, rule })));
  const redfish = new Set<RedfishField>();
  const openstack = new Set<OpenStackField>();
  for (const { rule } of rules) {
    const need = evidenceNeeded(rule);
    if (need.kind === 'redfish') need.fields.forEach((f) => redfish.add(f));
    if (need.kind === 'openstack') need.fields.forEach((f) => openstack.add(f));
  }
  return {
    rules,
    sshCommands: sshCommandsFor(rules.map((r) => r.rule)),
    redfishFields: [...redfish],
    openstackFields: [...openstack],
  };
}

/** Every rule of a profile judged on one host, those out of scope as `not-applicable`, in the profile's order. */
export function judgeProfile(profile: ComplianceProfile, evidence: HostEvidence): RuleResult[] {
  return profile.rules.map((rule) => judgeRule(rule, evidence));
}
