/**
 * Starts the real services once per test run: a throw-away PostgreSQL cluster
 * (with a migrated template database that each test file copies) and a
 * Temporal CLI dev server. Their addresses reach the test files through env.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { migrate, startServices, type RunningPostgres, type RunningTemporal } from '../../scripts/services';

declare global {
  var __shipshapeServices: { pg: RunningPostgres; temporal: RunningTemporal } | undefined;
}

export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-test-'));
  chmodSync(dir, 0o755); // the cluster may run as the postgres user
  const { pg, temporal } = await startServices(
    { dataDir: join(dir, 'pg'), fast: true },
    { headless: true, logFile: join(dir, 'temporal.log') },
  );
  globalThis.__shipshapeServices = { pg, temporal };
  // Migrated as the owner role, as in production; test files' app connections use the application role.
  await pg.createDatabase('shipshape_template');
  migrate(pg.ownerUrl('shipshape_template'));
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } as never,
  });
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  Object.assign(process.env, {
    SHIPSHAPE_TEST_PG_PORT: String(pg.port),
    SHIPSHAPE_TEST_TEMPORAL: temporal.address,
    SHIPSHAPE_TEST_BUNDLE: bundlePath,
    SHIPSHAPE_TEST_DIR: dir,
  });
}
