/**
 * What a compliance scan reads for rules of kind `redfish` and `openstack`,
 * table-style and without I/O: when the BMC is read live rather than judged
 * from the sweep's snapshot; a part a live read could not get as the reason a
 * rule is `error`; Nova's services, aggregates and hypervisors (real answer
 * shapes, validated by the provider's schemas) put together per host; and the
 * host's evidence against the fleet's.
 */
import {
  hypervisorVersionsOf,
  judgeOpenStack,
  judgeRedfish,
  liveRedfishReason,
  openstackEvidenceFor,
  type RedfishEvidence,
} from '../../domain/compliance-platform';
import type { ComputeFleetFacts } from '../../domain/provider';
import { computeFleetFacts } from '../../providers/openstack/compute-fleet';
import * as os from '../../providers/openstack/schemas';
import { parseAnswer } from '../../providers/openstack/session';

describe('a live BMC read or the snapshot', () => {
  const now = new Date('2026-12-08T03:00:00Z');
  const HOUR = 3_600_000;
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
  it.each([
    ['no redfish rule', [], minutesAgo(1), null],
    [
      'firmware versions and PSUs from a fresh snapshot',
      ['biosVersion', 'bmcFirmware', 'psuRedundancy'],
      minutesAgo(5),
      null,
    ],
    [
      'the model, which snapshots never carry',
      ['model', 'biosVersion'],
      minutesAgo(5),
      'the snapshot carries no model',
    ],
    [
      'BIOS attributes and secure boot',
      ['biosAttributes', 'secureBoot'],
      minutesAgo(5),
      'the snapshot carries no biosAttributes, secureBoot',
    ],
    ['no snapshot yet', ['psuRedundancy'], null, 'no BMC snapshot yet'],
    [
      'a snapshot older than the bound',
      ['bmcFirmware'],
      minutesAgo(90),
      'the snapshot is 90 min old (more than 60 min)',
    ],
  ] as const)('%s', (_, fields, readAt, expected) => {
    expect(liveRedfishReason(fields, readAt, now, HOUR)).toBe(expected);
  });
});

describe('a part a live read could not get', () => {
  const live: RedfishEvidence = {
    source: 'live',
    readAt: '2026-12-08T03:00:00Z',
    model: 'PowerEdge R650',
    biosVersion: '1.13.2',
    bmcFirmware: null,
    biosAttributes: null,
    secureBoot: null,
    psuRedundancy: 'unknown',
    problems: {
      bmcFirmware: 'bmc-7: GET /redfish/v1/Managers/1: the manager has no FirmwareVersion',
      biosAttributes: 'bmc-7: GET /redfish/v1/Systems/1: the system links no Bios resource',
      psuRedundancy:
        'bmc-7: /redfish/v1/Chassis/1 has no Power or PowerSubsystem resource (no power supply redundancy)',
    },
  };
  it.each([
    [
      { type: 'firmware', component: 'bmc', allowed: {}, unlistedModels: 'fail' } as const,
      'the manager has no FirmwareVersion',
    ],
    [
      { type: 'bios-attribute', attribute: 'ProcVirtualization', expected: 'Enabled' } as const,
      'links no Bios resource',
    ],
    [{ type: 'psu-redundancy' } as const, 'has no Power or PowerSubsystem resource'],
    [{ type: 'secure-boot', enabled: true } as const, 'the secure boot state is not in the BMC reading'],
  ])('is the error of the rule that needs it: %j', (check, reason) => {
    const v = judgeRedfish(check, live);
    expect(v.state).toBe('error');
    expect(v.reason).toContain(reason);
    expect(v.reason).toContain('live of 2026-12-08T03:00:00Z');
  });
  it('leaves the rules whose fields were read to be judged', () => {
    const v = judgeRedfish(
      { type: 'firmware', component: 'bios', allowed: { 'PowerEdge R650': ['1.13.2'] }, unlistedModels: 'fail' },
      live,
    );
    expect(v.state).toBe('pass');
  });
});

/** Nova's answers as the test cloud (Zed, microversion 2.90) gives them, trimmed. */
const SERVICES = {
  services: [
    {
      id: 'a1',
      binary: 'nova-compute',
      host: 'cmp-1',
      zone: 'nova',
      status: 'enabled',
      state: 'up',
      disabled_reason: null,
      forced_down: false,
    },
    {
      id: 'a2',
      binary: 'nova-compute',
      host: 'cmp-2',
      zone: 'az-2',
      status: 'disabled',
      state: 'up',
      disabled_reason: 'shipshape: drain',
      forced_down: false,
    },
    {
      id: 'a3',
      binary: 'nova-compute',
      host: 'cmp-3',
      zone: 'nova',
      status: 'enabled',
      state: 'down',
      disabled_reason: null,
      forced_down: true,
    },
  ],
};
const AGGREGATES = {
  aggregates: [
    { id: 1, name: 'rack-a', availability_zone: 'az-1', hosts: ['cmp-1'], metadata: { availability_zone: 'az-1' } },
    { id: 2, name: 'gpu', availability_zone: null, hosts: ['cmp-1', 'cmp-3'], metadata: {} },
    { id: 3, name: 'rack-b', availability_zone: 'az-2', hosts: ['cmp-2'], metadata: { availability_zone: 'az-2' } },
  ],
};
const HYPERVISORS = {
  hypervisors: [
    {
      id: 'h1',
      hypervisor_hostname: 'cmp-1.example',
      hypervisor_type: 'QEMU',
      hypervisor_version: 8002000,
      state: 'up',
      status: 'enabled',
      service: { id: 'a1', host: 'cmp-1' },
    },
    {
      id: 'h2',
      hypervisor_hostname: 'cmp-2.example',
      hypervisor_type: 'QEMU',
      hypervisor_version: 8002000,
      state: 'up',
      status: 'disabled',
      service: { id: 'a2', host: 'cmp-2' },
    },
    {
      id: 'h3',
      hypervisor_hostname: 'cmp-3.example',
      hypervisor_type: 'QEMU',
      hypervisor_version: 6002000,
      state: 'down',
      status: 'enabled',
      service: { id: 'a3', host: 'cmp-3' },
    },
  ],
  hypervisors_links: [{ rel: 'next', href: 'http://nova/v2.1/os-hypervisors/detail?limit=3&marker=h3' }],
};

function fleet(): ComputeFleetFacts {
  return computeFleetFacts(
    parseAnswer(os.computeServices, SERVICES, 'compute: GET /os-services').services,
    parseAnswer(os.aggregates, AGGREGATES, 'compute: GET /os-aggregates').aggregates,
    parseAnswer(os.hypervisorsDetail, HYPERVISORS, 'compute: GET /os-hypervisors/detail').hypervisors,
    new Date('2026-12-08T03:00:00Z'),
  );
}

describe("Nova's services, aggregates and hypervisors, per host", () => {
  it('puts each host together by its service host name, not the hypervisor hostname', () => {
    expect(fleet()).toEqual({
      readAt: '2026-12-08T03:00:00.000Z',
      hosts: {
        'cmp-1': {
          computeService: { enabled: true, up: true, disabledReason: null },
          zones: ['az-1'],
          aggregates: ['gpu', 'rack-a'],
          hypervisorVersion: '8002000',
        },
        'cmp-2': {
          computeService: { enabled: false, up: true, disabledReason: 'shipshape: drain' },
          zones: ['az-2'],
          aggregates: ['rack-b'],
          hypervisorVersion: '8002000',
        },
        'cmp-3': {
          computeService: { enabled: true, up: false, disabledReason: null },
          // No aggregate of cmp-3 names a zone: the service's (Nova's default) zone.
          zones: ['nova'],
          aggregates: ['gpu'],
          hypervisorVersion: '6002000',
        },
      },
    });
  });

  it.each([
    ['a hypervisor_version that is text', 'hypervisors.0.hypervisor_version'],
    ['a service state Nova does not have', 'services.0.state'],
  ])('refuses %s, naming the field', (what, field) => {
    const answer = what.includes('hypervisor')
      ? () =>
          parseAnswer(
            os.hypervisorsDetail,
            { hypervisors: [{ ...HYPERVISORS.hypervisors[0], hypervisor_version: '8.2.0' }] },
            'compute: GET /os-hypervisors/detail',
          )
      : () =>
          parseAnswer(
            os.computeServices,
            { services: [{ ...SERVICES.services[0], state: 'sleeping' }] },
            'compute: GET /os-services',
          );
    expect(answer).toThrow(new RegExp(`malformed answer: ${field.replace(/\./g, '\\.')}`));
  });
});

describe("a host's openstack evidence and its judgement", () => {
  const facts = fleet();
  const versions = hypervisorVersionsOf(facts);
  const judge = (host: string, check: Parameters<typeof judgeOpenStack>[0]) =>
    judgeOpenStack(check, openstackEvidenceFor(facts, host, versions));

  it.each([
    ['cmp-1', { type: 'compute-service', enabled: true, up: true }, 'pass', 'nova-compute enabled, up'],
    [
      'cmp-2',
      { type: 'compute-service', enabled: true, up: true },
      'fail',
      'nova-compute is disabled: shipshape: drain',
    ],
    ['cmp-3', { type: 'compute-service', enabled: true, up: true }, 'fail', 'nova-compute is down'],
    ['cmp-9', { type: 'compute-service', enabled: true, up: true }, 'fail', 'the host has no nova-compute service'],
    ['cmp-1', { type: 'aggregates', exactly: 1 }, 'fail', 'the host is in 2 aggregate(s): gpu, rack-a, not exactly 1'],
    ['cmp-2', { type: 'aggregates', exactly: 1 }, 'pass', 'in 1 aggregate(s): rack-b'],
    ['cmp-3', { type: 'zones', exactly: 1 }, 'pass', 'in 1 availability zone(s): nova'],
    [
      'cmp-1',
      { type: 'hypervisor-version', equal: 'fleet-most-common' },
      'pass',
      "the fleet's most common version 8002000",
    ],
    [
      'cmp-3',
      { type: 'hypervisor-version', equal: 'fleet-most-common' },
      'fail',
      "the hypervisor is 6002000, the fleet's most common is 8002000",
    ],
    ['cmp-9', { type: 'hypervisor-version', equal: 'fleet-most-common' }, 'error', 'no hypervisor version'],
  ] as const)('%s %j: %s (%s)', (host, check, state, text) => {
    const v = judge(host, check);
    expect(v.state).toBe(state);
    expect(v.reason).toContain(text);
  });

  it("counts every hypervisor of the fleet, not only the scanned host's", () => {
    expect(openstackEvidenceFor(facts, 'cmp-3').fleetHypervisorVersions).toEqual({
      'cmp-1': '8002000',
      'cmp-2': '8002000',
      'cmp-3': '6002000',
    });
  });
});
