/** A compliance finding's lifecycle from scan results, fixes and waivers; waiver decisions and requests; the CSV export. */
import {
  decideWaiver,
  findingsCsv,
  nextFinding,
  reviewExpiry,
  ruleMatches,
  waiverRequestProblems,
  type Finding,
  type FindingState,
  type Observation,
  type RuleResult,
  type Waiver,
} from '../../domain/compliance-findings';

const T0 = new Date('2026-12-01T00:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);
const RULE = 'os.ssh-root-login-off';

const result = (state: RuleResult['state'], observed = state === 'pass' ? 'no' : 'yes'): RuleResult => ({
  ruleId: RULE,
  state,
  expected: 'PermitRootLogin no',
  observed: `PermitRootLogin ${observed}`,
  reason: state === 'pass' ? 'root login is off' : 'root login is on',
});

const seen = (state: RuleResult['state'], fixRemediationId?: string | null): Observation => ({
  host: 'cmp-1',
  profile: 'os-baseline',
  severity: 'critical',
  result: result(state),
  fixRemediationId,
});

const waiver = (over: Partial<Waiver> = {}): Waiver => ({
  id: 'w-1',
  host: 'cmp-1',
  profile: 'os-baseline',
  rule: RULE,
  reason: 'vendor tool logs in as root until the 2027 upgrade',
  riskAcceptance: 'root login only from the jump host, keys only',
  expiresAt: at(24 * 30),
  state: 'approved',
  requestedBy: 'olivia',
  requestedAt: T0,
  approvedBy: 'anna',
  approvedAt: T0,
  rejectedBy: null,
  rejectedAt: null,
  revokedBy: null,
  revokedAt: null,
  decisionComment: null,
  ...over,
});

function finding(over: Partial<Finding> = {}): Finding {
  return {
    host: 'cmp-1',
    profile: 'os-baseline',
    ruleId: RULE,
    state: 'fail',
    resultState: 'fail',
    severity: 'critical',
    expected: 'PermitRootLogin no',
    observed: 'PermitRootLogin yes',
    reason: 'root login is on',
    firstSeen: T0,
    lastSeen: T0,
    lastChanged: T0,
    waiverId: null,
    fixRemediationId: null,
    ...over,
  };
}

describe('nextFinding: the state after a result', () => {
  const cases: Array<{
    what: string;
    previous: Partial<Finding> | null;
    observation: Observation;
    waivers?: Waiver[];
    state: FindingState;
    changed: boolean;
    fix?: string | null;
  }> = [
    { what: 'a first pass is a pass, new', previous: null, observation: seen('pass'), state: 'pass', changed: true },
    { what: 'a first fail is a fail, new', previous: null, observation: seen('fail'), state: 'fail', changed: true },
    {
      what: 'a fail again changes nothing',
      previous: {},
      observation: seen('fail'),
      state: 'fail',
      changed: false,
    },
    { what: 'a pass after a fail is a change', previous: {}, observation: seen('pass'), state: 'pass', changed: true },
    {
      what: 'an unreachable host is an error, not a fail',
      previous: {},
      observation: seen('error'),
      state: 'error',
      changed: true,
    },
    {
      what: 'a rule that does not apply is not-applicable',
      previous: null,
      observation: seen('not-applicable'),
      state: 'not-applicable',
      changed: true,
    },
    {
      what: 'a fail covered by an approved waiver is waived',
      previous: {},
      observation: seen('fail'),
      waivers: [waiver()],
      state: 'waived',
      changed: true,
    },
    {
      what: 'a waiver still requested does not cover',
      previous: {},
      observation: seen('fail'),
      waivers: [waiver({ state: 'requested', approvedBy: null })],
      state: 'fail',
      changed: false,
    },
    {
      what: 'an expired waiver does not cover: the waived finding returns to fail at the next result',
      previous: { state: 'waived', waiverId: 'w-1' },
      observation: seen('fail'),
      waivers: [waiver({ expiresAt: at(-1) })],
      state: 'fail',
      changed: true,
    },
    {
      what: 'a revoked waiver does not cover',
      previous: { state: 'waived', waiverId: 'w-1' },
      observation: seen('fail'),
      waivers: [waiver({ state: 'revoked' })],
      state: 'fail',
      changed: true,
    },
    {
      what: 'a waiver for another host does not cover',
      previous: {},
      observation: seen('fail'),
      waivers: [waiver({ host: 'cmp-2' })],
      state: 'fail',
      changed: false,
    },
    {
      what: 'a waiver for every host (*) and a rule prefix covers',
      previous: {},
      observation: seen('fail'),
      waivers: [waiver({ host: '*', rule: 'os.ssh-*' })],
      state: 'waived',
      changed: true,
    },
    {
      what: 'a waiver for another profile does not cover',
      previous: {},
      observation: seen('fail'),
      waivers: [waiver({ profile: 'compute-host' })],
      state: 'fail',
      changed: false,
    },
    {
      what: 'an error is never waived: the risk accepted was a known one',
      previous: {},
      observation: seen('error'),
      waivers: [waiver()],
      state: 'error',
      changed: true,
    },
    {
      what: 'a waived rule that passes is a pass',
      previous: { state: 'waived', waiverId: 'w-1' },
      observation: seen('pass'),
      waivers: [waiver()],
      state: 'pass',
      changed: true,
    },
    {
      what: 'a fail with a fix under way is fix-pending',
      previous: {},
      observation: seen('fail', 'rem-1'),
      state: 'fix-pending',
      changed: true,
      fix: 'rem-1',
    },
    {
      what: 'the fix is kept when the scan does not say: still fix-pending, not fixed',
      previous: { state: 'fix-pending', fixRemediationId: 'rem-1' },
      observation: seen('fail'),
      state: 'fix-pending',
      changed: false,
      fix: 'rem-1',
    },
    {
      what: 'an error while the fix runs (a reboot) stays fix-pending',
      previous: { state: 'fix-pending', fixRemediationId: 'rem-1' },
      observation: seen('error'),
      state: 'fix-pending',
      changed: false,
      fix: 'rem-1',
    },
    {
      what: 'only a pass clears a fix under way',
      previous: { state: 'fix-pending', fixRemediationId: 'rem-1' },
      observation: seen('pass'),
      state: 'pass',
      changed: true,
      fix: null,
    },
    {
      what: 'a fix that ended without a pass (cleared by the fix workflow) returns to fail',
      previous: { state: 'fix-pending', fixRemediationId: 'rem-1' },
      observation: seen('fail', null),
      state: 'fail',
      changed: true,
      fix: null,
    },
    {
      what: 'a fix under way wins over a waiver: someone is acting on it',
      previous: {},
      observation: seen('fail', 'rem-1'),
      waivers: [waiver()],
      state: 'fix-pending',
      changed: true,
      fix: 'rem-1',
    },
  ];

  it.each(cases)('$what', ({ previous, observation, waivers, state, changed, fix }) => {
    const prev = previous ? finding(previous) : null;
    const { finding: f, change } = nextFinding(prev, observation, waivers ?? [], at(5));
    expect(f.state).toBe(state);
    expect(f.resultState).toBe(observation.result.state);
    expect(f.lastSeen).toEqual(at(5));
    expect(f.firstSeen).toEqual(prev ? T0 : at(5));
    expect(f.lastChanged).toEqual(changed ? at(5) : T0);
    expect(change !== null).toBe(changed);
    if (change) {
      expect(change.from).toBe(prev?.state ?? null);
      expect(change.to).toBe(state);
    }
    if (fix !== undefined) expect(f.fixRemediationId).toBe(fix);
  });

  it('a waived finding still shows the underlying result and its evidence', () => {
    const { finding: f, change } = nextFinding(finding(), seen('fail'), [waiver()], at(1));
    expect(f).toMatchObject({
      state: 'waived',
      resultState: 'fail',
      observed: 'PermitRootLogin yes',
      expected: 'PermitRootLogin no',
      waiverId: 'w-1',
    });
    expect(change!.reason).toMatch(/waived by w-1 \(approved by anna\)/);
  });

  it('of two covering waivers, the one that lasts longer is named', () => {
    const { finding: f } = nextFinding(
      finding(),
      seen('fail'),
      [waiver({ id: 'w-short', expiresAt: at(10) }), waiver({ id: 'w-long', expiresAt: at(100) })],
      at(1),
    );
    expect(f.waiverId).toBe('w-long');
  });

  it('refuses a result for another rule than the finding', () => {
    expect(() => nextFinding(finding({ ruleId: 'os.other' }), seen('fail'), [], at(1))).toThrow(/not the finding/);
  });
});

describe('reviewExpiry: findings that change without a scan', () => {
  it('a waived finding returns to fail the moment its waiver expires, and only then', () => {
    const waived = finding({ state: 'waived', waiverId: 'w-1' });
    const w = waiver({ expiresAt: at(48) });
    expect(reviewExpiry([waived], [w], at(47))).toEqual([]);
    const [j] = reviewExpiry([waived], [w], at(48));
    expect(j!.finding).toMatchObject({ state: 'fail', waiverId: null, lastChanged: at(48), lastSeen: T0 });
    expect(j!.change).toMatchObject({ from: 'waived', to: 'fail' });
    expect(j!.change!.reason).toMatch(/no waiver covers it any more/);
  });

  it('a failing finding a newly approved waiver covers becomes waived; passing ones do not change', () => {
    const out = reviewExpiry(
      [finding(), finding({ ruleId: 'os.ssh-password-login-off', state: 'pass', resultState: 'pass' })],
      [waiver({ rule: 'os.ssh-*' })],
      at(1),
    );
    expect(out.map((j) => [j.finding.ruleId, j.finding.state])).toEqual([[RULE, 'waived']]);
  });

  it('a revoked waiver brings the finding back to fail', () => {
    const [j] = reviewExpiry([finding({ state: 'waived', waiverId: 'w-1' })], [waiver({ state: 'revoked' })], at(1));
    expect(j!.finding.state).toBe('fail');
  });
});

describe('waiver decisions', () => {
  const requested = waiver({ state: 'requested', approvedBy: null, approvedAt: null });
  const cases: Array<[string, Waiver, 'approve' | 'reject' | 'revoke', string, string]> = [
    ['another approver approves a request', requested, 'approve', 'anna', 'approved'],
    ['the requester may not approve their own request', requested, 'approve', 'olivia', 'refused:self-approval'],
    ['an approved waiver cannot be approved again', waiver(), 'approve', 'bob', 'refused:not-pending'],
    [
      'a request whose expiry passed cannot be approved',
      waiver({ state: 'requested', expiresAt: at(1) }),
      'approve',
      'anna',
      'refused:expired',
    ],
    ['a request can be rejected', requested, 'reject', 'anna', 'rejected'],
    ['an approved waiver cannot be rejected', waiver(), 'reject', 'anna', 'refused:not-pending'],
    ['an approved waiver can be revoked', waiver(), 'revoke', 'anna', 'revoked'],
    ['a request can be revoked (withdrawn)', requested, 'revoke', 'olivia', 'revoked'],
    ['a rejected waiver cannot be revoked', waiver({ state: 'rejected' }), 'revoke', 'anna', 'refused:not-pending'],
  ];
  it.each(cases)('%s', (_what, w, action, by, outcome) => {
    const d = decideWaiver(w, action, by, 'ok', at(2));
    if ('refused' in d) expect(`refused:${d.refused.code}`).toBe(outcome);
    else expect(d.waiver.state).toBe(outcome);
  });

  it('the self-approval refusal says why', () => {
    const d = decideWaiver(requested, 'approve', 'olivia', null, at(2));
    expect('refused' in d && d.refused.message).toMatch(/olivia requested waiver w-1 and may not approve it/);
  });

  it('approval records the approver and the time', () => {
    const d = decideWaiver(requested, 'approve', 'anna', 'accepted for Q1', at(2));
    expect('waiver' in d && d.waiver).toMatchObject({
      approvedBy: 'anna',
      approvedAt: at(2),
      decisionComment: 'accepted for Q1',
    });
  });
});

describe('waiver requests', () => {
  const ok = {
    host: 'cmp-1',
    profile: 'os-baseline',
    rule: RULE,
    reason: 'vendor tool',
    riskAcceptance: 'jump host only',
    expiresAt: at(24),
  };
  const cases: Array<[string, Partial<typeof ok>, string | null]> = [
    ['a complete request is fine', {}, null],
    ['every host and every rule of a profile is fine', { host: '*', rule: '*' }, null],
    ['a rule prefix is fine', { rule: 'os.ssh-*' }, null],
    ['an expiry in the past', { expiresAt: at(-1) }, 'expiresAt'],
    ['an expiry more than 365 days ahead', { expiresAt: at(24 * 366) }, 'expiresAt'],
    ['no risk acceptance', { riskAcceptance: ' ' }, 'riskAcceptance'],
    ['no reason', { reason: '' }, 'reason'],
    ['a profile not in kebab-case', { profile: 'OS Baseline' }, 'profile'],
    ['a rule with spaces', { rule: 'os ssh' }, 'rule'],
    ['a blank host', { host: ' ' }, 'host'],
  ];
  it.each(cases)('%s', (_what, change, field) => {
    const problems = waiverRequestProblems({ ...ok, ...change }, T0);
    expect(problems.map((p) => p.field)).toEqual(field ? [field] : []);
  });

  it.each([
    ['*', 'os.anything', true],
    ['os.ssh-*', 'os.ssh-root-login-off', true],
    ['os.ssh-*', 'os.sshd-x', false],
    [RULE, RULE, true],
    [RULE, `${RULE}-2`, false],
  ])('rule %s names %s: %s', (rule, id, yes) => {
    expect(ruleMatches(rule, id)).toBe(yes);
  });
});

describe('CSV export', () => {
  it('has a header row and quotes fields with commas, quotes and line breaks, and defuses formulas', () => {
    const csv = findingsCsv([finding({ observed: 'a, "b"\nc', reason: '=HYPERLINK("x")' })]);
    const [header, row] = csv.split('\r\n');
    expect(header).toBe(
      'host,profile,rule_id,state,result_state,severity,expected,observed,reason,first_seen,last_seen,last_changed,waiver_id,fix_remediation_id',
    );
    expect(row).toContain('"a, ""b""\nc"');
    expect(row).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv.endsWith('\r\n')).toBe(true);
  });
});
