/** A real worker process (dist/workers/main.js) on a test file's world, for tests that kill and replace it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
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
      LOG_LEVEL: 'warn',
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
