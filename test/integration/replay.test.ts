/**
 * Determinism guard: a stored history of a real remediation (hand-off,
 * hand-back, return) must replay against today's workflow code without a
 * nondeterminism error. Histories are never refreshed: a change that breaks one
 * needs `patched()`. RECORD_HISTORY=<name> adds a history of the current code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

beforeAll(() => Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] }));

const FIXTURES = join(__dirname, '..', 'fixtures');
const histories = readdirSync(FIXTURES).filter((f) => f.endsWith('-history.json'));

test('there are stored histories to replay', () => {
  expect(histories.length).toBeGreaterThan(0);
});

test.each(histories)('the stored history %s replays against the current workflow code', async (file) => {
  const history = historyFromJSON(JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')));
  expect(history.events?.length).toBeGreaterThan(20);
  await expect(
    Worker.runReplayHistory({ workflowBundle: { codePath: process.env.SHIPSHAPE_TEST_BUNDLE! } }, history),
  ).resolves.toBeUndefined();
});
