/**
 * The audit log is tamper-evident: the application role (as which the API and
 * the worker connect) can only append and read it, TRUNCATE is refused, and
 * every row carries the hash of the one before it, so an edit or a delete made
 * behind the application's back (as a superuser) is named by
 * `GET /v1/audit-log/verify` and by `npm run audit:verify`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { appendPersonAudit, auditLogPowersOfCurrentRole, verifyAuditChain } from '../../db/audit-log';
import { PROJECT_ROOT } from '../../scripts/services';
import { createTestEnv, type TestEnv } from '../support/env';
import { http } from '../support/http';

const AUDIT_CLI = join(__dirname, '..', '..', 'dist', 'scripts', 'audit.js');

let env: TestEnv;
let viewer: string;

beforeAll(async () => {
  env = await createTestEnv();
  viewer = await env.token('auditor', 'viewer');
});
afterAll(() => env.close());

/** The superuser of this file's database: what an attacker with the server's keys would use. */
async function asSuperuser<T>(fn: (pg: PgClient) => Promise<T>): Promise<T> {
  const database = new URL(env.databaseUrl).pathname.slice(1);
  const pg = new PgClient({
    connectionString: `postgres://shipshape@127.0.0.1:${process.env.SHIPSHAPE_TEST_PG_PORT}/${database}`,
  });
  await pg.connect();
  try {
    // As pg_dump's restore does: row triggers (the append-only one among them) do not fire.
    await pg.query(`SET session_replication_role = replica`);
    return await fn(pg);
  } finally {
    await pg.end();
  }
}

const verify = () => http('GET', `${env.apiUrl}/v1/audit-log/verify`, viewer);

function verifyCli(): { status: number | null; out: string } {
  const run = spawnSync(process.execPath, [AUDIT_CLI, 'verify'], {
    env: { ...process.env, DATABASE_URL: env.databaseUrl, LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

async function seqs(): Promise<number[]> {
  const { rows } = await env.db.query<{ seq: string }>('SELECT seq FROM audit_log ORDER BY seq');
  return rows.map((r) => Number(r.seq));
}

test('rows appended concurrently by the application chain in order, and the chain verifies', async () => {
  await Promise.all(
    Array.from({ length: 30 }, (_, i) => appendPersonAudit(env.db, `person-${i % 3}`, 'pause', `reason ${i}`)),
  );
  const res = await verify();
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ ok: true, firstBreak: null });
  expect(res.body.checked).toBeGreaterThanOrEqual(30);
  const all = await seqs();
  expect(res.body.head.seq).toBe(all[all.length - 1]);
  const cli = verifyCli();
  expect(cli.out).toContain('chain intact');
  expect(cli.status).toBe(0);
});

test.each([
  ['UPDATE', `UPDATE audit_log SET reason = 'nothing happened'`, /permission denied/],
  ['DELETE', `DELETE FROM audit_log`, /permission denied/],
  ['TRUNCATE', `TRUNCATE audit_log`, /permission denied/],
  ['DROP TRIGGER', `DROP TRIGGER audit_log_no_update ON audit_log`, /must be owner/],
  ['DISABLE TRIGGER', `ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain`, /must be owner/],
  ['UPDATE of a policy version', `UPDATE policy_versions SET content = ''`, /permission denied/],
  ['DELETE of a policy version', `DELETE FROM policy_versions`, /permission denied/],
])('the application role may not %s', async (_what, sql, refusal) => {
  const before = await seqs();
  await expect(env.db.query(sql)).rejects.toThrow(refusal);
  expect(await seqs()).toEqual(before);
});

test('the start-up check finds no power over the audit log in the application role, and every one in the superuser', async () => {
  expect(await auditLogPowersOfCurrentRole(env.db)).toEqual([]);
  expect((await asSuperuser((pg) => auditLogPowersOfCurrentRole(pg))).sort()).toEqual([
    'DELETE',
    'TRUNCATE',
    'UPDATE',
    'owner',
  ]);
});

test('TRUNCATE is refused by a trigger even to the owner of the table', async () => {
  const database = new URL(env.databaseUrl).pathname.slice(1);
  const owner = new PgClient({
    connectionString: `postgres://shipshape_owner@127.0.0.1:${process.env.SHIPSHAPE_TEST_PG_PORT}/${database}`,
  });
  await owner.connect();
  try {
    await expect(owner.query('TRUNCATE audit_log')).rejects.toThrow(/audit_log is append-only: TRUNCATE is refused/);
  } finally {
    await owner.end();
  }
});

test('a row edited as a superuser is named by the verify route and the CLI, which exits non-zero', async () => {
  const all = await seqs();
  const victim = all[10]!;
  const original = await asSuperuser(async (pg) => {
    const { rows } = await pg.query<{ reason: string }>('SELECT reason FROM audit_log WHERE seq = $1', [victim]);
    await pg.query(`UPDATE audit_log SET reason = 'nothing to see here' WHERE seq = $1`, [victim]);
    return rows[0]!.reason;
  });

  const res = await verify();
  expect(res.status).toBe(200);
  expect(res.body.ok).toBe(false);
  expect(res.body.firstBreak).toMatchObject({ seq: victim, problem: 'content' });
  expect(res.body.firstBreak.message).toContain(`row ${victim}`);
  const cli = verifyCli();
  expect(cli.out).toContain(`BROKEN at row ${victim}`);
  expect(cli.status).toBe(1);

  // Put back as it was, the chain holds again: the hash covers exactly the content.
  await asSuperuser((pg) => pg.query('UPDATE audit_log SET reason = $2 WHERE seq = $1', [victim, original]));
  expect((await verify()).body).toMatchObject({ ok: true });
});

test('a middle row deleted as a superuser breaks the link of the row after it', async () => {
  const all = await seqs();
  const [deleted, next] = [all[5]!, all[6]!];
  await asSuperuser((pg) => pg.query('DELETE FROM audit_log WHERE seq = $1', [deleted]));

  const res = await verify();
  expect(res.body.ok).toBe(false);
  expect(res.body.firstBreak).toMatchObject({ seq: next, problem: 'link' });
  expect(res.body.firstBreak.message).toContain(`row ${all[4]}`);
  const cli = verifyCli();
  expect(cli.out).toContain(`BROKEN at row ${next}`);
  expect(cli.status).toBe(1);
});

test('rows written before the chain existed are chained by its migration, and new rows chain onto them', async () => {
  const port = process.env.SHIPSHAPE_TEST_PG_PORT;
  const name = `m_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const superuser = new PgClient({ connectionString: `postgres://shipshape@127.0.0.1:${port}/postgres` });
  await superuser.connect();
  await superuser.query(`CREATE DATABASE ${name} OWNER shipshape_owner`);
  await superuser.end();
  const ownerUrl = `postgres://shipshape_owner@127.0.0.1:${port}/${name}`;
  const migrateUp = (...count: string[]) =>
    execFileSync(
      process.execPath,
      [join(PROJECT_ROOT, 'node_modules', 'node-pg-migrate', 'bin', 'node-pg-migrate.js'), 'up', ...count],
      { env: { ...process.env, DATABASE_URL: ownerUrl }, cwd: PROJECT_ROOT, stdio: 'pipe' },
    );
  migrateUp('4'); // the schema as it was before the chain
  const db = new PgClient({ connectionString: ownerUrl });
  await db.connect();
  try {
    for (const reason of ['first', 'second', 'third'])
      await db.query(
        `INSERT INTO audit_log (actor_kind, actor, action, reason, before) VALUES ('person', 'ada', 'pause', $1, '{"b": 1, "a": [2]}')`,
        [reason],
      );
    migrateUp();
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, checked: 3, head: { seq: 3 } });
    await appendPersonAudit(db, 'ada', 'resume', 'fourth');
    expect(await verifyAuditChain(db, 2)).toMatchObject({ ok: true, checked: 4, head: { seq: 4 } });
  } finally {
    await db.end();
  }
});
