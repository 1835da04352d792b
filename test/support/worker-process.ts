/** A real worker process (dist/workers/main.js) on a test file's world, for tests that kill and replace it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import type { TestEnv } from './env';

export const WORKER_MAIN = join(__dirname, '..', '..', 'dist', 'workers', 'main.js');

export function spawnWorkerProcess(env: TestEnv, extra: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [WORKER_MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      TEMPORAL_TASK_QUEUE: env.taskQueue,
      SHIPSHAPE_WORKFLOW_ID_PREFIX: env.workflowIdPrefix,
      SHIPSHAPE_KEYS_FILE: env.keysFile,
      SHIPSHAPE_SWEEP_INTERVAL_SECONDS: '0', // no telemetry schedule left behind on the shared dev server
      // Nor compliance scan schedules: a folder without profiles (a test that wants them names its own).
      SHIPSHAPE_COMPLIANCE_DIR: mkdtempSync(join(tmpdir(), 'shipshape-no-profiles-')),
      LOG_LEVEL: 'warn',
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * Resolve once a worker started at or after `since` polls the test file's task
 * queue for workflow tasks. A signal sent before that may time out waiting for
 * the workflow to accept it, and the API then queues it.
 */
export async function pollingSince(env: TestEnv, since: Date, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { pollers } = await env.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: env.taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const seen = (pollers ?? []).some((p) => {
      const at = p.lastAccessTime;
      return at && Number(at.seconds) * 1000 + Math.floor((at.nanos ?? 0) / 1e6) >= since.getTime();
    });
    if (seen) return;
    if (Date.now() > deadline) throw new Error(`no worker polled ${env.taskQueue} within ${timeoutMs / 1000}s`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}
