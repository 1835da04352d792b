/**
 * A PostgreSQL restart is an outage, not a crash: the API and the worker (real
 * processes, on a cluster of this file's own) keep running while PostgreSQL
 * stops (fast shutdown) and starts again on the same port. Requests during the
 * outage are answered 503 with Retry-After, every signal answered 202 is in the
 * signals table afterwards, requests succeed again once it is back, and a
 * remediation whose activities failed during the outage is retried to the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createToken } from '../../api/auth';
import { writeNewKeysFile } from '../../config/keys';
import { injectFault } from '../../providers/simulated/admin';
import { freePort, migrate, startPostgres, type RunningPostgres } from '../../scripts/services';
import { eventually } from '../support/http';

const DIST = join(__dirname, '..', '..', 'dist');
const TOKEN = `restart-test-${randomUUID()}`;
const POLICY = `name: restart-test
description: a power cycle fixes it
match:
  signals: [HostDown]
steps:
  - action: power-cycle
    fixWithinSeconds: 2
verify: { attempts: 3, intervalSeconds: 1 }
`;

let dir: string;
let pg: RunningPostgres;
let fixtures: Pool;
let apiUrl: string;
const children: { name: string; child: ChildProcess; output: string[] }[] = [];

function startProcess(name: string, main: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [join(DIST, main)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => output.push(chunk.toString());
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  children.push({ name, child, output });
  return child;
}

const exited = () => children.filter(({ child }) => child.exitCode !== null || child.signalCode !== null);

interface Answer {
  status: number;
  retryAfter: string | null;
  signalId?: string;
  code?: string;
  at: number;
}

async function sendSignal(host: string, name: string, n: number): Promise<Answer> {
  const at = Date.now();
  try {
    const res = await fetch(`${apiUrl}/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        source: 'restart-test',
        name,
        resource: { kind: 'host', id: host },
        severity: 'warning',
        status: 'firing',
        labels: { host, n: String(n) },
        annotations: {},
        startsAt: new Date().toISOString(),
      }),
      signal: AbortSignal.timeout(20_000),
    });
    const body = (await res.json().catch(() => ({}))) as { signalId?: string; error?: { code?: string } };
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      signalId: body.signalId,
      code: body.error?.code,
      at,
    };
  } catch (err) {
    return { status: 0, retryAfter: null, code: (err as Error).message, at };
  }
}

beforeAll(async () => {
  for (const main of ['api/main.js', 'workers/main.js'])
    if (!existsSync(join(DIST, main))) throw new Error(`dist/${main} is missing: run "npm run build" first`);
  dir = mkdtempSync(join(tmpdir(), 'shipshape-pg-restart-'));
  chmodSync(dir, 0o755); // the cluster may run as the postgres user
  pg = await startPostgres({ dataDir: join(dir, 'pg'), fast: true });
  await pg.createDatabase('shipshape');
  migrate(pg.ownerUrl('shipshape'));
  fixtures = new Pool({ connectionString: pg.url('shipshape'), max: 2 });
  fixtures.on('error', () => undefined); // this pool sees the restart too
  await createToken(fixtures, 'restart-test', 'admin', { token: TOKEN });
  const keysFile = join(dir, 'keys.json');
  writeNewKeysFile(keysFile);

  const policyDir = join(dir, 'policies');
  mkdirSync(policyDir);
  writeFileSync(join(policyDir, 'restart-test.yaml'), POLICY);
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  const common = {
    DATABASE_URL: pg.appUrl('shipshape'),
    TEMPORAL_ADDRESS: process.env.SHIPSHAPE_TEST_TEMPORAL!,
    TEMPORAL_TASK_QUEUE: `pg-restart-${randomUUID()}`,
    SHIPSHAPE_WORKFLOW_ID_PREFIX: `pg-restart-${randomUUID().slice(0, 8)}/`,
    SHIPSHAPE_SWEEP_INTERVAL_SECONDS: '0', // no schedule left behind on the shared dev server
    SHIPSHAPE_KEYS_FILE: keysFile,
    LOG_LEVEL: 'warn',
  };
  startProcess('worker', 'workers/main.js', {
    ...common,
    SHIPSHAPE_SEED_SIMULATED_FLEET: 'true',
    SHIPSHAPE_SIM_MIGRATION_SECONDS: '1',
    SHIPSHAPE_SIM_POWER_ON_SECONDS: '1',
  });
  startProcess('api', 'api/main.js', {
    ...common,
    SHIPSHAPE_API_PORT: String(port),
    SHIPSHAPE_POLICY_DIR: policyDir,
  });
  await eventually(
    'the simulated fleet in the inventory and the API answering',
    async () => {
      const hosts = await fixtures.query('SELECT count(*)::int AS n FROM hosts');
      const ready = await fetch(`${apiUrl}/readyz`).catch(() => null);
      return hosts.rows[0].n > 0 && ready?.ok ? true : undefined;
    },
    60_000,
  );
}, 90_000);

afterAll(async () => {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await fixtures?.end().catch(() => undefined);
  await pg?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('API and worker survive a PostgreSQL restart under load: 503 with Retry-After meanwhile, no accepted signal lost, service again after', async () => {
  const remediated = 'cmp-a-03';
  await injectFault(fixtures, remediated, { unhealthy: 'IPMI: processor thermal trip' });
  const started = await sendSignal(remediated, 'HostDown', 0);
  expect(started.status).toBe(202);

  // Load: four clients sending signals without pause, for hosts of both zones.
  const answers: Answer[] = [];
  let sending = true;
  let n = 1;
  const client = async (c: number) => {
    while (sending) {
      answers.push(await sendSignal(`cmp-${c % 2 ? 'a' : 'b'}-0${(c % 4) + 4}`, 'DiskLatency', n++));
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const clients = [0, 1, 2, 3].map(client);

  await new Promise((r) => setTimeout(r, 1500));
  const stoppedAt = Date.now();
  await pg.stop(); // fast shutdown: sessions are terminated (57P01), idle pooled clients lose their connection
  await new Promise((r) => setTimeout(r, 4000));
  await pg.start();
  const restartedAt = Date.now();
  await eventually('a signal accepted after the restart, or a process gone', async () =>
    answers.some((a) => a.at > restartedAt && a.status === 202) || exited().length > 0 ? true : undefined,
  );
  await new Promise((r) => setTimeout(r, 1000));
  sending = false;
  await Promise.all(clients);

  for (const { name, child, output } of exited())
    throw new Error(`the ${name} process exited (${child.exitCode ?? child.signalCode}):\n${output.join('')}`);
  const during = answers.filter((a) => a.at > stoppedAt && a.at < restartedAt);
  expect(during.length).toBeGreaterThan(0);
  expect(during.filter((a) => a.status === 503).length).toBeGreaterThan(0);
  for (const a of answers.filter((x) => x.status !== 202)) {
    expect({ status: a.status, code: a.code }).toEqual({ status: 503, code: 'database_unavailable' });
    expect(Number(a.retryAfter)).toBeGreaterThan(0);
  }
  const accepted = answers.filter((a) => a.status === 202).map((a) => a.signalId!);
  expect(accepted.length).toBeGreaterThan(0);
  const { rows } = await fixtures.query<{ id: string }>('SELECT id FROM signals WHERE id = ANY($1::uuid[])', [
    accepted,
  ]);
  expect(rows.map((r) => r.id).sort()).toEqual([...accepted].sort());

  // The remediation's activities failed while PostgreSQL was away; Temporal retried them to the end.
  const phase = await eventually(
    'the remediation started before the outage closes',
    async () => {
      const r = await fixtures.query<{ phase: string }>(
        'SELECT phase FROM remediations WHERE host = $1 AND closed_at IS NOT NULL',
        [remediated],
      );
      return r.rows[0]?.phase;
    },
    90_000,
  );
  expect(phase).toBe('returned');
}, 180_000);
