/**
 * What may import what: api/ never reaches the fleet through activities/ or
 * providers/, domain/ stays pure, providers/ are adapters that know nothing of
 * their callers, workflows/ stay deterministic. ESLint enforces it
 * (eslint.config.mjs, no-restricted-imports); these probes keep the rules
 * honest. Each probe is linted in place of a file that exists (the type-aware
 * parser needs one), so a rule whose files or patterns narrow fails here.
 */
import { lintProbes } from '../support/lint-probes';
const RULE = '@typescript-eslint/no-restricted-imports';

const probe = (from: string) => `import * as probe from '${from}';\nexport const probed = probe;\n`;

// [what, the file the probe stands in for, what it imports, the message expected (null: allowed)]
const cases: [string, string, string, RegExp | null][] = [
  [
    'a route importing an activity is refused',
    'api/routes/health.ts',
    '../../activities/inventory',
    /api\/ never imports activities\/ or providers\//,
  ],
  [
    'the API server importing a provider is refused',
    'api/server.ts',
    '../providers/simulated/admin',
    /api\/ never imports activities\/ or providers\//,
  ],
  ['the API server importing the activities index is refused', 'api/server.ts', '../activities', /api\/ never imports/],
  ['a route importing db/ is allowed', 'api/routes/health.ts', '../../db/hosts', null],
  ['the API importing its Temporal client (workers/temporal) is allowed', 'api/server.ts', '../workers/temporal', null],
  ['domain/ importing config/ is refused', 'domain/guards.ts', '../config', /domain\/ imports only domain\//],
  ['domain/ importing db/ is refused', 'domain/telemetry.ts', '../db/pool', /domain\/ imports only domain\//],
  ['domain/ importing domain/ is allowed', 'domain/guards.ts', './windows', null],
  [
    'domain/ importing pg is refused (deterministic, as workflows/)',
    'domain/guards.ts',
    'pg',
    /must stay deterministic/,
  ],
  [
    'a provider importing an activity is refused',
    'providers/simulated/provider.ts',
    '../../activities/telemetry',
    /providers\/ are vendor adapters/,
  ],
  [
    'a provider importing a workflow is refused',
    'providers/openstack/provider.ts',
    '../../workflows/remediation',
    /providers\/ are vendor adapters/,
  ],
  ['a provider importing the API is refused', 'providers/bmc.ts', '../api/errors', /providers\/ are vendor adapters/],
  [
    'a provider importing the composition root is refused',
    'providers/notifiers.ts',
    '../workers/composition',
    /providers\/ are vendor adapters/,
  ],
  ['a provider importing db/ is allowed', 'providers/simulated/provider.ts', '../../db/simulated-fleet', null],
  ['a provider importing domain/ is allowed', 'providers/openstack/provider.ts', '../../domain/provider', null],
  ['a workflow importing pg is still refused', 'workflows/remediation.ts', 'pg', /must stay deterministic/],
  [
    'an activity importing a provider is allowed (it is handed one)',
    'activities/telemetry.ts',
    '../providers/bmc',
    null,
  ],
];

describe('imports that cross a forbidden line fail lint', () => {
  let found: string[][];
  beforeAll(() => {
    found = lintProbes(
      RULE,
      cases.map(([, file, from]) => ({ file, code: probe(from) })),
    );
  }, 60_000);

  test.each(cases.map((c, i) => [c[0], c[3], i] as const))('%s', (_what, expected, i) => {
    const messages = found[i]!;
    if (expected === null) expect(messages).toEqual([]);
    else expect(messages).toEqual([expect.stringMatching(expected)]);
  });
});
