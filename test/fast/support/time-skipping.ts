/**
 * Temporal's time-skipping test server, from the project's own tools: the Java
 * server from Maven Central that `scripts/setup.sh --tests` installs, never the
 * binary the SDK would download by default. Timers (a 30-minute approval, a
 * 14-day hand-off) fire as soon as nothing else is running.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ALL_SEARCH_ATTRIBUTES } from '../../../domain/search-attributes';

export const TEST_SERVER = join(__dirname, '../../../.tools/temporal-test-server/bin/temporal-test-server');

/** Errors only: the scenarios fail activities on purpose (a refused fence, a failed migration), each logged at WARN. */
function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  } catch {
    // already installed in this jest worker
  }
}

/**
 * Start a test server for one test file. Shipshape's search attributes are
 * registered as the worker's start-up does: the test server, like a real one,
 * refuses a workflow that upserts an attribute it does not know.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  if (!existsSync(TEST_SERVER)) {
    throw new Error(
      `no Temporal test server at ${TEST_SERVER}: run \`bash scripts/setup.sh --tests\` (it installs it from Maven Central)`,
    );
  }
  quietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: TEST_SERVER } },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return env;
}
