/**
 * A compliance drift fixed in the guarded host workflow
 * (workflows/compliance-fix.ts), with the shipped drift policies and stub
 * activities: the rule is read again before anything is done, the fix runs
 * in place or after a drain as its rule declares, and only a rescan that
 * passes returns the host — a fix that errors or does not hold goes to an
 * operator with what it printed, and the finding is no longer `fix-pending`.
 */
import { shippedPolicy, useHarness } from './support/harness';

const h = useHarness();
const target = { profile: 'os-baseline', ruleId: 'os.shadow-mode' };
const drift = { signal: 'ComplianceDrift', severity: 'warning' as const, complianceFix: target };

describe('a compliance fix in place (shipped compliance-drift policy)', () => {
  test('the fix runs without a drain or approval, under an in-place lease, and the host returns once the rescan passes', async () => {
    const r = await h.start(shippedPolicy('compliance-drift'), undefined, drift);
    const v = await r.result();

    expect(v.phase).toBe('returned');
    expect(v.outcome?.reason).toMatch(/^os.shadow-mode passes after the fix/);
    expect(r.cloud.disruptiveActions).toEqual(['compliance-fix']); // no server moved, nothing power-cycled
    expect(r.cloud.callsOf('disableCompute')).toEqual([]);
    expect(r.cloud.callsOf('acquireCapacity')[0]?.[0]).toMatchObject({ inPlace: true });
    expect(r.cloud.callsOf('markComplianceFix')).toEqual([
      [{ host: r.cloud.host.name, ...target, remediationId: r.remediationId }],
    ]);
    // Read before acting, again right before the fix, then the rescan that confirms it.
    expect(r.cloud.callsOf('recheckComplianceRules')).toHaveLength(3);
    expect(r.cloud.auditActions).toEqual(
      expect.arrayContaining(['problem confirmed', 'fix started', 'fix applied', 'verification passed']),
    );
    expect(r.cloud.auditActions.indexOf('fix applied')).toBeLessThan(
      r.cloud.auditActions.indexOf('verification passed'),
    );
    expect(v.poolState).toBe('in-service');
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
  });

  test('a rule that passes by the time the workflow reads it is a false alarm: nothing runs', async () => {
    const r = await h.start(shippedPolicy('compliance-drift'), (c) => void (c.rule.result = 'pass'), drift);
    const v = await r.result();

    expect(v.phase).toBe('false-alarm');
    expect(v.outcome?.reason).toMatch(/os.shadow-mode on cmp-\d+ is pass now/);
    expect(r.cloud.callsOf('applyComplianceFix')).toEqual([]);
    expect(r.cloud.callsOf('acquireCapacity')).toEqual([]);
  });

  test('a fix that exits 1 is never "fixed": the host goes to an operator with what it printed, and the finding leaves fix-pending', async () => {
    const r = await h.start(shippedPolicy('compliance-drift'), (c) => void (c.rule.fixEffect = 'exits-1'), drift);
    const v = await r.untilPhase('awaiting-operator');

    expect(v.handOff?.reason).toMatch(
      /^the fix of os.shadow-mode exited 1: systemctl: command not found; os.shadow-mode reads fail: os.shadow-mode drifted/,
    );
    expect(r.cloud.auditEntry('fix failed')?.after).toMatchObject({
      exitCode: 1,
      stderr: 'systemctl: command not found',
    });
    expect(r.cloud.auditActions).not.toContain('fix applied');
    expect(r.cloud.callsOf('markComplianceFix').at(-1)?.[0]).toMatchObject({ remediationId: null });
    // Fixed in place, the host never left the pool: its lease is released at the hand-off, not held for the person.
    expect(r.cloud.callsOf('releaseCapacity')).toEqual([[r.remediationId]]);
    expect(r.cloud.fixPending['os.shadow-mode']).toBeNull();
  });

  test('a fix that exits 0 but does not hold: the rescans still fail, an operator gets it; once they fix it and hand it back, the rescan returns it', async () => {
    const r = await h.start(shippedPolicy('compliance-drift'), (c) => void (c.rule.fixEffect = 'no-change'), drift);
    const v = await r.untilPhase('awaiting-operator');

    expect(v.handOff?.reason).toMatch(/^the fix did not hold: os.shadow-mode reads fail: os.shadow-mode drifted/);
    expect(r.cloud.callsOf('recheckComplianceRules')).toHaveLength(2 + 3); // before, right before, 3 rescans
    expect(r.cloud.fixPending['os.shadow-mode']).toBeNull();

    r.cloud.rule.result = 'pass'; // the operator set the mode by hand
    await r.handBack('operator-1', 'chmod 0640 /etc/shadow by hand; config management no longer resets it');
    const done = await r.result();
    expect(done.phase).toBe('returned');
    expect(done.outcome?.reason).toMatch(/^os.shadow-mode passes after the fix/);
  });
});

describe('every drift alike on the host in one remediation', () => {
  test("the profile's other failing rules with a fix alike are fixed in the same run (one lease, one rescan); a disruptive one is left to its own policy; one fix failing hands the host off naming it, while the others' passes stand", async () => {
    const r = await h.start(
      shippedPolicy('compliance-drift'),
      (c) => {
        c.rules['os.etc-no-world-writable'] = {
          result: 'fail',
          fix: { ssh: 'find /etc -perm -0002 -exec chmod o-w {} +', disruption: 'none', drain: false },
          fixEffect: 'fixes',
        };
        c.rules['os.time-synchronised'] = {
          result: 'fail',
          fix: { ssh: 'systemctl enable --now systemd-timesyncd', disruption: 'none', drain: false },
          fixEffect: 'exits-1',
        };
        c.rules['os.openssh-regresshion-fixed'] = {
          result: 'fail',
          fix: { ssh: 'apt-get install -y --only-upgrade openssh-server', disruption: 'service-restart', drain: false },
          fixEffect: 'fixes',
        };
      },
      drift,
    );
    const v = await r.untilPhase('awaiting-operator');

    const fixed = r.cloud.callsOf('applyComplianceFix').map(([x]) => x.ruleId);
    expect(fixed).toEqual(['os.shadow-mode', 'os.etc-no-world-writable', 'os.time-synchronised']); // the drift's own first
    expect(r.cloud.callsOf('acquireCapacity')).toHaveLength(1);
    expect(r.cloud.rules['os.openssh-regresshion-fixed']!.result).toBe('fail'); // disruptive: not this policy's to fix
    expect(v.handOff?.reason).toMatch(/^the fix of os.time-synchronised exited 1: systemctl: command not found; /);
    expect(v.handOff?.reason).toContain('os.time-synchronised reads fail');
    expect(v.handOff?.reason).not.toContain('os.shadow-mode reads');
    expect(r.cloud.rules['os.shadow-mode']!.result).toBe('pass');
    expect(r.cloud.rules['os.etc-no-world-writable']!.result).toBe('pass');
  });
});

describe('a disruptive compliance fix (shipped compliance-drift-disruptive policy)', () => {
  test('a fix that needs a drain waits for approval, drains the host under a take-out lease, fixes, and enables it once the rescan passes', async () => {
    const r = await h.start(
      shippedPolicy('compliance-drift-disruptive'),
      (c) =>
        void (c.rule.fix = {
          ssh: 'apt-get install -y --only-upgrade openssh-server',
          disruption: 'service-restart',
          drain: true,
        }),
      drift,
    );
    const asked = await r.untilPhase('awaiting-approval');
    expect(asked.poolState).toBe('in-service');
    expect(r.cloud.callsOf('applyComplianceFix')).toEqual([]);
    await r.approve('approver-1');
    const v = await r.result();

    expect(v.phase).toBe('returned');
    const host = r.cloud.host.name;
    expect(r.cloud.disruptiveActions).toEqual([`live ${host}-vm1`, `live ${host}-vm2`, 'compliance-fix']);
    expect(r.cloud.callsOf('acquireCapacity')[0]?.[0]).not.toHaveProperty('inPlace');
    expect(r.cloud.auditEntry('drain needed')?.reason).toBe('the rule says the fix needs the host drained');
    expect(r.cloud.host).toMatchObject({ enabled: true, servers: [] });
    expect(v.poolState).toBe('in-service');
  });

  test('a fix that reboots a host with servers drains it first even though the rule does not ask, and reboots after the fix', async () => {
    const r = await h.start(
      shippedPolicy('compliance-drift-disruptive'),
      (c) => void (c.rule.fix = { ssh: 'update-grub', disruption: 'reboot', drain: false }),
      drift,
    );
    await r.untilPhase('awaiting-approval');
    await r.approve('approver-1');
    const v = await r.result();

    expect(v.phase).toBe('returned');
    const host = r.cloud.host.name;
    expect(r.cloud.disruptiveActions).toEqual([`live ${host}-vm1`, `live ${host}-vm2`, 'compliance-fix', 'reboot']);
    expect(r.cloud.auditEntry('drain needed')?.reason).toBe('the fix reboots the host and 2 servers run on it');
  });
});
