/** personOverride: when a person has taken a host over, table-style, one line of description per case. */
import { personOverride } from '../../domain/health';
import { DISABLE_REASON_PREFIX } from '../../domain/remediation';
import type { HostState } from '../../domain/types';

const ours = `${DISABLE_REASON_PREFIX} remediation r-1 (HostDown)`;
function host(compute: Partial<HostState['compute']>, maintenance: HostState['maintenance'] = null): HostState {
  return {
    host: 'cmp-1',
    power: 'on',
    health: 'ok',
    healthReasons: [],
    serverCount: 0,
    maintenance,
    compute: { enabled: true, up: true, disabledReason: null, ...compute },
  };
}

const cases: Array<[string, HostState, boolean, RegExp | null]> = [
  ["an enabled host nobody touched is nobody's override", host({}), false, null],
  [
    'a host disabled by a person with their reason is theirs',
    host({ enabled: false, disabledReason: 'rack move' }),
    false,
    /disabled outside Shipshape \("rack move"\)/,
  ],
  [
    "a host disabled without a reason is a person's too",
    host({ enabled: false }),
    false,
    /disabled outside Shipshape;/,
  ],
  [
    "a host disabled with Shipshape's reason is Shipshape's",
    host({ enabled: false, disabledReason: ours }),
    false,
    null,
  ],
  [
    'while Shipshape holds it, a host enabled again was taken back by a person',
    host({}),
    true,
    /re-enabled outside Shipshape/,
  ],
  [
    'while Shipshape holds it, its own disable is no override',
    host({ enabled: false, disabledReason: ours }),
    true,
    null,
  ],
  [
    'while Shipshape holds it, a person replacing the reason with theirs takes it',
    host({ enabled: false, disabledReason: 'swap PSU' }),
    true,
    /disabled outside Shipshape \("swap PSU"\)/,
  ],
  [
    'maintenance a person set ("replacing a DIMM") is theirs, held or not',
    host({ enabled: false, disabledReason: ours }, { reason: 'replacing a DIMM', fault: null }),
    true,
    /maintenance outside Shipshape \("replacing a DIMM"\).*no power action/,
  ],
  [
    "maintenance without a reason is a person's too",
    host({}, { reason: null, fault: null }),
    false,
    /maintenance outside Shipshape;/,
  ],
  [
    'maintenance Ironic set itself (a fault) is a health problem, not a person',
    host({ enabled: false, disabledReason: ours }, { reason: 'power sync failed', fault: 'power failure' }),
    true,
    null,
  ],
  [
    "maintenance with Shipshape's own prefix is Shipshape's",
    host({}, { reason: `${DISABLE_REASON_PREFIX} firmware`, fault: null }),
    false,
    null,
  ],
];

test.each(cases)('%s', (_what, state, holding, expected) => {
  const override = personOverride(state, DISABLE_REASON_PREFIX, holding);
  if (expected === null) expect(override).toBeNull();
  else expect(override).toMatch(expected);
});
