/**
 * Determinism guard: a stored history of a real remediation (hand-off,
 * hand-back, return) must replay against today's workflow code without a
 * nondeterminism error. Refresh it with RECORD_HISTORY=1 only when a change
 * is deliberately incompatible (and then version the workflow).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

beforeAll(() => Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] }));

test('a stored remediation history replays against the current workflow code', async () => {
  const history = historyFromJSON(JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'remediation-hand-off-history.json'), 'utf8')));
  expect(history.events?.length).toBeGreaterThan(20);
  await expect(
    Worker.runReplayHistory({ workflowBundle: { codePath: process.env.SHIPSHAPE_TEST_BUNDLE! } }, history),
  ).resolves.toBeUndefined();
});
