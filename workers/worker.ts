/**
 * The remediation worker: runs the remediation workflow and every activity on
 * one named task queue. Exported as a factory so tests run it in-process
 * against the real dev server with real or test activities.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { FleetActivities } from '../activities';
import { createDecisionActivities } from '../activities/decisions';
import type { ShipshapeKeys } from '../config/keys';
import { shipshapeDataConverter } from './data-converter';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: FleetActivities;
  /** The keys file: payloads are encrypted with its codec keys, decisions checked with its decision keys. */
  keys: ShipshapeKeys;
  /** A prebuilt workflow bundle (npm run build:workflows); without one the worker bundles at start. */
  workflowBundlePath?: string;
  /** Concurrent activities: moves and power cycles mostly wait, so this can be generous. */
  maxConcurrentActivityTaskExecutions?: number;
}

export const DEFAULT_BUNDLE_PATH = join(__dirname, '..', 'workflow-bundle.js');

export function createRemediationWorker(options: WorkerOptions): Promise<Worker> {
  const bundlePath = options.workflowBundlePath ?? (existsSync(DEFAULT_BUNDLE_PATH) ? DEFAULT_BUNDLE_PATH : undefined);
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: { ...options.activities, ...createDecisionActivities(options.keys.decisionKeys) },
    dataConverter: shipshapeDataConverter(options.keys),
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: require.resolve('../workflows') }),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 100,
    // Finish activities in flight (a migration being tracked) before exiting on SIGTERM.
    shutdownGraceTime: '20 seconds',
  });
}
