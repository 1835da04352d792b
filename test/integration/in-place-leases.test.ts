/**
 * In-place leases (db/guards.ts), for changes that leave the host in service
 * (a compliance fix without a drain), under the shipped fleet guards on three
 * hosts in one zone: bounded per zone among themselves, held back by the
 * pause, never counted as a host out, a take-out, or towards the cooldown.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  pauseAutomation,
  previousTakeOutsOfHost,
  releaseCapacityLease,
  resumeAutomation,
  takeCapacityLease,
} from '../../db/guards';
import { indexStartedRemediation } from '../../db/remediations';
import { parseGuards } from '../../policies/guards-schema';
import { createTestEnv, type TestEnv } from '../support/env';

const GUARDS_FILE = join(__dirname, '..', '..', 'policies', 'guards.yaml');
const SHIPPED = parseGuards(GUARDS_FILE, readFileSync(GUARDS_FILE, 'utf8'));

let env: TestEnv;
let hosts: string[];
beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 1 } });
  hosts = (await env.db.query<{ id: string }>('SELECT id FROM hosts ORDER BY id')).rows.map((r) => r.id);
});
afterAll(() => env?.close());

/** A remediation of the host, as the API indexes one (a lease belongs to one). */
async function remediationOf(host: string): Promise<string> {
  const remediationId = randomUUID();
  // One open remediation per host: the test's earlier ones are over.
  await env.db.query(`UPDATE remediations SET closed_at = now() WHERE host = $1 AND closed_at IS NULL`, [host]);
  await indexStartedRemediation(env.db, {
    remediationId,
    host,
    workflowId: `remediation/${host}/${remediationId}`,
    policyName: 'compliance-drift',
    policyVersion: 'v1',
    requestedBy: 'compliance',
  });
  return remediationId;
}

const lease = async (host: string, inPlace: boolean) =>
  takeCapacityLease(
    env.db,
    { remediationId: await remediationOf(host), host, zone: 'zone-a', ...(inPlace ? { inPlace } : {}) },
    SHIPPED,
  );

test('one in-place change per zone at a time (the shipped maxConcurrentPerZone), beside a take-out, not counted as a host out', async () => {
  const out = await remediationOf(hosts[0]!);
  expect(
    await takeCapacityLease(env.db, { remediationId: out, host: hosts[0]!, zone: 'zone-a' }, SHIPPED),
  ).toMatchObject({
    acquired: true,
  });
  const fix = await remediationOf(hosts[1]!);
  expect(
    await takeCapacityLease(env.db, { remediationId: fix, host: hosts[1]!, zone: 'zone-a', inPlace: true }, SHIPPED),
  ).toMatchObject({ acquired: true });
  const second = await lease(hosts[2]!, true);
  expect(second.acquired).toBe(false);
  expect((second as { blockers: Array<{ guard: string }> }).blockers.map((b) => b.guard)).toContain('zone-concurrency');
  // The in-place change is no host out: zone-a has one host out (the take-out), not two.
  const { rows } = await env.db.query(
    `SELECT count(*)::int AS n FROM hosts h WHERE EXISTS (SELECT 1 FROM guard_leases l WHERE l.host = h.id AND l.released_at IS NULL AND NOT l.in_place)`,
  );
  expect(rows[0].n).toBe(1);
  await releaseCapacityLease(env.db, out);
  await releaseCapacityLease(env.db, fix);
});

test('the pause holds in-place changes back too', async () => {
  await pauseAutomation(env.db, 'ops', 'change freeze');
  const held = await lease(hosts[2]!, true);
  expect(held.acquired).toBe(false);
  await resumeAutomation(env.db, 'ops', 'freeze over');
});

test('an in-place change is no take-out: the cooldown and the attempts do not count it', async () => {
  const fixId = await remediationOf(hosts[2]!);
  await takeCapacityLease(env.db, { remediationId: fixId, host: hosts[2]!, zone: 'zone-a', inPlace: true }, SHIPPED);
  await releaseCapacityLease(env.db, fixId);
  const seen = await previousTakeOutsOfHost(env.db, hosts[2]!, randomUUID(), 1440);
  expect(seen).toEqual({ lastEndedAt: null, attempts: 1 });
});
