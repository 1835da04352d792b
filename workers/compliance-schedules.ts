/**
 * One Temporal Schedule per compliance profile that has a `schedule:` (cron in
 * UTC, or every N minutes), `<prefix>compliance-scan/<profile>`, each run a
 * scan of every host against that profile. Overlap SKIP: a slow scan is never
 * joined by a second one of the same profile.
 *
 * The worker brings the schedules in line with the profiles' folder at its
 * start and whenever the folder's text changes (polled): a new schedule is
 * created, a changed one updated, one removed from its profile (or the profile
 * deleted) deleted. A folder that does not load changes nothing: the schedules
 * stay as the last good folder had them, and the problem is logged with the
 * file and line. Nothing here stops the worker.
 */
import { createHash } from 'node:crypto';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec,
} from '@temporalio/client';
import type { Logger } from '../config/logger';
import type { ComplianceProfile, ProfileSchedule } from '../domain/compliance';
import { describeSchedule, scanScheduleId, scanWorkflowId, scheduleRequester } from '../domain/compliance-scans';
import { ComplianceProfileError, parseProfileFolder, readProfileFolder } from '../policies/compliance-loader';
import type { complianceScanWorkflow } from '../workflows/compliance-scan';

export interface ComplianceScheduleOptions {
  prefix: string;
  taskQueue: string;
  profilesDir: string;
  logger: Logger;
}

/** What one reconciliation did, by schedule ID. */
export interface ScheduleChanges {
  created: string[];
  updated: string[];
  deleted: string[];
  unchanged: string[];
  /** Schedules that could not be brought in line, and why (tried again at the next change or poll). */
  failed: Array<{ scheduleId: string; error: string }>;
}

function specOf(s: ProfileSchedule): ScheduleSpec {
  return 'cron' in s ? { cronExpressions: [s.cron] } : { intervals: [{ every: `${s.everyMinutes} minutes` }] };
}

/** What the schedule says in the Temporal UI, and how a change of the profile's schedule is noticed. */
const noteOf = (p: ComplianceProfile & { schedule: ProfileSchedule }) =>
  `Shipshape compliance scan of ${p.name}: ${describeSchedule(p.schedule)}`;

/** Keeps a folder's schedules in line with it. */
export class ComplianceSchedules {
  /** The folder text last brought in line (its digest); null until the first success. */
  private applied: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: Client,
    private readonly opts: ComplianceScheduleOptions,
  ) {}

  private get base(): string {
    return scanScheduleId(this.opts.prefix, '');
  }

  private actionOf(profile: string): ScheduleOptionsStartWorkflowAction<typeof complianceScanWorkflow> {
    return {
      type: 'startWorkflow',
      workflowType: 'complianceScanWorkflow',
      taskQueue: this.opts.taskQueue,
      // Temporal appends each run's time: `<prefix>compliance-scan/<profile>-2026-12-08T03:00:00Z`.
      workflowId: scanWorkflowId(this.opts.prefix, profile),
      args: [{ hosts: 'all', profiles: [profile], requestedBy: scheduleRequester(profile) }],
    };
  }

  /** Read the folder; when its text changed since the last success, bring the schedules in line. */
  async poll(): Promise<ScheduleChanges | null> {
    let files: Map<string, string>;
    try {
      files = readProfileFolder(this.opts.profilesDir);
    } catch (err) {
      this.opts.logger.error(
        { dir: this.opts.profilesDir, err: (err as Error).message },
        'compliance schedules: the profiles folder cannot be read; the schedules stay as they are',
      );
      return null;
    }
    const digest = createHash('sha256');
    for (const [file, text] of files) digest.update(`${file}\0${text}\0`);
    const now = digest.digest('hex');
    if (now === this.applied) return null;
    let profiles: ComplianceProfile[];
    try {
      profiles = parseProfileFolder(files);
    } catch (err) {
      if (!(err instanceof ComplianceProfileError)) throw err;
      this.opts.logger.error(
        { dir: this.opts.profilesDir, issues: err.issues },
        `compliance schedules: the profiles do not load; the schedules stay as they are:\n${err.message}`,
      );
      this.applied = now; // said once per change of the text, not at every poll
      return null;
    }
    const changes = await this.reconcile(profiles);
    if (changes.failed.length === 0) this.applied = now;
    return changes;
  }

  /** Create, update and delete the schedules so that they are the profiles' (and only those). */
  async reconcile(profiles: readonly ComplianceProfile[]): Promise<ScheduleChanges> {
    const changes: ScheduleChanges = { created: [], updated: [], deleted: [], unchanged: [], failed: [] };
    const wanted = new Map<string, ComplianceProfile & { schedule: ProfileSchedule }>();
    for (const p of profiles)
      if (p.schedule)
        wanted.set(scanScheduleId(this.opts.prefix, p.name), p as ComplianceProfile & { schedule: ProfileSchedule });
    for (const [scheduleId, profile] of wanted) {
      try {
        changes[await this.ensure(scheduleId, profile)].push(scheduleId);
      } catch (err) {
        changes.failed.push({ scheduleId, error: (err as Error).message });
      }
    }
    try {
      for (const scheduleId of await this.existing())
        if (!wanted.has(scheduleId)) {
          // The list lags behind: a schedule deleted a moment ago may still be in it.
          const gone = await this.client.schedule
            .getHandle(scheduleId)
            .delete()
            .then(() => true)
            .catch((err: unknown) => {
              if (err instanceof ScheduleNotFoundError) return false;
              throw err;
            });
          if (gone) changes.deleted.push(scheduleId);
        }
    } catch (err) {
      changes.failed.push({ scheduleId: `${this.base}*`, error: (err as Error).message });
    }
    this.log(changes);
    return changes;
  }

  private async ensure(
    scheduleId: string,
    profile: ComplianceProfile & { schedule: ProfileSchedule },
  ): Promise<'created' | 'updated' | 'unchanged'> {
    const spec = specOf(profile.schedule);
    const action = this.actionOf(profile.name);
    const note = noteOf(profile);
    try {
      await this.client.schedule.create({
        scheduleId,
        spec,
        action,
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
        state: { note },
        memo: { purpose: `Shipshape compliance scan of every host against ${profile.name}` },
      });
      return 'created';
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    }
    const handle = this.client.schedule.getHandle(scheduleId);
    const now = await handle.describe();
    const sameQueue = now.action.type === 'startWorkflow' && now.action.taskQueue === this.opts.taskQueue;
    if (now.state.note === note && sameQueue) return 'unchanged';
    await handle.update((prev) => ({ ...prev, spec, action, state: { ...prev.state, note } }));
    return 'updated';
  }

  /** The compliance schedules Temporal has for this prefix. */
  private async existing(): Promise<string[]> {
    const ids: string[] = [];
    for await (const s of this.client.schedule.list()) {
      const rest = s.scheduleId.startsWith(this.base) ? s.scheduleId.slice(this.base.length) : null;
      if (rest !== null && /^[a-z0-9-]+$/.test(rest)) ids.push(s.scheduleId);
    }
    return ids;
  }

  private log(c: ScheduleChanges): void {
    const { logger } = this.opts;
    for (const id of c.created) logger.info({ scheduleId: id }, 'compliance scan schedule created');
    for (const id of c.updated) logger.info({ scheduleId: id }, 'compliance scan schedule updated');
    for (const id of c.deleted)
      logger.info({ scheduleId: id }, 'compliance scan schedule deleted: its profile has none');
    for (const f of c.failed)
      logger.error(
        { scheduleId: f.scheduleId, err: f.error },
        'compliance scan schedule not brought in line: tried again at the next poll (the worker goes on)',
      );
  }

  /** Poll now and then every `everyMs`; polls never overlap. Returns stop, which waits for a poll in flight. */
  start(everyMs: number): () => Promise<void> {
    const tick = () => {
      this.running = this.poll().catch((err: unknown) =>
        this.opts.logger.error(
          { err: (err as Error).message },
          'compliance schedules: poll failed (the worker goes on)',
        ),
      );
      void this.running.then(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, everyMs);
      });
    };
    this.timer = setTimeout(tick, 0);
    return async () => {
      clearTimeout(this.timer);
      this.timer = undefined;
      await this.running;
    };
  }
}
