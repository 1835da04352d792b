/**
 * The vCPU headroom guard on the real dev server: with the sweep's
 * utilisation, a host whose servers the zone's other hosts could not take
 * waits for capacity, named by the guard; once capacity is there (and swept),
 * it proceeds and is returned.
 */
import { randomUUID } from 'node:crypto';
import { injectFault } from '../../providers/simulated/admin';
import type { telemetrySweepWorkflow } from '../../workflows/telemetry';
import { createTestEnv, PERMISSIVE_GUARDS, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';

let env: TestEnv;
let operator: string;
const guards = { ...PERMISSIVE_GUARDS, minFreeVcpuPercentPerZone: 10, pollSeconds: 1 };

beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 2 }, guards: () => guards });
  operator = await env.token('monitoring', 'operator');
  await env.startWorker();
});
afterAll(() => env.close());

const sweep = () =>
  env.client.workflow.execute<typeof telemetrySweepWorkflow>('telemetrySweepWorkflow', {
    taskQueue: env.taskQueue,
    workflowId: `${env.workflowIdPrefix}sweep-${randomUUID()}`,
    args: [{}],
  });

test('a host whose servers the rest of the zone cannot take waits on vcpu-headroom, then proceeds once capacity is there', async () => {
  // Each host runs 2 servers of 4 vCPUs. With 9 vCPUs a host, the other two have 2 free between them.
  await env.db.query('UPDATE sim_hosts SET vcpus = 9');
  await sweep();
  const host = 'cmp-a-01';
  await injectFault(env.db, host, { unhealthy: 'IPMI: fan 3 failed' });
  const started = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host));
  const id = started.body.remediationId;
  const waiting = await eventually('waiting for capacity', async () => {
    const r = (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;
    return r.phase === 'waiting-for-capacity' ? r : undefined;
  });
  expect(waiting.waitingFor).toEqual([
    {
      guard: 'vcpu-headroom',
      reason: "the other in-service hosts of zone-a have 2 vCPUs free; this host's servers need 8",
    },
  ]);
  expect((await env.db.query('SELECT count(*)::int AS n FROM sim_migrations')).rows[0].n).toBe(0);

  // More capacity, read by the next sweep: 64 vCPUs a host leaves 112 of 128 free.
  await env.db.query('UPDATE sim_hosts SET vcpus = 64');
  await sweep();
  const done = await eventually(
    'returned',
    async () => {
      const r = (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;
      return r.outcome ? r : undefined;
    },
    90_000,
  );
  expect(done.phase).toBe('returned');
});
