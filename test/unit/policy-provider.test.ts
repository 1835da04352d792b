/** A policy is checked against the provider in use when it is loaded: a ladder step the provider cannot take is refused there, not at 3 a.m. */
import { join } from 'node:path';
import { loadPolicies, parsePolicy, PolicyError } from '../../policies/loader';

const withRestart = `name: stuck-compute
match: { signals: [NovaComputeDown] }
steps:
  - action: power-cycle
  - action: restart-compute-service
`;

test('on OpenStack, a step restarting nova-compute is refused naming the step, its line and why', () => {
  const err = (() => {
    try {
      parsePolicy('stuck-compute.yaml', withRestart, { provider: 'openstack' });
    } catch (e) {
      return e;
    }
    return null;
  })();
  expect(err).toBeInstanceOf(PolicyError);
  expect((err as PolicyError).issues).toEqual([
    expect.objectContaining({
      line: 5,
      column: 13,
      field: 'steps.1.action',
      message: expect.stringMatching(
        /^the openstack provider cannot take this step: restarting nova-compute needs a shell/,
      ),
    }),
  ]);
});

test('the simulated fleet can take every step, so the same policy loads there', () => {
  expect(parsePolicy('stuck-compute.yaml', withRestart, { provider: 'simulated' }).policy.repair).toEqual([
    'power-cycle',
    'restart-compute-service',
  ]);
});

test('the shipped policies load for the OpenStack provider, and the demo policies for the simulated fleet', () => {
  expect(loadPolicies(join(__dirname, '../../policies'), { provider: 'openstack' }).map((p) => p.name)).toContain(
    'host-down',
  );
  expect(loadPolicies(join(__dirname, '../../demo/policies'), { provider: 'simulated' }).map((p) => p.name)).toContain(
    'host-down',
  );
});
