/**
 * The telemetry sweep's Temporal Schedule: created at worker start, its
 * interval brought in line with configuration, removed when the interval
 * is 0. Overlap SKIP: a slow sweep is never joined by a second one.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Logger } from '../config/logger';

export function sweepScheduleId(prefix: string): string {
  return `${prefix}telemetry-sweep`;
}

export async function ensureSweepSchedule(
  client: Client,
  opts: { prefix: string; taskQueue: string; everySeconds: number; logger: Logger },
): Promise<void> {
  const scheduleId = sweepScheduleId(opts.prefix);
  const handle = client.schedule.getHandle(scheduleId);
  if (opts.everySeconds <= 0) {
    try {
      await handle.delete();
      opts.logger.info({ scheduleId }, 'telemetry sweep schedule removed (interval 0)');
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
    return;
  }
  const spec = { intervals: [{ every: `${opts.everySeconds} seconds` as const }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'telemetrySweepWorkflow',
    taskQueue: opts.taskQueue,
    workflowId: `${opts.prefix}telemetry-sweep-run`,
    args: [{}],
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      memo: { purpose: 'Shipshape telemetry sweep: reads every BMC and provider state' },
    });
    opts.logger.info({ scheduleId, everySeconds: opts.everySeconds }, 'telemetry sweep schedule created');
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await handle.update((prev) => ({ ...prev, spec, action }));
    opts.logger.info({ scheduleId, everySeconds: opts.everySeconds }, 'telemetry sweep schedule updated');
  }
}
