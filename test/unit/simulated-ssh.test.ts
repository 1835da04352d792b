/**
 * The simulated SSH hosts (providers/simulated/ssh.ts) as the shipped
 * os-baseline profile judges them: the compliant baseline passes every rule,
 * the demo fleet's hosts differ, and each drift fails its rule until that
 * rule's fix (the command the profile states) runs on the host.
 */
import { join } from 'node:path';
import { judgeProfile, planHostScan, type HostFacts } from '../../domain/compliance';
import { loadProfiles } from '../../policies/compliance-loader';
import { answer, compliantDebianHost, demoHost, SimulatedDebianFleet } from '../../providers/simulated/ssh';
import type { SimulatedHostPicture } from '../../providers/simulated/ssh';

const osBaseline = loadProfiles(join(__dirname, '../../policies/compliance')).find((p) => p.name === 'os-baseline')!;
const hosts = Array.from({ length: 48 }, (_, i) => `cmp-${'ab'[i % 2]}-${String(1 + (i >> 1)).padStart(2, '0')}`);

/** Each os-baseline rule's state on the pictured host. */
function judge(host: string, picture: SimulatedHostPicture): Map<string, string> {
  const facts: HostFacts = { host, roles: ['compute'], zone: 'zone-a', labels: {} };
  const outputs = Object.fromEntries(
    planHostScan([osBaseline], facts).sshCommands.map((c) => {
      const o = answer(picture, c);
      return [c, { exitCode: o.exitCode, stdout: o.stdout ?? '', stderr: o.stderr ?? '' }];
    }),
  );
  const results = judgeProfile(osBaseline, {
    facts,
    ssh: { reachable: true, outputs },
    redfish: { unread: 'not read' },
    openstack: { unread: 'not read' },
  });
  return new Map(results.map((r) => [r.ruleId, r.state]));
}

describe('simulated Debian hosts under os-baseline', () => {
  it('the compliant baseline passes every rule', () => {
    expect([...judge('h', compliantDebianHost()).values()]).toEqual(osBaseline.rules.map(() => 'pass'));
  });

  it('the demo fleet fails some rules on some hosts, differently per host, and the same on every read', () => {
    const failing = hosts.map((h) =>
      [...judge(h, demoHost(h))]
        .filter(([, s]) => s === 'fail')
        .map(([r]) => r)
        .join(','),
    );
    expect(failing.filter((f) => f !== '').length).toBeGreaterThan(hosts.length / 3);
    expect(new Set(failing).size).toBeGreaterThan(5);
    expect(hosts.map((h) => [...judge(h, demoHost(h))].join())).toEqual(
      hosts.map((h) => [...judge(h, demoHost(h))].join()),
    );
    for (const states of hosts.map((h) => judge(h, demoHost(h)))) expect([...states.values()]).not.toContain('error');
  });

  it.each(osBaseline.rules.flatMap((r) => (r.fix && 'ssh' in r.fix ? [[r.id, r.fix.ssh]] : [])))(
    '%s: a host failing it passes once the rule’s fix has run on it, and only that rule changes',
    (ruleId, fix) => {
      const fleet = new SimulatedDebianFleet();
      const host = hosts.find((h) => judge(h, fleet.picture(h)).get(ruleId) === 'fail');
      expect(host).toBeDefined();
      const before = judge(host!, fleet.picture(host!));
      fleet.ran(host!, fix);
      const after = judge(host!, fleet.picture(host!));
      expect(after.get(ruleId)).toBe('pass');
      for (const [rule, state] of before) if (rule !== ruleId) expect(after.get(rule)).toBe(state);
    },
  );
});
