/**
 * The compliance fix's activities, for the guarded host workflow: read one
 * rule again on one host (the re-check before acting, and the rescan that
 * alone says a fix worked), mark the finding `fix-pending` while the fix is
 * under way, and run the rule's SSH fix on the host over its pinned
 * connection. What the fix printed and how it exited come back to the
 * workflow, which records them; an exit other than 0 is never "fixed".
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { hostCompliance, markFixPending } from '../db/compliance-findings';
import type { ComplianceTarget } from '../domain/compliance-drift';
import type { FindingState, ResultState } from '../domain/compliance-findings';
import type { RuleFix } from '../domain/compliance';
import { FailureType } from '../domain/errors';
import { loadProfiles } from '../policies/compliance-loader';
import type { SshCredentials } from '../providers/ssh/credentials';
import { SshError, SshExecutor } from '../providers/ssh/session';
import type { ComplianceActivities } from './compliance';
import { KeepAlive } from './keep-alive';
import { isUnreachable, withHostSession } from './ssh-access';

export interface ComplianceFixDeps {
  db: Pool;
  sshCredentials: SshCredentials;
  profilesDir: string;
  sshExecutor?: SshExecutor;
  /** The scan activity: a rescan of one rule is a scan of that rule. */
  scan: Pick<ComplianceActivities, 'scanHostCompliance'>;
  /** How long a fix command may run (default 10 min); coreutils `timeout` ends it on the host. */
  fixTimeoutMs?: number;
}

export interface RuleOnHost extends ComplianceTarget {
  host: string;
}

/** One rule on one host as a rescan leaves it. `missing`: the profile no longer has the rule (or the host is unknown). */
export interface RuleCheck {
  ruleId: string;
  state: FindingState | 'missing';
  /** The rescan's own result under the state (a `fix-pending` finding still fails, say); null when missing. */
  result: ResultState | null;
  title: string;
  expected: string;
  observed: string;
  reason: string;
  fix: RuleFix | null;
}

/** What a fix command did on the host. Output is the last 2,000 characters of each stream. */
export interface FixRun {
  command: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

const TAIL = 2000;
const tail = (s: string) => (s.length > TAIL ? `…${s.slice(-TAIL)}` : s);

export function createComplianceFixActivities(deps: ComplianceFixDeps) {
  const executor = deps.sshExecutor ?? new SshExecutor();

  /** The profile as the folder has it now (a profile edited since the scan counts). */
  function profileOf(name: string) {
    const profile = loadProfiles(deps.profilesDir).find((p) => p.name === name);
    if (!profile)
      throw ApplicationFailure.nonRetryable(
        `no compliance profile named ${name} in ${deps.profilesDir}`,
        FailureType.UnknownProfile,
      );
    return profile;
  }

  function ruleOf(target: ComplianceTarget) {
    return profileOf(target.profile).rules.find((r) => r.id === target.ruleId) ?? null;
  }

  return {
    /**
     * Read rules of one profile on the host again (those named, or every rule of the profile) and record
     * them; a pass clears a fix under way and resolves its drift. One SSH connection, one transaction.
     */
    async recheckComplianceRules(input: { host: string; profile: string; ruleIds?: string[] }): Promise<RuleCheck[]> {
      const profile = profileOf(input.profile);
      const ids = input.ruleIds ?? profile.rules.map((r) => r.id);
      const missing = (ruleId: string, reason: string): RuleCheck => ({
        ruleId,
        state: 'missing',
        result: null,
        title: ruleId,
        expected: '',
        observed: '',
        reason,
        fix: null,
      });
      const present = ids.filter((id) => profile.rules.some((r) => r.id === id));
      const scanned =
        present.length > 0
          ? await deps.scan.scanHostCompliance({
              host: input.host,
              profiles: [input.profile],
              rules: present,
              raiseDrift: false,
            })
          : null;
      const { findings } = await hostCompliance(deps.db, input.host);
      return ids.map((ruleId) => {
        const rule = profile.rules.find((r) => r.id === ruleId);
        if (!rule) return missing(ruleId, `profile ${input.profile} has no rule ${ruleId} any more`);
        if (!scanned?.known) return missing(ruleId, `${input.host} is not in the inventory`);
        const f = findings.find((x) => x.profile === input.profile && x.ruleId === ruleId);
        if (!f) return missing(ruleId, `no finding recorded for ${ruleId} on ${input.host}`);
        return {
          ruleId,
          state: f.state,
          result: f.resultState,
          title: rule.title,
          expected: f.expected,
          observed: f.observed,
          reason: f.reason,
          fix: rule.fix,
        };
      });
    },

    /** Set (remediation id) or clear (null) the fix under way on the finding. */
    async markComplianceFix(input: RuleOnHost & { remediationId: string | null }): Promise<FindingState | null> {
      const j = await markFixPending(deps.db, input, input.remediationId, new Date());
      return j?.finding.state ?? null;
    },

    /**
     * Run the rule's SSH fix on the host, over one pinned connection. A host
     * that cannot be reached fails the activity (retried, then the workflow
     * hands the host to a person); the command's own exit is the answer.
     * Retried at most once after a lost worker: fix commands must be idempotent
     * (docs/compliance.md says so).
     */
    async applyComplianceFix(input: RuleOnHost & { remediationId: string }): Promise<FixRun> {
      const rule = ruleOf(input);
      const fix = rule?.fix;
      if (!fix || !('ssh' in fix))
        throw ApplicationFailure.nonRetryable(
          `rule ${input.ruleId} of profile ${input.profile} has no SSH fix any more`,
          FailureType.UnknownProfile,
        );
      const keepAlive = new KeepAlive({ rule: input.ruleId, issued: true });
      const ran = await keepAlive.around(() =>
        withHostSession({ db: deps.db, sshCredentials: deps.sshCredentials, executor }, input.host, async (session) => {
          const timeoutMs = deps.fixTimeoutMs ?? 600_000;
          try {
            return await session.run(fix.ssh, { timeoutMs });
          } catch (err) {
            // Ended on the host by its timeout: the fix's own failure, not a reason to run it again.
            if (err instanceof SshError && err.kind === 'command-timeout')
              return { exitCode: null, signal: null, stdout: '', stderr: err.message, truncated: false };
            throw err;
          }
        }),
      );
      if (isUnreachable(ran))
        throw ApplicationFailure.retryable(
          `the fix could not reach ${input.host}: ${ran.unreachable}`,
          'HostUnreachable',
        );
      return {
        command: fix.ssh,
        exitCode: ran.exitCode,
        stdout: tail(ran.stdout),
        stderr: tail(ran.stderr),
        truncated: ran.truncated || ran.stdout.length > TAIL || ran.stderr.length > TAIL,
      };
    },
  };
}

export type ComplianceFixActivities = ReturnType<typeof createComplianceFixActivities>;
