/**
 * Typed stub activities for the fast workflow tests: every activity the
 * remediation workflow can call, over one small in-memory host. Each stub
 * records its call; the host keeps the few rules of Nova the workflow relies
 * on (a forced-down service reads down; Nova lifts a fence only once the
 * host's nova-compute has restarted after an evacuation), and refuses a
 * disruptive action on a host a person has taken over, as the real activities
 * do (domain/health.ts `personOverride`). A test sets what
 * each repair does, which live migrations fail, what the guards answer, and
 * may hold one call until it has acted (`hold`), to reach a phase exactly.
 */
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { FleetActivities as RemediationActivities } from '../../../activities';
import type { AuditEntry } from '../../../domain/audit';
import type { RuleFix } from '../../../domain/compliance';
import { FailureType } from '../../../domain/errors';
import { personOverride } from '../../../domain/health';
import { DISABLE_REASON_PREFIX, type RemediationView } from '../../../domain/remediation';
import type { HostState, ServerRef } from '../../../domain/types';

export type ActivityName = keyof RemediationActivities;
type Args<K extends ActivityName> = Parameters<RemediationActivities[K]>;
type CapacityAnswer = Awaited<ReturnType<RemediationActivities['acquireCapacity']>>;
type Notification = Args<'notifyOperator'>[0];
type Progress = Args<'recordProgress'>[0];

export type Repair = 'power-cycle' | 'reboot' | 'restart-compute-service';
/** What a repair does to the host: makes it healthy (after `bootSeconds`), leaves it as it is, or fails outright. */
export type RepairEffect = 'fixes' | 'no-change' | 'fails';

export interface StubHost {
  name: string;
  power: 'on' | 'off';
  /** nova-compute runs on the host and reports to Nova. */
  serviceRunning: boolean;
  /** A hardware fault the BMC reports; the host still runs. */
  fault: string | null;
  enabled: boolean;
  disabledReason: string | null;
  /** Nova's forced_down: Shipshape's fence. */
  fenced: boolean;
  servers: string[];
  /** Nova keeps evacuation records until the host's nova-compute restarts, and refuses to lift the fence before. */
  evacuatedSinceRestart: boolean;
  /** The BMC's own health rollup and why (what the `bmc-health` check reads). */
  bmc: { health: 'ok' | 'warning' | 'critical'; reasons: string[] };
}

/** A compliance rule on the stub host: what a rescan reads, its fix, and what running the fix does. */
export interface StubRule {
  result: 'pass' | 'fail' | 'error';
  fix: RuleFix | null;
  fixEffect: 'fixes' | 'no-change' | 'exits-1';
}

export interface Call {
  name: ActivityName;
  args: unknown[];
  /** Server time of the call, in ms. */
  at: number;
  /** Set when the stub has answered: whether it returned or threw. */
  outcome?: 'ok' | 'failed';
}

interface Hold {
  name: ActivityName;
  when: (args: unknown[]) => boolean;
  reached: () => void;
  released: Promise<void>;
}

export interface Gate {
  /** Resolves when the held call has started (and is waiting). */
  reached: Promise<void>;
  /** Let the held call go on. */
  release(): void;
}

/**
 * Server time (the test server's skipped clock) of the activity being run: when
 * it was scheduled. Time does not move on while an activity runs, and this is
 * local, where asking the server for its time would cost a round trip a call.
 */
const serverNow = (): number => activityInfo().currentAttemptScheduledTimestampMs;

export class StubCloud {
  readonly calls: Call[] = [];
  /** Every record the workflow wrote, in order: its view and audit entry. */
  readonly records: Progress[] = [];
  readonly notifications: Notification[] = [];
  readonly host: StubHost;
  /** What each repair action does; a repair not listed leaves the host as it is. */
  repairs: Partial<Record<Repair, RepairEffect>> = {};
  /** Seconds of server time a fixing power cycle or reboot takes before the host reads healthy (a service restart: none). */
  bootSeconds = 0;
  /** Servers whose live migration fails (a cold migration of them works). */
  readonly liveMigrationFails = new Set<string>();
  /** What the fleet-wide guards answer to each request for a lease (`now`: server time, ms). */
  capacity: (now: number) => CapacityAnswer = () => ({ acquired: true, trippedBreaker: null });
  /** The cooldown or attempts guard's verdict. */
  repeatOffence: string | null = null;
  /**
   * The compliance rule a drift fix works on (workflows/compliance-fix.ts): what a rescan reads, its fix, and
   * what running the fix does — makes the rule pass, exits 0 and leaves it failing, or exits 1.
   */
  rules: Record<string, StubRule> = {
    'os.shadow-mode': {
      result: 'fail',
      fix: { ssh: 'chmod 0640 /etc/shadow', disruption: 'none', drain: false },
      fixEffect: 'fixes',
    },
  };
  /** Each finding's fix under way, as markComplianceFix leaves it. */
  readonly fixPending: Record<string, string | null> = {};

  /** The drift's own rule (os.shadow-mode). */
  get rule(): StubRule {
    return this.rules['os.shadow-mode']!;
  }
  readonly activities: RemediationActivities;
  /** Changes to the host that happen by themselves at a server time (a boot finishing, a room cooling down). */
  private scheduled: { at: number; change: (host: StubHost) => void }[] = [];
  private holds: Hold[] = [];

  constructor(name: string) {
    this.host = {
      name,
      power: 'on',
      serviceRunning: true,
      fault: null,
      enabled: true,
      disabledReason: null,
      fenced: false,
      servers: [`${name}-vm1`, `${name}-vm2`],
      evacuatedSinceRestart: false,
      bmc: { health: 'ok', reasons: [] },
    };
    this.activities = this.recorded(this.stubs());
  }

  /** Calls of one activity, their arguments in order. */
  callsOf<K extends ActivityName>(name: K): Args<K>[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.args as Args<K>);
  }

  /** The first call of an activity, with its server time and outcome. */
  firstCall(name: ActivityName): Call | undefined {
    return this.calls.find((c) => c.name === name);
  }

  /** The audit trail's actions, in order. */
  get auditActions(): string[] {
    return this.records.flatMap((r) => (r.audit ? [r.audit.action] : []));
  }

  auditEntry(action: string): AuditEntry | undefined {
    return this.records.find((r) => r.audit?.action === action)?.audit ?? undefined;
  }

  /** The phase of the workflow's last record (what the API would show). */
  get phase(): RemediationView['phase'] | undefined {
    return this.records.at(-1)?.view.phase;
  }

  /**
   * The fence, server moves and repairs the host went through, in order (a
   * lift Nova refused is marked so): what a test asserts was (not) done to it.
   */
  get disruptiveActions(): string[] {
    return this.calls.flatMap((c) => {
      switch (c.name) {
        case 'powerCycle':
          return ['power-cycle'];
        case 'reboot':
          return ['reboot'];
        case 'restartComputeService':
          return ['restart-compute-service'];
        case 'applyComplianceFix':
          return ['compliance-fix'];
        case 'moveServerOffHost': {
          const { serverId, kind } = c.args[0] as Args<'moveServerOffHost'>[0];
          return [`${kind ?? 'live'} ${serverId}`];
        }
        case 'fenceHost':
          return [
            (c.args[0] as Args<'fenceHost'>[0]).fenced
              ? 'fence'
              : c.outcome === 'failed'
                ? 'lift fence (refused)'
                : 'lift fence',
          ];
        default:
          return [];
      }
    });
  }

  /** Change the host at server time `at` (ms), as seen by the next read after it. */
  changeAt(at: number, change: (host: StubHost) => void): void {
    this.scheduled.push({ at, change });
  }

  /** Hold the next call of `name` (for which `when` holds) until the test releases it. */
  hold<K extends ActivityName>(name: K, when: (...args: Args<K>) => boolean = () => true): Gate {
    let reached!: () => void;
    let release!: () => void;
    const gate: Gate = { reached: new Promise<void>((ok) => (reached = ok)), release: () => release() };
    const released = new Promise<void>((ok) => (release = ok));
    this.holds.push({ name, when: (args) => when(...(args as Args<K>)), reached, released });
    return gate;
  }

  /** The host as Shipshape's provider would read it. */
  read(): HostState {
    const h = this.host;
    if (this.scheduled.length > 0) {
      const now = serverNow();
      const due = this.scheduled.filter((s) => s.at <= now).sort((a, b) => a.at - b.at);
      this.scheduled = this.scheduled.filter((s) => s.at > now);
      for (const s of due) s.change(h);
    }
    const up = h.power === 'on' && h.serviceRunning && !h.fenced;
    const reasons = [
      ...(h.fault ? [h.fault] : []),
      ...(h.power !== 'on' ? ['powered off'] : !h.serviceRunning ? ['nova-compute not reporting'] : []),
    ];
    return {
      host: h.name,
      power: h.power,
      health: h.fault || h.power !== 'on' ? 'critical' : !h.serviceRunning ? 'warning' : 'ok',
      healthReasons: reasons,
      compute: { enabled: h.enabled, up, disabledReason: h.disabledReason },
      serverCount: h.servers.length,
      maintenance: null,
      bmc: { status: 'read', health: h.bmc.health, reasons: h.bmc.reasons },
    };
  }

  /** As the real activities check first: a person who took the host over (re-enabled it, disabled it with their own reason) wins. */
  private stillHeld(doing: string): void {
    const state = this.read();
    const override = personOverride(state, DISABLE_REASON_PREFIX, true);
    if (override) {
      throw ApplicationFailure.create({
        type: FailureType.PersonOverride,
        message: `${override} (nothing was done: ${doing})`,
        nonRetryable: true,
        details: [{ computeEnabled: state.compute.enabled }],
      });
    }
  }

  private async repair(action: Repair): Promise<HostState> {
    this.stillHeld(`no ${action} was issued`);
    const effect = this.repairs[action] ?? 'no-change';
    if (effect === 'fails') {
      throw ApplicationFailure.create({
        type: FailureType.ProviderRejected,
        message: `${action} of ${this.host.name} refused by the BMC`,
        nonRetryable: true,
      });
    }
    if (effect === 'fixes') {
      // Once booted (a service restart is no boot), nova-compute has started again: Nova may lift an evacuation's fence.
      const booted = serverNow() + (action === 'restart-compute-service' ? 0 : this.bootSeconds * 1000);
      this.changeAt(booted, (host) =>
        Object.assign(host, { power: 'on', serviceRunning: true, fault: null, evacuatedSinceRestart: false }),
      );
    }
    return this.read();
  }

  private stubs(): RemediationActivities {
    const h = this.host;
    const unused = (name: string) => async (): Promise<never> => {
      throw new Error(`${name} is not an activity of the remediation workflow`);
    };
    return {
      recordProgress: async (record) => {
        this.records.push(structuredClone(record));
      },
      checkRepeatOffence: async () => this.repeatOffence,
      acquireCapacity: async () => this.capacity(serverNow()),
      releaseCapacity: async () => undefined,
      auditHost: async () => this.read(),
      disableCompute: async (_host, reason) => {
        const before = this.read().compute;
        Object.assign(h, { enabled: false, disabledReason: reason });
        return { changed: true, before, after: this.read().compute };
      },
      enableCompute: async () => {
        const before = this.read().compute;
        Object.assign(h, { enabled: true, disabledReason: null });
        return { changed: true, before, after: this.read().compute };
      },
      listServersOnHost: async (): Promise<ServerRef[]> => h.servers.map((id) => ({ id, name: id, host: h.name })),
      moveServerOffHost: async ({ serverId, kind }) => {
        this.stillHeld(`server ${serverId} was not moved`);
        if ((kind ?? 'live') === 'live' && this.liveMigrationFails.has(serverId)) {
          throw ApplicationFailure.create({
            type: FailureType.MigrationFailed,
            message: `server ${serverId} could not be moved off ${h.name}: live migration failed (instance CPU flags not on any target)`,
            nonRetryable: true,
          });
        }
        h.servers = h.servers.filter((s) => s !== serverId);
        if (kind === 'evacuate') h.evacuatedSinceRestart = true;
        return { server: serverId, result: 'moved', to: 'spare-1', migrationId: `${kind ?? 'live'}-${serverId}` };
      },
      fenceHost: async ({ fenced }) => {
        if (fenced) this.stillHeld('the host was not fenced');
        this.read(); // a boot that has finished by now restarted nova-compute
        if (!fenced && h.evacuatedSinceRestart) {
          throw ApplicationFailure.create({
            type: FailureType.ProviderRejected,
            message: `Nova refuses to unset forced_down on ${h.name}: evacuations wait for its nova-compute to restart`,
            nonRetryable: true,
          });
        }
        h.fenced = fenced;
        return this.read();
      },
      powerCycle: async () => this.repair('power-cycle'),
      reboot: async () => this.repair('reboot'),
      restartComputeService: async () => this.repair('restart-compute-service'),
      notifyOperator: async (notification) => {
        this.notifications.push(notification);
      },
      startSweep: unused('startSweep'),
      sweepHosts: unused('sweepHosts'),
      finishSweep: unused('finishSweep'),
      refreshHost: unused('refreshHost'),
      listScanHosts: unused('listScanHosts'),
      scanHostCompliance: unused('scanHostCompliance'),
      recheckComplianceRules: async ({ ruleIds }) =>
        (ruleIds ?? Object.keys(this.rules)).map((ruleId) => {
          const rule = this.rules[ruleId]!;
          const { result, fix } = rule;
          return {
            ruleId,
            state: result === 'pass' ? 'pass' : this.fixPending[ruleId] ? 'fix-pending' : result,
            result,
            title: `rule ${ruleId}`,
            expected: 'compliant',
            observed: result === 'pass' ? 'compliant' : 'drifted',
            reason: result === 'pass' ? `${ruleId} holds` : `${ruleId} drifted`,
            fix,
          };
        }),
      markComplianceFix: async ({ ruleId, remediationId }) => {
        this.fixPending[ruleId] = remediationId;
        return remediationId ? 'fix-pending' : this.rules[ruleId]!.result;
      },
      applyComplianceFix: async ({ ruleId }) => {
        const rule = this.rules[ruleId]!;
        if (rule.fixEffect === 'fixes') rule.result = 'pass';
        const command = rule.fix && 'ssh' in rule.fix ? rule.fix.ssh : '';
        return rule.fixEffect === 'exits-1'
          ? { command, exitCode: 1, stdout: '', stderr: 'systemctl: command not found', truncated: false }
          : { command, exitCode: 0, stdout: '', stderr: '', truncated: false };
      },
      startComplianceScan: unused('startComplianceScan'),
      finishComplianceScan: unused('finishComplianceScan'),
      recheckReclaim: unused('recheckReclaim'),
      resolveOwners: unused('resolveOwners'),
      sendReclaimNotice: unused('sendReclaimNotice'),
      recordReclaim: unused('recordReclaim'),
      reclaimGate: unused('reclaimGate'),
      takeReversibleStep: unused('takeReversibleStep'),
      restoreResource: unused('restoreResource'),
      deleteResource: unused('deleteResource'),
      reportReclaimFailure: unused('reportReclaimFailure'),
      scanReclaimRule: unused('scanReclaimRule'),
      listReclaimRules: unused('listReclaimRules'),
    };
  }

  /** Each stub records its call, then waits if a test holds it. */
  private recorded(stubs: RemediationActivities): RemediationActivities {
    const wrapped = {} as Record<ActivityName, (...args: unknown[]) => Promise<unknown>>;
    for (const name of Object.keys(stubs) as ActivityName[]) {
      const stub = stubs[name] as (...args: unknown[]) => Promise<unknown>;
      wrapped[name] = async (...args: unknown[]) => {
        const call: Call = { name, args: structuredClone(args), at: serverNow() };
        this.calls.push(call);
        const hold = this.holds.find((x) => x.name === name && x.when(args));
        if (hold) {
          this.holds = this.holds.filter((x) => x !== hold);
          hold.reached();
          await hold.released;
        }
        try {
          const result = await stub(...args);
          call.outcome = 'ok';
          return result;
        } catch (err) {
          call.outcome = 'failed';
          throw err;
        }
      };
    }
    return wrapped as unknown as RemediationActivities;
  }
}
