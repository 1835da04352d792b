/** Stored histories for the replay test (test/fixtures/<name>-history.json): never refreshed, only added. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporalBinary } from '../../scripts/services';
import type { TestEnv } from './env';

/** With RECORD_HISTORY=<name> (or the variable given), store the history of this host's remediation run as a replay fixture. */
export function recordHistoryIfAsked(env: TestEnv, host: string, variable = 'RECORD_HISTORY'): void {
  const name = process.env[variable];
  if (!name) return;
  const json = execFileSync(temporalBinary(), [
    'workflow',
    'show',
    '--address',
    env.temporalAddress,
    '--workflow-id',
    `${env.workflowIdPrefix}remediation/${host}`,
    '--output',
    'json',
  ]);
  writeFileSync(join(__dirname, '..', 'fixtures', `${name}-history.json`), json);
}
