/**
 * The compliance scan of one host: what its profiles need is planned
 * (domain `planHostScan`), read once (one SSH connection for every command;
 * the BMC's latest snapshot, or the BMC itself when the snapshot cannot
 * answer; the cloud's compute facts, read once for the whole fleet), judged
 * (domain `judgeProfile`) and recorded as findings in one transaction
 * (db `recordHostResults`).
 *
 * A host that cannot be read over SSH (no endpoint, no credentials, a wrong
 * host key, refused, timed out), a BMC that cannot be read, or a cloud that
 * does not answer is evidence too: every rule of that kind is `error` with
 * the reason. It never fails the activity, so one host never fails a scan.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { recordHostResults } from '../db/compliance-findings';
import { allHostIds, bmcEndpointsOf, findHost, type HostRecord } from '../db/hosts';
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
import {
  hypervisorVersionsOf,
  liveRedfishReason,
  openstackEvidenceFor,
  type OpenStackInput,
  type RedfishField,
} from '../domain/compliance-platform';
import { FailureType } from '../domain/errors';
import type { ComputeFleetFacts, FleetProvider } from '../domain/provider';
import { COMPLIANCE_DRIFT_SIGNAL, COMPLIANCE_SOURCE, driftSignals, ruleKey } from '../domain/compliance-drift';
import { loadProfiles } from '../policies/compliance-loader';
import { BmcError, type BmcConnector } from '../providers/bmc';
import type { SshCredentials } from '../providers/ssh/credentials';
import { SshError, SshExecutor, type SshSession } from '../providers/ssh/session';
import { isUnreachable, withHostSession } from './ssh-access';

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
  /** How BMCs are reached for a live read (credentials resolved in the worker); none: rules of kind `redfish` judge the snapshot only. */
  bmc?: BmcConnector;
  /** The cloud, for rules of kind `openstack`; none: they are `error`. */
  provider?: FleetProvider;
  /** A BMC snapshot older than this is not judged: the BMC is read live (default 1 h). */
  redfishSnapshotMaxAgeMs?: number;
  /** The longest a live BMC read may take (default 30 s). */
  bmcReadDeadlineMs?: number;
  /** How long one reading of the cloud's compute facts serves the hosts of a scan (default 30 s). */
  openstackFactsTtlMs?: number;
}

export interface HostScanInput {
  host: string;
  /** Profile names; all profiles when absent. */
  profiles?: string[];
  /** Only these rule ids are read, judged and recorded (a fix's rescan of its rule); all when absent. */
  rules?: string[];
  /** Raise a drift signal for each failing rule that has a fix (default true; a fix's own rescan does not). */
  raiseDrift?: boolean;
}

export type ResultCounts = Record<RuleResult['state'], number>;

export interface HostScanResult {
  host: string;
  /** false when the inventory does not know the host: nothing was read or recorded. */
  known: boolean;
  counts: ResultCounts;
  /** Why the host was not read over SSH, when it was not. */
  sshError?: string;
  /** Why the host's BMC was not read, when its rules needed it and it was not. */
  bmcError?: string;
  /** Why the cloud was not read, when the host's rules needed it and it was not. */
  openstackError?: string;
}

const emptyCounts = (): ResultCounts => ({ pass: 0, fail: 0, error: 0, 'not-applicable': 0 });

export function createComplianceActivities(deps: ComplianceDeps) {
  const executor = deps.sshExecutor ?? new SshExecutor();
  const computeFleet = cachedComputeFleet(deps.provider, deps.openstackFactsTtlMs ?? 30_000);

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
    const read = await withHostSession(
      { db: deps.db, sshCredentials: deps.sshCredentials, executor },
      host,
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
    return isUnreachable(read) ? { reachable: false, error: read.unreachable } : read;
  }

  /**
   * The BMC evidence: the sweep's snapshot when it carries every field the rules need and is fresh enough,
   * else the BMC read live (only those fields). A BMC that cannot be read is the reason every rule of kind
   * `redfish` gives as `error`; credentials are resolved by the connector, here in the worker.
   */
  async function readRedfish(record: HostRecord, fields: RedfishField[]): Promise<RedfishInput> {
    const { bmc, readAt } = record.snapshot;
    const now = new Date();
    const live = liveRedfishReason(fields, bmc ? readAt : null, now, deps.redfishSnapshotMaxAgeMs ?? 3_600_000);
    if (!live) {
      return bmc && readAt ? redfishEvidenceFromReading(bmc, readAt.toISOString()) : { unread: 'no BMC reading yet' };
    }
    if (!deps.bmc) return { unread: `a live read is needed (${live}) and this worker reaches no BMCs` };
    const endpoint = (await bmcEndpointsOf(deps.db, [record.id])).get(record.id) ?? null;
    if (!endpoint) return { unread: `${record.id} has no BMC endpoint in the inventory` };
    const deadlineMs = deps.bmcReadDeadlineMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const client = deps.bmc(record.id, endpoint);
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new BmcError('unreachable', `reading took longer than ${deadlineMs / 1000}s`)),
          deadlineMs,
        );
      });
      const settings = await Promise.race([client.readSettings(fields), deadline]);
      return { source: 'live', readAt: new Date().toISOString(), ...settings };
    } catch (err) {
      // Unreachable, refused, wrong credentials, garbage in the system resource: the host's redfish rules say why.
      return { unread: err instanceof BmcError ? err.message : `the BMC read failed: ${(err as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  async function readOpenStack(host: string): Promise<OpenStackInput> {
    const fleet = await computeFleet();
    if ('unread' in fleet) return fleet;
    return openstackEvidenceFor(fleet.facts, host, fleet.versions);
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
      const only = input.rules;
      const profiles = profilesFor(input.profiles).map((p) =>
        only ? { ...p, rules: p.rules.filter((r) => only.includes(r.id)) } : p,
      );
      const record = await findHost(deps.db, input.host);
      if (!record) return { host: input.host, known: false, counts: emptyCounts() };
      const facts: HostFacts = { host: record.id, roles: record.roles, zone: record.zone, labels: record.labels };
      const plan = planHostScan(profiles, facts);

      // The three kinds are read at once: SSH, the BMC and the cloud are different machines. A slow BMC or
      // cloud answers within its own deadline; the heartbeat says the activity is alive meanwhile.
      const ticker = setInterval(() => Context.current().heartbeat(), 10_000);
      const [ssh, redfish, openstack] = await Promise.all([
        plan.sshCommands.length > 0 ? readSsh(input.host, plan.sshCommands) : undefined,
        plan.redfishFields.length > 0 ? readRedfish(record, plan.redfishFields) : undefined,
        plan.openstackFields.length > 0 ? readOpenStack(input.host) : undefined,
      ]).finally(() => clearInterval(ticker));
      Context.current().heartbeat();
      const evidence: HostEvidence = { facts, ssh, redfish, openstack };

      const observations = profiles.flatMap((profile) => {
        const severity = new Map(profile.rules.map((r) => [r.id, r.severity]));
        return judgeProfile(profile, evidence).map((result) => ({
          profile: profile.name,
          severity: severity.get(result.ruleId)!,
          result,
        }));
      });
      const rules = new Map(profiles.flatMap((p) => p.rules.map((r) => [ruleKey(p.name, r.id), r] as const)));
      const raise = input.raiseDrift ?? true;
      await recordHostResults(deps.db, input.host, observations, new Date(), {
        // Drift raises firing signals only from a scan; a fix's rescan may still resolve one.
        signalsFor: (judgements) =>
          driftSignals(judgements, rules)
            .filter((d) => raise || d.status === 'resolved')
            .map((d) => ({
              ...d,
              id: randomUUID(),
              source: COMPLIANCE_SOURCE,
              name: COMPLIANCE_DRIFT_SIGNAL,
              receivedBy: COMPLIANCE_SOURCE,
              reason: 'raised by a compliance scan; the redispatcher delivers it',
            })),
      });

      const counts = emptyCounts();
      observations.forEach((o) => counts[o.result.state]++);
      return {
        host: input.host,
        known: true,
        counts,
        ...(ssh && !ssh.reachable ? { sshError: ssh.error } : {}),
        ...(redfish && 'unread' in redfish ? { bmcError: redfish.unread } : {}),
        ...(openstack && 'unread' in openstack ? { openstackError: openstack.unread } : {}),
      };
    },
  };
}

export type ComplianceActivities = ReturnType<typeof createComplianceActivities>;

type FleetReading = { facts: ComputeFleetFacts; versions: Record<string, string> } | { unread: string };

/**
 * One reading of the cloud's compute facts shared by every host scanned within `ttlMs` in this worker (and by
 * hosts asking at once: one request in flight). A scan of 1,000 hosts in batches of 16 asks the cloud about once
 * per `ttlMs`, not 1,000 times. A failed reading is kept as long, so a cloud that is down is not asked per host.
 */
function cachedComputeFleet(provider: FleetProvider | undefined, ttlMs: number): () => Promise<FleetReading> {
  let cached: { at: number; reading: Promise<FleetReading> } | null = null;
  return () => {
    if (!provider) return Promise.resolve({ unread: 'this worker has no fleet provider' });
    const now = Date.now();
    if (cached && now - cached.at < ttlMs) return cached.reading;
    const reading = provider.readComputeFleet().then(
      (facts): FleetReading => ({ facts, versions: hypervisorVersionsOf(facts) }),
      (err: unknown): FleetReading => ({
        unread: `the ${provider.name} cloud was not read: ${(err as Error).message}`,
      }),
    );
    cached = { at: now, reading };
    return reading;
  };
}
