/**
 * The OpenStack provider against a small fake cloud on loopback (Keystone,
 * Nova, Ironic, one port): pagination links are followed only on the
 * endpoint the catalog names, so the token never goes elsewhere (another
 * loopback port that records what reaches it); and a node's BMC gets the
 * credentials reference its Ironic `extra` names, else the fleet-wide one.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { CloudConfig } from '../../providers/openstack/cloud-config';
import { OpenStackProvider } from '../../providers/openstack/provider';
import { OpenStackError } from '../../providers/openstack/session';
import { startElsewhere, type Elsewhere } from '../support/elsewhere';

interface FakeCloud {
  url: string;
  /** Ironic's node listing: the first page, and the next link it gives (if any); later pages by marker. */
  nodes: { pages: Record<string, unknown[]>; next: (marker: string) => string | undefined };
  servers: { page: unknown[]; next?: string };
  close(): Promise<void>;
}

const TOKEN = 'fake-token-7d1e';
const node = (name: string, extra: Record<string, unknown> = {}, address = `https://10.0.0.${name.slice(-1)}`) => ({
  uuid: `uuid-${name}`,
  name,
  power_state: 'power on',
  provision_state: 'active',
  maintenance: false,
  driver_info: { redfish_address: address, redfish_system_id: '/redfish/v1/Systems/1', redfish_password: '******' },
  extra,
});
const service = (host: string, id: number) => ({
  id,
  binary: 'nova-compute',
  host,
  zone: 'nova',
  status: 'enabled',
  state: 'up',
  disabled_reason: null,
});

async function startFakeCloud(): Promise<FakeCloud> {
  let base = '';
  const cloud: Omit<FakeCloud, 'url' | 'close'> = {
    nodes: { pages: { '': [] }, next: () => undefined },
    servers: { page: [] },
  };
  const json = (res: ServerResponse, status: number, body: unknown, headers = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      if (req.method === 'POST' && url.pathname === '/v3/auth/tokens')
        return json(
          res,
          201,
          {
            token: {
              expires_at: new Date(Date.now() + 3_600_000).toISOString(),
              catalog: [
                { type: 'compute', endpoints: [{ interface: 'public', url: `${base}/compute/v2.1` }] },
                { type: 'baremetal', endpoints: [{ interface: 'public', url: `${base}/baremetal` }] },
              ],
            },
          },
          { 'X-Subject-Token': TOKEN },
        );
      if (req.headers['x-auth-token'] !== TOKEN) return json(res, 401, { error: { message: 'no token' } });
      const hosts = Object.values(cloud.nodes.pages)
        .flat()
        .map((n) => (n as { name: string }).name);
      switch (url.pathname) {
        case '/compute/v2.1/':
          return json(res, 200, { version: { version: '2.90', min_version: '2.1' } });
        case '/compute/v2.1/os-services':
          return json(res, 200, { services: hosts.map((h, i) => service(h, i + 1)) });
        case '/compute/v2.1/os-aggregates':
          return json(res, 200, { aggregates: [] });
        case '/compute/v2.1/servers/detail':
          return json(res, 200, {
            servers: cloud.servers.page,
            ...(cloud.servers.next ? { servers_links: [{ rel: 'next', href: cloud.servers.next }] } : {}),
          });
        case '/baremetal/v1/nodes': {
          const marker = url.searchParams.get('marker') ?? '';
          const next = cloud.nodes.next(marker);
          return json(res, 200, { nodes: cloud.nodes.pages[marker] ?? [], ...(next ? { next } : {}) });
        }
        default:
          return json(res, 404, { error: { message: `${url.pathname} not faked` } });
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return Object.assign(cloud, {
    url: base,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  });
}

const cloudConfig = (url: string): CloudConfig => ({
  authUrl: `${url}/v3`,
  auth: {
    type: 'password',
    username: 'admin',
    password: 'pw',
    userDomainName: 'Default',
    projectName: 'admin',
    projectDomainName: 'Default',
  },
  regionName: null,
  interface: 'public',
  ca: null,
  insecure: false,
  timeoutMs: 5_000,
  endpointOverrides: {},
});

let fake: FakeCloud;
let elsewhere: Elsewhere;
beforeEach(async () => {
  fake = await startFakeCloud();
  elsewhere = await startElsewhere();
});
afterEach(async () => {
  await fake.close();
  await elsewhere.close();
});

test("Ironic's next link on the catalog's endpoint is followed: every page of nodes is listed", async () => {
  fake.nodes.pages = { '': [node('cmp-1')], 'uuid-cmp-1': [node('cmp-2')] };
  fake.nodes.next = (marker) =>
    marker === '' ? `${fake.url}/baremetal/v1/nodes?detail=true&limit=200&marker=uuid-cmp-1` : undefined;
  const hosts = await new OpenStackProvider(cloudConfig(fake.url)).listHosts();
  expect(hosts.map((h) => [h.id, h.bmc?.address])).toEqual([
    ['cmp-1', 'https://10.0.0.1'],
    ['cmp-2', 'https://10.0.0.2'],
  ]);
});

test.each([
  ['another port', (away: string) => `${away}/baremetal/v1/nodes?marker=uuid-cmp-1`],
  ['another scheme', (_away: string) => `${fake.url.replace('http:', 'https:')}/baremetal/v1/nodes?marker=uuid-cmp-1`],
])(
  "Ironic's next link to %s is refused, non-retryable, naming the link; the token is not sent there",
  async (_what, link) => {
    const next = link(elsewhere.url);
    fake.nodes.pages = { '': [node('cmp-1')] };
    fake.nodes.next = (marker) => (marker === '' ? next : undefined);
    const err = await new OpenStackProvider(cloudConfig(fake.url)).listHosts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenStackError);
    expect(err).toMatchObject({
      retryable: false,
      message: `baremetal: the next link of GET /v1/nodes: ${next} is not on the baremetal endpoint (${fake.url}); not followed, the token is not sent there`,
    });
    expect(elsewhere.received).toEqual([]);
  },
);

test("Nova's servers next link to another origin is refused the same way; the token is not sent there", async () => {
  const next = `${elsewhere.url}/compute/v2.1/servers/detail?all_tenants=1&host=cmp-1&limit=1000&marker=s1`;
  fake.servers.page = [{ id: 's1', name: 'vm-1', status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': 'cmp-1' }];
  fake.servers.next = next;
  await expect(new OpenStackProvider(cloudConfig(fake.url)).listServersOnHost('cmp-1')).rejects.toMatchObject({
    retryable: false,
    message: `compute: the next link of GET /servers/detail: ${next} is not on the compute endpoint (${fake.url}); not followed, the token is not sent there`,
  });
  expect(elsewhere.received).toEqual([]);
});

test('any absolute URL handed to the session is held to the same rule: refused before the token is sent', async () => {
  const session = new OpenStackProvider(cloudConfig(fake.url)).session;
  await expect(session.request('baremetal', 'GET', `${elsewhere.url}/v1/nodes`)).rejects.toMatchObject({
    retryable: false,
    message: expect.stringMatching(/^baremetal: GET link: .* is not on the baremetal endpoint/),
  });
  expect((await session.request('baremetal', 'GET', `${fake.url}/baremetal/v1/nodes`)).status).toBe(200);
  expect(elsewhere.received).toEqual([]);
});

test.each([
  ['the extra key names its own entry', { shipshape_bmc_credentials: 'rack-7' }, 'fleet', 'rack-7'],
  ['without the extra key, the fleet-wide reference', {}, 'fleet', 'fleet'],
  ['a null extra key counts as none', { shipshape_bmc_credentials: null }, 'fleet', 'fleet'],
  ['without either, no reference (no credentials)', {}, null, null],
  [
    'the node names its own even with no fleet-wide reference',
    { shipshape_bmc_credentials: 'lab.v2_x' },
    null,
    'lab.v2_x',
  ],
])("a node's BMC credentials reference: %s", async (_what, extra, fleetWide, expected) => {
  fake.nodes.pages = { '': [node('cmp-1', extra), node('cmp-2')] };
  const hosts = await new OpenStackProvider(cloudConfig(fake.url), { bmcCredentialsRef: fleetWide }).listHosts();
  expect(hosts.map((h) => [h.id, h.bmc?.credentialsRef])).toEqual([
    ['cmp-1', expected],
    ['cmp-2', fleetWide],
  ]);
});

test.each([
  ['not a string', 7],
  ['empty', ''],
  ['not a credentials name (it looks like a password)', 'hunter2 is my p@ss'],
  ['a list', ['rack-7']],
])(
  "a node's extra.shipshape_bmc_credentials that is %s fails the listing naming the node and field, never the value",
  async (_what, value) => {
    fake.nodes.pages = { '': [node('cmp-1'), node('cmp-2', { shipshape_bmc_credentials: value })] };
    const err = (await new OpenStackProvider(cloudConfig(fake.url), { bmcCredentialsRef: 'fleet' })
      .listHosts()
      .catch((e: unknown) => e)) as OpenStackError;
    expect(err).toBeInstanceOf(OpenStackError);
    expect(err).toMatchObject({ retryable: false });
    expect(err.message).toMatch(
      /^baremetal: node cmp-2: extra\.shipshape_bmc_credentials must be the name of a BMC credentials entry/,
    );
    if (typeof value === 'string' && value) expect(err.message).not.toContain(value);
  },
);
