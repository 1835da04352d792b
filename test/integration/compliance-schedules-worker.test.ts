/**
 * The worker process (dist/workers/main.js; `npm run build` first) brings the
 * compliance scan schedules in line with its profiles' folder at start, and a
 * run of a schedule is a scan the worker carries out and records, as the
 * schedule's. The polling and every change of the folder are tested in
 * process (compliance-ops.test.ts); this is the wiring in workers/main.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanScheduleId } from '../../domain/compliance-scans';
import { quickProfile } from '../support/compliance';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, http } from '../support/http';
import { spawnWorkerProcess, WORKER_MAIN } from '../support/worker-process';

const PROFILE = quickProfile(5, 'quick-check', 'quick', 'One rule, scanned every 5 minutes.');

let env: TestEnv;
let dir: string;
let worker: ChildProcess | undefined;
let viewer: string;

beforeAll(async () => {
  if (!existsSync(WORKER_MAIN))
    throw new Error(`${WORKER_MAIN} is missing: run "npm run build" before the tests (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'shipshape-profiles-'));
  writeFileSync(join(dir, 'quick-check.yaml'), PROFILE);
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 2, serversPerHost: 0 }, complianceDir: dir });
  viewer = await env.token('victor', 'viewer');
  worker = spawnWorkerProcess(env, { SHIPSHAPE_COMPLIANCE_DIR: dir });
});
afterAll(async () => {
  if (worker?.exitCode === null) worker.kill('SIGKILL');
  await env.client.schedule
    .getHandle(scanScheduleId(env.workflowIdPrefix, 'quick-check'))
    .delete()
    .catch(() => undefined);
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the worker creates the schedule of a profile at start, and a run of it is a scan recorded as the schedule’s', async () => {
  const handle = env.client.schedule.getHandle(scanScheduleId(env.workflowIdPrefix, 'quick-check'));
  const schedule = await eventually(
    'the worker created the schedule',
    () => handle.describe().catch(() => undefined),
    60_000,
  );
  expect(schedule.spec.intervals).toEqual([expect.objectContaining({ every: 5 * 60_000 })]);
  await handle.trigger();
  const scan = await eventually(
    'the scheduled scan completed',
    async () => {
      const r = await http<{ scans: Array<{ status: string; requestedBy: string; summary: any }> }>(
        'GET',
        `${env.apiUrl}/v1/compliance/scans?status=completed`,
        viewer,
      );
      return r.body.scans[0];
    },
    60_000,
  );
  expect(scan).toMatchObject({ requestedBy: 'schedule:quick-check', summary: { hosts: 2, scanned: 2 } });
}, 120_000);
