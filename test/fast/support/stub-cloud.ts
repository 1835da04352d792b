/**
 * Typed stub activities for the fast workflow tests: every activity the
 * remediation workflow can call, over one small in-memory host. Each stub
 * records its call; the host keeps the few rules of Nova the workflow relies
 * on (a forced-down service reads down; Nova lifts a fence only once the
 * host's nova-compute has restarted after an evacuation). A test sets what
 * each repair does, which live migrations fail, what the guards answer, and
 * may hold one call until it has acted (`hold`), to reach a phase exactly.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { RemediationActivities } from '../../../activities';
import type { AuditEntry } from '../../../domain/audit';
import { FailureType } from '../../../domain/errors';
import type { RemediationView } from '../../../domain/remediation';
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
}

export interface Call {
  name: ActivityName;
  args: unknown[];
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

export interface StubCloudOptions {
  host: string;
  /** Server time now (the test server's clock), for repairs that take a while to boot. */
  clock: () => Promise<number>;
}

export class StubCloud {
  readonly calls: Call[] = [];
  /** Every record the workflow wrote, in order: its view and audit entry. */
  readonly records: Progress[] = [];
  readonly notifications: Notification[] = [];
  readonly host: StubHost;
  /** What each repair action does; a repair not listed leaves the host as it is. */
  repairs: Partial<Record<Repair, RepairEffect>> = {};
  /** Seconds of server time a fixing power cycle or reboot takes before the host reads healthy. */
  bootSeconds = 0;
  /** Servers whose live migration fails (a cold migration of them works). */
  readonly liveMigrationFails = new Set<string>();
  /** What the fleet-wide guards answer to each request for a lease. */
  capacity: () => CapacityAnswer = () => ({ acquired: true, trippedBreaker: null });
  /** The cooldown or attempts guard's verdict. */
  repeatOffence: string | null = null;
  readonly activities: RemediationActivities;
  private healthyFrom: number | null = null;
  private holds: Hold[] = [];

  constructor(private readonly options: StubCloudOptions) {
    this.host = {
      name: options.host,
      power: 'on',
      serviceRunning: true,
      fault: null,
      enabled: true,
      disabledReason: null,
      fenced: false,
      servers: [`${options.host}-vm1`, `${options.host}-vm2`],
      evacuatedSinceRestart: false,
    };
    this.activities = this.recorded(this.stubs());
  }

  /** Calls of one activity, their arguments in order. */
  callsOf<K extends ActivityName>(name: K): Args<K>[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.args as Args<K>);
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

  /** The repairs and server moves the host went through: what a test asserts was (not) done to it. */
  get disruptiveActions(): string[] {
    return this.calls.flatMap((c) => {
      switch (c.name) {
        case 'powerCycle':
          return ['power-cycle'];
        case 'reboot':
          return ['reboot'];
        case 'restartComputeService':
          return ['restart-compute-service'];
        case 'moveServerOffHost': {
          const { serverId, kind } = c.args[0] as Args<'moveServerOffHost'>[0];
          return [`${kind ?? 'live'} ${serverId}`];
        }
        case 'fenceHost':
          return [(c.args[0] as Args<'fenceHost'>[0]).fenced ? 'fence' : 'lift fence'];
        default:
          return [];
      }
    });
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
  async read(): Promise<HostState> {
    const h = this.host;
    if (this.healthyFrom !== null && (await this.options.clock()) >= this.healthyFrom) {
      Object.assign(h, { power: 'on', serviceRunning: true, fault: null });
      this.healthyFrom = null;
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
    };
  }

  private async repair(action: Repair): Promise<HostState> {
    const effect = this.repairs[action] ?? 'no-change';
    if (effect === 'fails') {
      throw ApplicationFailure.create({ type: FailureType.ProviderRejected, message: `${action} of ${this.host.name} refused by the BMC`, nonRetryable: true });
    }
    if (effect === 'fixes') {
      // The host boots: nova-compute starts again, so Nova may lift an evacuation's fence.
      this.host.evacuatedSinceRestart = false;
      this.healthyFrom = (await this.options.clock()) + this.bootSeconds * 1000;
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
      acquireCapacity: async () => this.capacity(),
      releaseCapacity: async () => undefined,
      auditHost: async () => this.read(),
      disableCompute: async (_host, reason) => {
        const before = (await this.read()).compute;
        Object.assign(h, { enabled: false, disabledReason: reason });
        return { changed: true, before, after: (await this.read()).compute };
      },
      enableCompute: async () => {
        const before = (await this.read()).compute;
        Object.assign(h, { enabled: true, disabledReason: null });
        return { changed: true, before, after: (await this.read()).compute };
      },
      listServersOnHost: async (): Promise<ServerRef[]> => h.servers.map((id) => ({ id, name: id, host: h.name })),
      moveServerOffHost: async ({ serverId, kind }) => {
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
    };
  }

  /** Each stub records its call, then waits if a test holds it. */
  private recorded(stubs: RemediationActivities): RemediationActivities {
    const wrapped = {} as Record<ActivityName, (...args: unknown[]) => Promise<unknown>>;
    for (const name of Object.keys(stubs) as ActivityName[]) {
      const stub = stubs[name] as (...args: unknown[]) => Promise<unknown>;
      wrapped[name] = async (...args: unknown[]) => {
        this.calls.push({ name, args: structuredClone(args) });
        const hold = this.holds.find((x) => x.name === name && x.when(args));
        if (hold) {
          this.holds = this.holds.filter((x) => x !== hold);
          hold.reached();
          await hold.released;
        }
        return stub(...args);
      };
    }
    return wrapped as unknown as RemediationActivities;
  }
}
