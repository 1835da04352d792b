/**
 * API tokens: a revoked token is refused from the moment it is revoked and is
 * never issued again; the demo's token works only in the demo; issuing and
 * revoking are on the audit log, without the secret.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createToken, DEV_TOKEN_SUBJECT } from '../../api/auth';
import { revokeTokensOf } from '../../db/tokens';
import { createTestEnv, type TestEnv } from '../support/env';
import { http } from '../support/http';

const run = promisify(execFile);

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 1 } });
});
afterAll(() => env.close());

const hosts = (token: string, base = env.apiUrl) => http('GET', `${base}/v1/hosts`, token);
const admin = { kind: 'person', name: 'ada' } as const;

/** Another API on the same database, run as the demo or not. */
const apiServing = (demo: boolean) => env.serveApp({ demo });

test('a revoked token is refused on the very next request, though it was used a moment before', async () => {
  const token = await env.token('leaky-bot', 'viewer');
  expect((await hosts(token)).status).toBe(200);
  expect(await revokeTokensOf(env.db, 'leaky-bot', admin)).toBe(1);
  const res = await hosts(token);
  expect(res.status).toBe(401);
  expect(res.body.error.message).toBe('token is not valid or has been revoked');
});

test('a revoked token is never issued again: issuing the same secret is refused and it stays revoked', async () => {
  const token = await env.token('old-bot', 'admin');
  await revokeTokensOf(env.db, 'old-bot', admin);
  await expect(createToken(env.db, 'old-bot', 'admin', { token })).rejects.toThrow(
    /^token: this token was revoked, and a revoked token is never issued again/,
  );
  expect((await hosts(token)).status).toBe(401);
});

test("issuing a secret someone else holds is refused, and the holder's role does not change", async () => {
  const token = await env.token('viewer-bot', 'viewer');
  await expect(createToken(env.db, 'mallory', 'admin', { token })).rejects.toThrow(/already issued to another/);
  const { rows } = await env.db.query(
    `SELECT subject, role FROM api_tokens WHERE subject IN ('viewer-bot', 'mallory')`,
  );
  expect(rows).toEqual([{ subject: 'viewer-bot', role: 'viewer' }]);
});

test('the demo token works in the demo and is refused by an API that is not the demo', async () => {
  const token = await createToken(env.db, DEV_TOKEN_SUBJECT, 'admin', { token: 'shipshape-demo-admin-token-1' });
  const demo = await apiServing(true);
  const production = await apiServing(false);
  try {
    expect((await hosts(token, demo.url)).status).toBe(200);
    const refused = await hosts(token, production.url);
    expect(refused.status).toBe(401);
    // The same API serves everyone else.
    expect((await hosts(await env.token('ops', 'viewer'), production.url)).status).toBe(200);
  } finally {
    await demo.close();
    await production.close();
  }
});

test('the token script records who issued and who revoked a token on the audit log, never the secret', async () => {
  const script = require.resolve('../../dist/scripts/token.js');
  const cli = (...args: string[]) =>
    run(process.execPath, [script, ...args], { env: { ...process.env, DATABASE_URL: env.databaseUrl } });
  const { stdout } = await cli('create', 'ci-runner', 'operator');
  const secret = stdout.trim();
  expect(secret).toMatch(/^shp_/);
  expect((await hosts(secret)).status).toBe(200);
  expect((await cli('revoke', 'ci-runner')).stdout).toContain('revoked 1 token(s) of ci-runner');
  await expect(cli('create', DEV_TOKEN_SUBJECT, 'admin')).rejects.toThrow(/"dev" is reserved for the demo's token/);

  const { rows } = await env.db.query(
    `SELECT actor_kind, actor, action, reason, before::text, after::text FROM audit_log
      WHERE action IN ('token-issued', 'token-revoked') AND reason LIKE '%ci-runner' ORDER BY seq`,
  );
  expect(rows.map((r) => [r.actor_kind, r.action, r.reason])).toEqual([
    ['person', 'token-issued', 'operator token for ci-runner'],
    ['person', 'token-revoked', '1 token(s) of ci-runner'],
  ]);
  for (const r of rows) {
    expect(r.actor).toMatch(/^token-cli:\S+@\S+$/);
    expect(JSON.stringify(r)).not.toContain(secret);
    expect(JSON.stringify(r)).not.toContain(secret.slice(4));
  }
});
