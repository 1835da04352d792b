/**
 * Nothing lost, nothing done twice: a real worker process is killed (SIGKILL)
 * while it tracks a live migration, a new one starts, and the remediation
 * completes with every server moved exactly once.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { injectFault } from '../../providers/simulated/admin';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';
import { spawnWorkerProcess, WORKER_MAIN } from '../support/worker-process';

const WORKER = WORKER_MAIN;

let env: TestEnv;
let operator: string;
const children: ChildProcess[] = [];

function startWorkerProcess(): ChildProcess {
  const child = spawnWorkerProcess(env, { SHIPSHAPE_SIM_MIGRATION_SECONDS: '3', SHIPSHAPE_SIM_POWER_ON_SECONDS: '1' });
  children.push(child);
  return child;
}

beforeAll(async () => {
  if (!existsSync(WORKER))
    throw new Error(`${WORKER} is missing: run "npm run build" before the tests (npm test does)`);
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 4, serversPerHost: 3 } });
  operator = await env.token('ops-bot', 'operator');
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await env.close();
});

test('a worker killed in the middle of a drain is replaced and the remediation completes without moving any server twice', async () => {
  const host = 'cmp-a-01';
  await injectFault(env.db, host, { unhealthy: 'IPMI: processor thermal trip' });
  const servers = (await env.db.query('SELECT id FROM sim_servers WHERE host = $1', [host])).rows.map(
    (r) => r.id as string,
  );
  const first = startWorkerProcess();

  const id = (await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host))).body.remediationId;
  // Wait until a live migration is in flight, then kill the worker without warning.
  await eventually('a migration in flight', async () => {
    const r = await env.db.query("SELECT 1 FROM sim_migrations WHERE source = $1 AND status = 'running'", [host]);
    return r.rowCount ? true : undefined;
  });
  first.kill('SIGKILL');
  await new Promise((ok) => first.once('exit', ok));

  startWorkerProcess();
  const done = await eventually(
    'returned after the restart',
    async () => {
      const r = (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;
      return r.phase === 'returned' ? r : undefined;
    },
    90_000,
  );
  expect(done.poolState).toBe('in-service');

  const moves = await env.db.query(
    'SELECT server_id, count(*)::int AS n FROM sim_migrations WHERE server_id = ANY($1) GROUP BY server_id ORDER BY server_id',
    [servers],
  );
  expect(moves.rows).toEqual(servers.sort().map((s) => ({ server_id: s, n: 1 })));
  const left = await env.db.query('SELECT count(*)::int AS n FROM sim_servers WHERE host = $1', [host]);
  expect(left.rows[0].n).toBe(0);
  expect((await env.db.query('SELECT power_cycles FROM sim_hosts WHERE id = $1', [host])).rows[0].power_cycles).toBe(1);
});
