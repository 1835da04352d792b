/**
 * Reclaim of unused virtual capacity, the pure parts (domain/reclaim.ts):
 * which resources a rule flags and why not the others — a resource in use,
 * marked shipshape:keep, out of scope, too young, or whose age the cloud does
 * not tell is never flagged — the whole-project view, and the lifecycle's
 * deadlines and extensions.
 */
import {
  extensionRefusal,
  judgeResource,
  KEEP_MARK,
  reclaimTimes,
  wholeProjectsUnused,
  type ReclaimLifecycle,
  type ReclaimRule,
  type TenantResource,
} from '../../domain/reclaim';

const NOW = new Date('2026-12-08T12:00:00Z');
const DAY = 86_400_000;
const daysAgo = (d: number) => new Date(NOW.getTime() - d * DAY).toISOString();
const projects = {
  project: (id: string) =>
    ({
      p1: { name: 'web', domainId: 'd1', domainName: 'Default' },
      p2: { name: 'batch', domainId: 'd2', domainName: 'research' },
    })[id] ?? null,
};
const ctx = { now: NOW, projects };

function server(over: Partial<TenantResource> = {}): TenantResource {
  return {
    kind: 'server',
    id: 'srv-1',
    name: 'old-build-box',
    projectId: 'p1',
    domainId: null,
    status: 'SHUTOFF',
    statusSince: daysAgo(40),
    createdAt: daysAgo(200),
    tags: [],
    metadata: {},
    usedBy: [],
    capacity: { vcpus: 4, ramMb: 8192, diskGb: 80, ips: 1 },
    ...over,
  };
}
const stopped: Pick<ReclaimRule, 'check' | 'scope'> = {
  check: { type: 'server-stopped', states: ['SHUTOFF', 'SHELVED_OFFLOADED'], olderThanMs: 30 * DAY },
  scope: {},
};

describe('servers stopped for too long', () => {
  test('a server SHUTOFF for 40 days under a 30-day rule is flagged with its evidence and capacity', () => {
    expect(judgeResource(stopped, server(), ctx)).toEqual({
      verdict: 'flagged',
      reason: `SHUTOFF since ${daysAgo(40)} (over 30 d)`,
      evidence: { status: 'SHUTOFF', since: daysAgo(40), olderThan: '30 d' },
      capacity: { vcpus: 4, ramMb: 8192, diskGb: 80, ips: 1 },
    });
  });

  test('never flagged: too young, running, kept, out of scope, or with no record of since when', () => {
    expect(judgeResource(stopped, server({ statusSince: daysAgo(10) }), ctx)).toMatchObject({
      verdict: 'too-young',
      reason: 'SHUTOFF for 10 d, not yet 30 d',
    });
    expect(judgeResource(stopped, server({ status: 'ACTIVE' }), ctx).verdict).toBe('not-matching');
    expect(judgeResource(stopped, server({ tags: [KEEP_MARK] }), ctx).verdict).toBe('exempt');
    expect(judgeResource(stopped, server({ metadata: { [KEEP_MARK]: 'until the audit' } }), ctx).verdict).toBe(
      'exempt',
    );
    expect(judgeResource({ ...stopped, scope: { projects: ['batch'] } }, server(), ctx)).toEqual({
      verdict: 'out-of-scope',
      reason: "project web is not in the rule's projects",
    });
    expect(judgeResource({ ...stopped, scope: { domains: ['Default'] } }, server(), ctx).verdict).toBe('flagged');
    expect(judgeResource({ ...stopped, scope: { excludeTags: ['ci'] } }, server({ tags: ['ci'] }), ctx).verdict).toBe(
      'out-of-scope',
    );
    expect(judgeResource(stopped, server({ statusSince: null }), ctx)).toEqual({
      verdict: 'unknown',
      reason: 'the cloud does not say since when it is SHUTOFF',
    });
    expect(judgeResource(stopped, server({ statusSince: 'yesterday' }), ctx).verdict).toBe('unknown');
  });

  test('a rule for volumes does not read servers', () => {
    expect(
      judgeResource({ check: { type: 'volume-detached', olderThanMs: DAY }, scope: {} }, server(), ctx).verdict,
    ).toBe('not-matching');
  });
});

describe('idle servers, only with a usage reading', () => {
  const idle: Pick<ReclaimRule, 'check' | 'scope'> = {
    check: { type: 'server-idle', query: 'cpu', below: 0.05, windowMs: 7 * DAY },
    scope: {},
  };
  const active = server({ status: 'ACTIVE' });
  test('without a reading it is unknown, never guessed; below the threshold it is flagged; at or above it is not', () => {
    expect(judgeResource(idle, active, ctx).verdict).toBe('unknown');
    expect(judgeResource(idle, active, { ...ctx, usage: new Map([['srv-1', 0.01]]) })).toMatchObject({
      verdict: 'flagged',
      evidence: { query: 'cpu', value: 0.01, below: 0.05, window: '7 d' },
    });
    expect(judgeResource(idle, active, { ...ctx, usage: new Map([['srv-1', 0.05]]) }).verdict).toBe('not-matching');
    expect(
      judgeResource(idle, server({ status: 'ACTIVE', createdAt: daysAgo(2) }), {
        ...ctx,
        usage: new Map([['srv-1', 0]]),
      }).verdict,
    ).toBe('too-young');
  });
});

describe('volumes, snapshots, images, floating IPs and ports', () => {
  const volume = (over: Partial<TenantResource> = {}): TenantResource =>
    server({
      kind: 'volume',
      id: 'vol-1',
      status: 'available',
      capacity: { vcpus: 0, ramMb: 0, diskGb: 100, ips: 0 },
      ...over,
    });
  test('a detached volume past the threshold is flagged; an attached one never, whatever its age', () => {
    const rule = { check: { type: 'volume-detached' as const, olderThanMs: 14 * DAY }, scope: {} };
    expect(judgeResource(rule, volume(), ctx)).toMatchObject({ verdict: 'flagged', capacity: { diskGb: 100 } });
    expect(judgeResource(rule, volume({ status: 'in-use', usedBy: ['srv-9'] }), ctx)).toEqual({
      verdict: 'in-use',
      reason: 'used by srv-9',
    });
  });
  test('an image is judged by its age and whether a server uses it; a floating IP by how long it is unassociated', () => {
    const image = server({ kind: 'image', id: 'img-1', status: 'active', statusSince: null, createdAt: daysAgo(100) });
    const rule = { check: { type: 'image-unused' as const, olderThanMs: 90 * DAY }, scope: {} };
    expect(judgeResource(rule, image, ctx).verdict).toBe('flagged');
    expect(judgeResource(rule, { ...image, usedBy: ['srv-2'] }, ctx).verdict).toBe('in-use');
    const fip = server({ kind: 'floating-ip', id: 'fip-1', status: 'DOWN', statusSince: daysAgo(8) });
    const fipRule = { check: { type: 'floating-ip-unassociated' as const, olderThanMs: 7 * DAY }, scope: {} };
    expect(judgeResource(fipRule, fip, ctx).verdict).toBe('flagged');
    expect(judgeResource(fipRule, { ...fip, usedBy: ['port-3'] }, ctx).verdict).toBe('in-use');
  });
});

describe('the whole-project view', () => {
  test('a project is listed only when every one of its resources is flagged', () => {
    const r = (id: string, projectId: string) => server({ id, projectId });
    const view = wholeProjectsUnused([
      { resource: r('a', 'p1'), flagged: true },
      { resource: r('b', 'p1'), flagged: true },
      { resource: r('c', 'p2'), flagged: true },
      { resource: r('d', 'p2'), flagged: false },
    ]);
    expect([...view]).toEqual([['p1', ['a', 'b']]]);
  });
});

describe('the lifecycle clock', () => {
  const lifecycle: ReclaimLifecycle = {
    action: 'shelve',
    snapshotFirst: false,
    graceMs: 14 * DAY,
    remindBeforeMs: [DAY, 7 * DAY],
    restoreWindowMs: 7 * DAY,
    maxExtensionMs: 30 * DAY,
  };
  const notice = new Date('2026-12-01T00:00:00Z');
  test('grace counts from the notice, plus extensions; reminders before its end; deletion after the restore window', () => {
    expect(reclaimTimes(lifecycle, notice, 0)).toEqual({
      reminders: [new Date('2026-12-08T00:00:00Z'), new Date('2026-12-14T00:00:00Z')],
      graceEnds: new Date('2026-12-15T00:00:00Z'),
      deleteAfter: new Date('2026-12-22T00:00:00Z'),
    });
    expect(reclaimTimes(lifecycle, notice, 10 * DAY).graceEnds).toEqual(new Date('2026-12-25T00:00:00Z'));
    expect(reclaimTimes({ ...lifecycle, action: 'notify-only' }, notice, 0).deleteAfter).toBeNull();
    expect(reclaimTimes({ ...lifecycle, graceMs: 3 * DAY }, notice, 0).reminders).toEqual([
      new Date('2026-12-03T00:00:00Z'),
    ]);
  });
  test('extensions stay within the maximum in all', () => {
    expect(extensionRefusal(lifecycle, 0, 30 * DAY)).toBeNull();
    expect(extensionRefusal(lifecycle, 20 * DAY, 15 * DAY)).toBe(
      'the rule allows 30 d of extensions in all; 10 d are left',
    );
    expect(extensionRefusal(lifecycle, 30 * DAY, DAY)).toMatch(/all granted already/);
    expect(extensionRefusal(lifecycle, 0, 0)).toBe('an extension must be a positive duration');
  });
});
