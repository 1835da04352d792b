/**
 * Compliance through the API for tests: start a scan and wait for it to end, a host's findings keyed by
 * rule, and a worker's activities with compliance deps.
 */
import type { ActivityDeps } from '../../activities';
import type { GuardConfig } from '../../domain/guards';
import { fleetActivities, PERMISSIVE_GUARDS, type TestEnv } from './env';
import { http } from './http';

/** A scan as GET /v1/compliance/scans/{id} shows it. */
export interface ScanView {
  status: string;
  summary: any;
  error: string | null;
}

/** A finding as GET /v1/compliance/findings shows it (the fields the tests read). */
export interface FindingView {
  host: string;
  profile: string;
  ruleId: string;
  state: string;
  observed: string;
  reason: string;
}

/** POST /v1/compliance/scans as `token` (expects 202); the scan's id. */
export async function startScan(env: TestEnv, token: string, body: unknown): Promise<string> {
  const started = await http('POST', `${env.apiUrl}/v1/compliance/scans`, token, body);
  expect(started.status).toBe(202);
  return started.body.scanId;
}

/** Read the scan as `token` every `pollMs` until it is no longer running (at most `timeoutMs`); the scan. */
export async function waitForScan(
  env: TestEnv,
  token: string,
  scanId: string,
  { timeoutMs = 60_000, pollMs = 250 }: { timeoutMs?: number; pollMs?: number } = {},
): Promise<ScanView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await http('GET', `${env.apiUrl}/v1/compliance/scans/${scanId}`, token);
    expect(r.status).toBe(200);
    if (r.body.status !== 'running') return r.body;
    if (Date.now() > deadline) throw new Error(`scan ${scanId} still running after ${timeoutMs / 1000} s`);
    await new Promise((ok) => setTimeout(ok, pollMs));
  }
}

/** Start a scan as `tokens.operator` and wait for it to end, read as `tokens.viewer`. */
export async function runScan(
  env: TestEnv,
  tokens: { operator: string; viewer: string },
  body: unknown,
  options?: { timeoutMs?: number; pollMs?: number },
): Promise<ScanView> {
  return waitForScan(env, tokens.viewer, await startScan(env, tokens.operator, body), options);
}

/** A host's findings (GET /v1/compliance/findings?host=, expects 200) keyed by rule id. */
export async function findingsByRule(env: TestEnv, token: string, host: string): Promise<Record<string, FindingView>> {
  const r = await http<{ findings: FindingView[] }>('GET', `${env.apiUrl}/v1/compliance/findings?host=${host}`, token);
  expect(r.status).toBe(200);
  return Object.fromEntries(r.body.findings.map((f) => [f.ruleId, f]));
}

/** The worker's activities on the test env's provider, database and BMC, a silent notifier, with these compliance deps. */
export function complianceActivities(
  env: TestEnv,
  compliance: NonNullable<ActivityDeps['compliance']>,
  guards: () => GuardConfig = () => PERMISSIVE_GUARDS,
) {
  return fleetActivities(env, { guards, compliance });
}

/** A small profile (YAML) of one SSH rule, /etc/shadow's mode, scanned every `minutes` (no schedule when null). */
export function quickProfile(
  minutes: number | null,
  name = 'quick-check',
  prefix = 'quick',
  description = 'One rule, for the schedule tests.',
): string {
  return `name: ${name}
version: '1.0'
prefix: ${prefix}
description: ${description}
${minutes === null ? '' : `schedule:\n  everyMinutes: ${minutes}\n`}rules:
  - id: ${prefix}.shadow-mode
    title: /etc/shadow is mode 0640 or stricter
    severity: warning
    rationale: The password hashes.
    kind: ssh
    check:
      type: file-mode
      path: /etc/shadow
      mode: '0640'
      owner: root
      group: [root, shadow]
`;
}
