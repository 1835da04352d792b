/**
 * The inbox month benchmark's quick replay (50 hosts, 3 days; bench/inbox-month.ts)
 * through the real API, the real Temporal dev server and PostgreSQL, with the
 * issue's targets: items shown to a person at most 10 % of raw alerts, no real
 * incident missed, every shown item owned (automation or a person) within 5
 * minutes of its first alert. The full month is `npm run bench:inbox`.
 */
import { machine, runInboxMonth, type InboxMonthResult } from '../../bench/inbox-month';
import { renderReport } from '../../bench/inbox-month-report';
import { QUICK_MONTH } from '../../bench/inbox-month-generator';
import { createTestDatabase, quietRuntime } from '../support/env';

let result: InboxMonthResult;

beforeAll(async () => {
  quietRuntime();
  const { url: databaseUrl } = await createTestDatabase();
  result = await runInboxMonth({
    shape: QUICK_MONTH,
    databaseUrl,
    temporalAddress: process.env.SHIPSHAPE_TEST_TEMPORAL!,
    dir: process.env.SHIPSHAPE_TEST_DIR!,
    workflowBundlePath: process.env.SHIPSHAPE_TEST_BUNDLE,
  });
  if (process.env.INBOX_MONTH_REPORT)
    console.log(renderReport(result.figures, { ...result.run, title: 'quick', machine: machine() }));
}, 110_000);

describe('the inbox month, quick replay', () => {
  it('shows a person at most 10 % as many items as raw alerts arrived', () => {
    const f = result.figures;
    expect(f.rawAlerts).toBe(result.month.rawAlerts);
    expect(f.itemsCreated).toBeGreaterThan(0);
    expect(f.itemsShown).toBeGreaterThan(0);
    expect(f.itemsShown / f.rawAlerts).toBeLessThanOrEqual(0.1);
  });

  it('misses no real incident: each was shown to a person or handled by automation', () => {
    expect(result.figures.missed).toEqual([]);
    expect(result.figures.incidents).toHaveLength(result.month.incidents.length);
  });

  it('shows a person every incident automation cannot end: hand-offs within a minute, unmatched alerts at the grace time, flappers within 15 min', () => {
    const forPerson = result.figures.incidents.filter((i) => i.expect === 'person');
    expect(forPerson.length).toBeGreaterThanOrEqual(4);
    for (const i of forPerson) {
      expect(i.minutesToPerson).not.toBeNull();
      const bound = i.kind === 'flapping' ? 15 : i.kind === 'unmatched' ? 6 : 1;
      expect({ id: i.id, minutes: i.minutesToPerson! <= bound }).toEqual({ id: i.id, minutes: true });
    }
    // What automation fixes never reaches a person.
    for (const i of result.figures.incidents.filter((x) => x.expect === 'automation')) expect(i.by).toBe('automation');
  });

  it('gives every shown item an owner (automation or a person) within 5 minutes of its first alert', () => {
    expect(Math.max(...result.figures.minutesToOwner)).toBeLessThanOrEqual(5);
  });

  it('notifies through the configured webhook at most once per state change of an item a person was shown, never per alert', () => {
    expect(result.run.notificationsSent).toBeGreaterThanOrEqual(result.figures.itemsShown);
    expect(result.run.notificationsSent).toBeLessThanOrEqual(result.figures.shownStateChanges);
  });

  it('runs the remediations that alerts start as real workflows, and never waits past its bound', () => {
    expect(result.run.remediationsStarted).toBeGreaterThan(0);
    expect(result.run.settleTimeouts).toBe(0);
  });
});
