/**
 * The compliance scan of one host: what its profiles need is planned
 * (domain `planHostScan`), read once (one SSH connection for every command,
 * the latest BMC snapshot), judged (domain `judgeProfile`) and recorded as
 * findings in one transaction (db `recordHostResults`).
 *
 * A host that cannot be read over SSH (no endpoint, no credentials, a wrong
 * host key, refused, timed out) is evidence too: every SSH rule is `error`
 * with the reason. It never fails the activity, so one host never fails a scan.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { recordHostResults } from '../db/compliance-findings';
import { allHostIds, findHost } from '../db/hosts';
import { findSshEndpoint } from '../db/ssh-endpoints';
import { findPinnedHostKey, recordFirstContactKey } from '../db/ssh-host-keys';
import {
  judgeProfile,
  planHostScan,
  redfishEvidenceFromReading,
  type CommandOutput,
  type ComplianceProfile,
  type HostEvidence,
  type HostFacts,
  type RedfishInput,
  type RuleResult,
  type SshEvidence,
} from '../domain/compliance';
import { FailureType } from '../domain/errors';
import { loadProfiles } from '../policies/compliance-loader';
import type { SshCredentials } from '../providers/ssh/credentials';
import { SshError, SshExecutor, type SshSession } from '../providers/ssh/session';

export interface ComplianceDeps {
  db: Pool;
  /** The SSH credentials file, resolved in the worker; empty: no host is read over SSH. */
  sshCredentials: SshCredentials;
  /** The folder of the compliance profiles, read at each scan (a profile edited takes effect at the next scan). */
  profilesDir: string;
  /** One connection per host per scan; injected so tests and the benchmark can count them. */
  sshExecutor?: SshExecutor;
  /** Each command's timeout (default 30 s). */
  commandTimeoutMs?: number;
}

export interface HostScanInput {
  host: string;
  /** Profile names; all profiles when absent. */
  profiles?: string[];
}

export type ResultCounts = Record<RuleResult['state'], number>;

export interface HostScanResult {
  host: string;
  /** false when the inventory does not know the host: nothing was read or recorded. */
  known: boolean;
  counts: ResultCounts;
  /** Why the host was not read over SSH, when it was not. */
  sshError?: string;
}

const emptyCounts = (): ResultCounts => ({ pass: 0, fail: 0, error: 0, 'not-applicable': 0 });

export function createComplianceActivities(deps: ComplianceDeps) {
  const executor = deps.sshExecutor ?? new SshExecutor();

  /** The profiles asked for; an unknown name is a scan input error, not a host's. */
  function profilesFor(names?: string[]): ComplianceProfile[] {
    const all = loadProfiles(deps.profilesDir);
    if (!names) return all;
    const unknown = names.filter((n) => !all.some((p) => p.name === n));
    if (unknown.length > 0)
      throw ApplicationFailure.nonRetryable(
        `no compliance profile named ${unknown.join(', ')} in ${deps.profilesDir}`,
        FailureType.UnknownProfile,
      );
    return all.filter((p) => names.includes(p.name));
  }

  async function readSsh(host: string, commands: string[]): Promise<SshEvidence> {
    const endpoint = await findSshEndpoint(deps.db, host);
    if (!endpoint) return { reachable: false, error: `${host} has no SSH endpoint in the inventory` };
    let access;
    try {
      access = deps.sshCredentials.resolve(endpoint.credentialsRef);
    } catch (err) {
      return { reachable: false, error: (err as Error).message };
    }
    const pinned = await findPinnedHostKey(deps.db, host);
    Context.current().heartbeat();
    try {
      return await executor.withSession(
        { host, address: endpoint.address, port: endpoint.port },
        access,
        {
          expected: pinned ? { fingerprint: pinned.fingerprint, keyType: pinned.keyType } : null,
          onFirstContact: (seen) => recordFirstContactKey(deps.db, { host, ...seen }),
        },
        async (session) => {
          const outputs: Record<string, CommandOutput> = {};
          // The session runs up to its limit at once; each output is keyed by its exact command.
          await Promise.all(
            commands.map(async (command) => {
              outputs[command] = await runOne(session, command);
              Context.current().heartbeat();
            }),
          );
          return { reachable: true as const, outputs };
        },
      );
    } catch (err) {
      if (err instanceof SshError) return { reachable: false, error: err.message };
      throw err;
    }
  }

  async function runOne(session: SshSession, command: string): Promise<CommandOutput> {
    try {
      const timeoutMs = deps.commandTimeoutMs ?? 30_000;
      const r = await session.run(command, { timeoutMs });
      if (r.exitCode === null)
        return {
          exitCode: null,
          stdout: r.stdout,
          stderr: r.stderr,
          truncated: r.truncated,
          error: r.signal ? `ended by signal ${r.signal}` : 'the channel closed without an exit status',
        };
      return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated };
    } catch (err) {
      // A command past its timeout or a channel that closed is that command's error; the rest still count.
      if (err instanceof SshError && (err.kind === 'command-timeout' || err.kind === 'closed'))
        return { exitCode: null, stdout: '', stderr: '', error: err.message };
      throw err;
    }
  }

  return {
    /** Every host of the inventory, for a scan of all. */
    async listScanHosts(): Promise<string[]> {
      return allHostIds(deps.db);
    },

    /** Scan one host against the profiles (all when none named) and record its findings. */
    async scanHostCompliance(input: HostScanInput): Promise<HostScanResult> {
      const profiles = profilesFor(input.profiles);
      const record = await findHost(deps.db, input.host);
      if (!record) return { host: input.host, known: false, counts: emptyCounts() };
      const facts: HostFacts = { host: record.id, roles: record.roles, zone: record.zone, labels: record.labels };
      const plan = planHostScan(profiles, facts);

      const ssh = plan.sshCommands.length > 0 ? await readSsh(input.host, plan.sshCommands) : undefined;
      const redfish: RedfishInput =
        record.snapshot.bmc && record.snapshot.readAt
          ? redfishEvidenceFromReading(record.snapshot.bmc, record.snapshot.readAt.toISOString())
          : { unread: 'no BMC reading yet' };
      const evidence: HostEvidence = { facts, ssh, redfish, openstack: { unread: 'not read by scans yet' } };

      const observations = profiles.flatMap((profile) => {
        const severity = new Map(profile.rules.map((r) => [r.id, r.severity]));
        return judgeProfile(profile, evidence).map((result) => ({
          profile: profile.name,
          severity: severity.get(result.ruleId)!,
          result,
        }));
      });
      await recordHostResults(deps.db, input.host, observations, new Date());

      const counts = emptyCounts();
      observations.forEach((o) => counts[o.result.state]++);
      return { host: input.host, known: true, counts, ...(ssh && !ssh.reachable ? { sshError: ssh.error } : {}) };
    },
  };
}

export type ComplianceActivities = ReturnType<typeof createComplianceActivities>;
