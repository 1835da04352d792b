/**
 * SQL lives in db/ and migrations/: the lint rule shipshape/sql-only-in-db
 * (eslint.config.mjs) says so, and these probes keep the rule honest. Each
 * probe is linted as if it were the named file (ESLint's --stdin-filename), so
 * a change that narrows the rule's files or its checks fails here. test/ is
 * exempt: it is the outside observer and checks the database directly.
 */
import { lintProbes } from '../support/lint-probes';

/** SQL text a route might write, and a query on a pool whose SQL is built where no string check sees it. */
const PROBE = `import type { Pool } from 'pg';
export async function probe(db: Pool, id: string): Promise<string> {
  const built = ['SEL', 'ECT 1'].join('');
  await db.query(built, [id]);
  return 'DELETE FROM hosts WHERE id = $1';
}
`;

/** A Temporal workflow query is not SQL. */
const WORKFLOW_QUERY = `import type { WorkflowHandle } from '@temporalio/client';
export async function probe(handle: WorkflowHandle): Promise<unknown> {
  return handle.query('state');
}
`;

// Paths of files that exist: the type-aware parser lints the probe's text in their place.
const cases: [string, string, string, number][] = [
  ['in a route, the SQL text and the query on a pool are both reported', 'api/routes/health.ts', PROBE, 2],
  ['in an activity, both are reported', 'activities/inventory.ts', PROBE, 2],
  ['in a provider, both are reported', 'providers/simulated/provider.ts', PROBE, 2],
  ['in a script, both are reported', 'scripts/token.ts', PROBE, 2],
  ['in a worker entry point, both are reported', 'workers/main.ts', PROBE, 2],
  ['in a db/ module, the same code is where it belongs', 'db/hosts.ts', PROBE, 0],
  ['in a test, the outside observer, it is allowed', 'test/unit/edges.test.ts', PROBE, 0],
  ['a Temporal workflow query in a route is not taken for SQL', 'api/routes/remediations.ts', WORKFLOW_QUERY, 0],
];

describe('SQL outside db/ fails lint', () => {
  let found: string[][];
  beforeAll(() => {
    found = lintProbes(
      'shipshape/sql-only-in-db',
      cases.map(([, file, code]) => ({ file, code })),
    );
  }, 60_000);

  test.each(cases.map((c, i) => [c[0], c[3], i] as const))('%s', (_what, expected, i) => {
    const messages = found[i]!;
    expect(messages).toHaveLength(expected);
    for (const m of messages) expect(m).toMatch(/^SQL belongs in db\//);
  });

  test('the message names the query or the SQL text it found', () => {
    expect(found[0]).toEqual([
      expect.stringContaining('(a node-postgres query)'),
      expect.stringContaining('(SQL text "DELETE FROM hosts ...")'),
    ]);
  });
});
