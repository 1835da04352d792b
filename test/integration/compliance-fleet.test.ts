/**
 * The compliance benchmark's quick fleet (bench/compliance-fleet.ts: 20
 * generated ssh rules of every check type × 100 simulated hosts) through the
 * real complianceScanWorkflow on the real Temporal dev server and PostgreSQL:
 * every host scanned, every finding stored, the drifted rules failing and the
 * hosts whose key is not their pin in error. Not a timing test: the full
 * run's figures are `npm run bench:compliance`.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { QUICK_FLEET, runFleetScan, type FleetScanResult } from '../../bench/compliance-fleet';
import { findingsFootprint } from '../../db/compliance-benchmark';
import { createTestDatabase, quietRuntime } from '../support/env';

let result: FleetScanResult;
let databaseUrl: string;

beforeAll(async () => {
  quietRuntime();
  databaseUrl = (await createTestDatabase()).url;
  result = await runFleetScan({
    shape: QUICK_FLEET,
    databaseUrl,
    temporalAddress: process.env.SHIPSHAPE_TEST_TEMPORAL!,
    dir: mkdtempSync(join(process.env.SHIPSHAPE_TEST_DIR!, 'compliance-fleet-')),
    workflowBundlePath: process.env.SHIPSHAPE_TEST_BUNDLE,
  });
}, 120_000);

describe('the compliance benchmark, quick fleet', () => {
  it('scans every host of the inventory, none failed', () => {
    expect(result.summary).toMatchObject({ hosts: QUICK_FLEET.hosts, scanned: QUICK_FLEET.hosts, failed: [] });
  });

  it('stores one finding per rule and host, each with its first history row', async () => {
    const expected = QUICK_FLEET.rules * QUICK_FLEET.hosts;
    expect(result.findingsStored).toBe(expected);
    expect(result.historyRows).toBe(expected);
    const db = new Pool({ connectionString: databaseUrl, max: 1 });
    try {
      const f = await findingsFootprint(db);
      expect(f.hosts).toBe(QUICK_FLEET.hosts);
      expect(f.byResult).toEqual({
        pass: expected - result.failingExpected - result.unreachableExpected * QUICK_FLEET.rules,
        fail: result.failingExpected,
        error: result.unreachableExpected * QUICK_FLEET.rules,
      });
    } finally {
      await db.end();
    }
  });

  it('fails exactly the rules that drifted on each host, and errs every rule of a host whose key is not its pin', () => {
    expect(result.failingExpected).toBeGreaterThan(0);
    expect(result.unreachableExpected).toBeGreaterThan(0);
    expect(result.summary.results).toEqual({
      pass:
        QUICK_FLEET.rules * QUICK_FLEET.hosts - result.failingExpected - result.unreachableExpected * QUICK_FLEET.rules,
      fail: result.failingExpected,
      error: result.unreachableExpected * QUICK_FLEET.rules,
      'not-applicable': 0,
    });
    expect(result.summary.unreachable).toHaveLength(result.unreachableExpected);
    for (const u of result.summary.unreachable) expect(u.error).toContain(`host key of ${u.host}`);
  });

  it('reads each reachable host over one session', () => {
    expect(result.connectionsOpened).toBe(QUICK_FLEET.hosts - result.unreachableExpected);
  });
});
