/** How scans and their schedules are named, and read back from a workflow ID (domain/compliance-scans.ts). */
import {
  SCAN_ID,
  describeSchedule,
  scanIdOfWorkflow,
  scanScheduleId,
  scanWorkflowId,
  scheduledProfileOf,
} from '../../domain/compliance-scans';

describe('a scan ID read from its workflow ID', () => {
  test.each([
    [
      'a scan on demand, no prefix',
      'compliance-scan/8c1f0e6a-4f7e-4d1a-9f51-0a1b2c3d4e5f',
      '8c1f0e6a-4f7e-4d1a-9f51-0a1b2c3d4e5f',
    ],
    [
      'a scan on demand, with a prefix',
      'prod/compliance-scan/8c1f0e6a-4f7e-4d1a-9f51-0a1b2c3d4e5f',
      '8c1f0e6a-4f7e-4d1a-9f51-0a1b2c3d4e5f',
    ],
    [
      'a scheduled run: the profile and the time Temporal appends',
      'prod/compliance-scan/os-baseline-2026-12-08T03:00:00Z',
      'os-baseline-2026-12-08T03:00:00Z',
    ],
    ['a prefix that is itself "compliance-scan/"', 'compliance-scan/compliance-scan/abc', 'abc'],
    ['an ID of another kind, kept whole', 'remediation/cmp-a-01', 'remediation/cmp-a-01'],
  ])('%s', (_case, workflowId, scanId) => {
    expect(scanIdOfWorkflow(workflowId)).toBe(scanId);
  });

  test('round-trips what scanWorkflowId builds, and a schedule’s runs start with its own ID', () => {
    expect(scanIdOfWorkflow(scanWorkflowId('t_1/', 'abc'))).toBe('abc');
    expect(scanScheduleId('t_1/', 'os-baseline')).toBe('t_1/compliance-scan/os-baseline');
  });
});

describe('scan IDs the API accepts', () => {
  test.each([
    ['a UUID', '8c1f0e6a-4f7e-4d1a-9f51-0a1b2c3d4e5f', true],
    ['a scheduled run', 'os-baseline-2026-12-08T03:00:00Z', true],
    ['a slash', 'a/b', false],
    ['empty', '', false],
    ['a space', 'a b', false],
  ])('%s', (_case, id, ok) => {
    expect(SCAN_ID.test(id)).toBe(ok);
  });
});

describe('who asked for a scan', () => {
  test.each([
    ['a schedule', 'schedule:os-baseline', 'os-baseline'],
    ['a person', 'olivia', null],
  ])('%s', (_case, requestedBy, profile) => {
    expect(scheduledProfileOf(requestedBy)).toBe(profile);
  });
});

test('a schedule in one line', () => {
  expect(describeSchedule({ cron: '0 3 * * *' })).toBe('cron 0 3 * * *');
  expect(describeSchedule({ everyMinutes: 60 })).toBe('every 60 min');
});
