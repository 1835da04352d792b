/**
 * Compliance rules of kind `openstack` (the shipped compute-host profile)
 * against the project's test cloud: a scan started through the API, on the
 * real Temporal dev server and PostgreSQL, reads Nova's services, aggregates
 * and hypervisors once for all the hosts it scans, and judges each compute
 * host: enabled and up, in exactly one aggregate, at the fleet's hypervisor
 * version. The scene is set through Nova's own API: compute-2 in two
 * aggregates, compute-3 in none with its service disabled for a reason.
 */
import { join } from 'node:path';
import { syncInventory } from '../../activities/inventory';
import { loadCloudConfig, type CloudConfig } from '../../providers/openstack/cloud-config';
import { OpenStackProvider } from '../../providers/openstack/provider';
import { OpenStackSession } from '../../providers/openstack/session';
import { SshCredentials } from '../../providers/ssh/credentials';
import { complianceActivities, findingsByRule, runScan, type ScanView } from '../support/compliance';
import { createTestEnv, type TestEnv } from '../support/env';
import { startTestCloud, type TestCloud } from './cloud';

const NOVA = { 'X-OpenStack-Nova-API-Version': '2.90' };
const REASON = 'c13: firmware update, ticket OPS-1234';
/** How long one reading of the cloud serves a scan's hosts (30 s by default; shorter so the last test waits less). */
const FACTS_TTL_MS = 5_000;

/** The real provider; it only counts how often the fleet's compute facts are read. */
class CountingProvider extends OpenStackProvider {
  fleetReads = 0;
  override async readComputeFleet() {
    this.fleetReads++;
    return super.readComputeFleet();
  }
}

let cloud: TestCloud;
let config: CloudConfig;
let admin: OpenStackSession;
let provider: CountingProvider;
let env: TestEnv;
let operator: string;
let viewer: string;
const aggregateIds: number[] = [];

async function nova(method: string, path: string, body?: unknown): Promise<any> {
  const r = await admin.request('compute', method, path, { headers: NOVA, body });
  return r.body;
}

async function serviceOf(host: string): Promise<{ id: string }> {
  const { services } = await nova('GET', `/os-services?binary=nova-compute&host=${host}`);
  return services[0];
}

async function aggregate(name: string, hosts: string[]): Promise<void> {
  const { aggregate: created } = await nova('POST', '/os-aggregates', { aggregate: { name } });
  aggregateIds.push(created.id);
  for (const host of hosts) await nova('POST', `/os-aggregates/${created.id}/action`, { add_host: { host } });
}

const scan = (hosts: string[]) => runScan(env, { operator, viewer }, { hosts, profiles: ['compute-host'] });
const findingsOf = (host: string) => findingsByRule(env, viewer, host);

beforeAll(async () => {
  cloud = await startTestCloud(
    process.env.SHIPSHAPE_TEST_CLOUD_DIR
      ? {
          stateDir: process.env.SHIPSHAPE_TEST_CLOUD_DIR,
          portBase: Number(process.env.SHIPSHAPE_TEST_CLOUD_PORT_BASE ?? 23300),
        }
      : {},
  );
  config = loadCloudConfig({ OS_CLOUD: cloud.cloudName, OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml });
  admin = new OpenStackSession(config);
  await aggregate('c13-rack-a', ['compute-1', 'compute-2']);
  await aggregate('c13-gpu', ['compute-2']);
  await nova('PUT', `/os-services/${(await serviceOf('compute-3')).id}`, {
    status: 'disabled',
    disabled_reason: REASON,
  });
  provider = new CountingProvider(config);
  env = await createTestEnv({ provider: () => provider });
  await syncInventory(env.db, env.provider);
  await env.startWorker(
    complianceActivities(env, {
      sshCredentials: SshCredentials.empty(),
      profilesDir: join(__dirname, '../../policies/compliance'),
      openstackFactsTtlMs: FACTS_TTL_MS,
    }),
  );
  operator = await env.token('olivia', 'operator');
  viewer = await env.token('victor', 'viewer');
}, 600_000);

afterAll(async () => {
  // Leave the cloud as it was seeded: the service enabled, the aggregates gone.
  if (admin) {
    await nova('PUT', `/os-services/${(await serviceOf('compute-3')).id}`, { status: 'enabled' }).catch(() => {});
    for (const id of aggregateIds) {
      const { aggregate: a } = await nova('GET', `/os-aggregates/${id}`);
      for (const host of a.hosts as string[])
        await nova('POST', `/os-aggregates/${id}/action`, { remove_host: { host } });
      await nova('DELETE', `/os-aggregates/${id}`);
    }
  }
  await env?.close();
  await cloud?.stop();
}, 120_000);

describe('a scan of the test cloud with the shipped compute-host profile', () => {
  let result: ScanView;
  let readsBefore: number;
  beforeAll(async () => {
    readsBefore = provider.fleetReads;
    result = await scan(['compute-1', 'compute-2', 'compute-3']);
  }, 90_000);

  it('completes, with every host scanned', () => {
    expect(result).toMatchObject({ status: 'completed', error: null });
    expect(result.summary).toMatchObject({ hosts: 3, scanned: 3, failed: [] });
  });

  it("reads the cloud's compute facts once for the three hosts, not once per host", () => {
    expect(provider.fleetReads - readsBefore).toBe(1);
  });

  it('passes the host that is enabled, up, in one aggregate and at the fleet hypervisor version', async () => {
    const f = await findingsOf('compute-1');
    expect(f['compute.nova-compute-enabled-up']).toMatchObject({ state: 'pass', observed: 'nova-compute enabled, up' });
    expect(f['compute.one-aggregate']).toMatchObject({ state: 'pass', observed: 'in 1 aggregate(s): c13-rack-a' });
    expect(f['compute.hypervisor-fleet-version']).toMatchObject({
      state: 'pass',
      observed: "hypervisor 1000; fleet's most common 1000 (3 of 3 hosts)",
    });
  });

  it('fails the host in two aggregates, naming them', async () => {
    const f = await findingsOf('compute-2');
    expect(f['compute.one-aggregate']).toMatchObject({
      state: 'fail',
      reason: 'the host is in 2 aggregate(s): c13-gpu, c13-rack-a, not exactly 1',
    });
    expect(f['compute.nova-compute-enabled-up']).toMatchObject({ state: 'pass' });
  });

  it('fails the host whose nova-compute is disabled, with the reason it was disabled for, and in no aggregate', async () => {
    const f = await findingsOf('compute-3');
    expect(f['compute.nova-compute-enabled-up']).toMatchObject({
      state: 'fail',
      observed: `nova-compute disabled (${REASON}), up`,
      reason: `nova-compute is disabled: ${REASON}`,
    });
    expect(f['compute.one-aggregate']).toMatchObject({
      state: 'fail',
      reason: 'the host is in no aggregate, not exactly 1',
    });
  });
});

test('the service enabled again passes at the next scan', async () => {
  await nova('PUT', `/os-services/${(await serviceOf('compute-3')).id}`, { status: 'enabled' });
  // The reading the first scan made is kept FACTS_TTL_MS: a scan started after that reads the cloud again.
  await new Promise((ok) => setTimeout(ok, FACTS_TTL_MS + 500));
  const readsBefore = provider.fleetReads;
  expect(await scan(['compute-3'])).toMatchObject({ status: 'completed' });
  const f = await findingsOf('compute-3');
  expect(f['compute.nova-compute-enabled-up']).toMatchObject({ state: 'pass', observed: 'nova-compute enabled, up' });
  expect(provider.fleetReads - readsBefore).toBe(1);
}, 120_000);
