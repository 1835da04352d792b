/**
 * The core's safety rules at the moments a real cloud cannot be timed to, on
 * the real Temporal dev server and PostgreSQL, with the real activities over a
 * scripted in-memory cloud (test/support/scripted-fleet.ts): a person taking
 * the host back between two actions or during one, a node put in maintenance
 * by a person, Shipshape's own fence after an evacuation, a conductor that
 * answers 503 for a while. Policies and guards are the shipped files; each
 * scenario has its own zone of three hosts, as a small cloud has.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchGuards } from '../../policies/guards-schema';
import { createTestEnv, type TestEnv } from '../support/env';
import { recordHistoryIfAsked } from '../support/history';
import { eventually, hostSignal, http } from '../support/http';
import { ScriptedFleet } from '../support/scripted-fleet';

const zones = (...names: string[]) => Object.fromEntries(names.map((z) => [z, [1, 2, 3].map((i) => `${z}-${i}`)]));
const fleet = new ScriptedFleet(zones('a', 'b', 'c', 'd', 'e', 'f', 'g'), 2);
let env: TestEnv;
let operator: string;

/**
 * The shipped policy folder, plus two tuned copies of host-down under their own
 * signal names: evacuation is opt-in (and its approval is tested on the
 * OpenStack test cloud), and a host that never recovers need not be watched
 * for the shipped ten minutes to show what its hand-off says.
 */
function policyFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-policies-'));
  cpSync(join(__dirname, '../../policies'), dir, { recursive: true });
  writeFileSync(
    join(dir, 'host-down-evacuate.yaml'),
    `name: host-down-evacuate
match: { signals: [HostDownEvacuate] }
drain: { evacuate: when-host-down, evacuationApproval: false }
steps:
  - { action: power-cycle, timeoutSeconds: 600, fixWithinSeconds: 5 }
verify: { attempts: 6, intervalSeconds: 1 }
`,
  );
  writeFileSync(
    join(dir, 'host-down-short.yaml'),
    `name: host-down-short
match: { signals: [HostDownShort] }
steps:
  - { action: power-cycle, timeoutSeconds: 4, fixWithinSeconds: 2 }
  - { action: restart-compute-service, fixWithinSeconds: 2 }
verify: { attempts: 2, intervalSeconds: 1 }
`,
  );
  return dir;
}

beforeAll(async () => {
  const policyDir = policyFolder();
  env = await createTestEnv({ provider: () => fleet, policyDir, guards: watchGuards(join(policyDir, 'guards.yaml')) });
  operator = await env.token('monitoring', 'operator');
  await env.startWorker();
});
afterAll(() => env.close());

const view = async (id: string) => (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, operator)).body;
async function alert(host: string, name = 'HostDown'): Promise<string> {
  const res = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal(host, name));
  expect(res.body.outcome).toBe('started');
  return res.body.remediationId;
}
const ended = (id: string, timeoutMs = 90_000) =>
  eventually(
    `${id} to end or wait for an operator`,
    async () => {
      const v = await view(id);
      return ['returned', 'stood-down', 'awaiting-operator', 'false-alarm', 'cancelled', 'rejected'].includes(v.phase)
        ? v
        : undefined;
    },
    timeoutMs,
  );
const actionsOn = (host: string) => fleet.actions.filter((a) => a.endsWith(` ${host}`) || a.includes(` ${host}-vm`));
const auditActions = async (id: string) =>
  (
    (await http('GET', `${env.apiUrl}/v1/audit-log?remediationId=${id}`, operator)).body.entries as Array<{
      action: string;
    }>
  ).map((e) => e.action);

describe('a person takes the host back while Shipshape drains it', () => {
  test('re-enabled between two migrations: no further server is moved, no power cycle, Shipshape stands down and the host stays in service', async () => {
    const host = 'a-1';
    fleet.host(host).fault = 'DIMM A1 uncorrectable errors';
    fleet.scene = {
      moveFinished: (server, f) => {
        if (server === `${host}-vm1`) Object.assign(f.host(host), { enabled: true, disabledReason: null }); // the person
      },
    };
    const r = await ended(await alert(host));
    expect(r.phase).toBe('stood-down');
    expect(r.outcome.reason).toMatch(/re-enabled outside Shipshape/);
    expect(actionsOn(host)).toEqual([`live ${host}-vm1`]);
    expect(r.poolState).toBe('in-service');
  });

  test('re-enabled while a server is moving: Shipshape stops at once, leaves that move to the cloud and moves nothing else', async () => {
    const host = 'b-1';
    fleet.host(host).fault = 'fan 3 failed';
    fleet.moveMs = 8_000;
    fleet.scene = {
      moveStarted: (server, f) => {
        if (server === `${host}-vm1`)
          setTimeout(() => Object.assign(f.host(host), { enabled: true, disabledReason: null }), 500);
      },
    };
    try {
      const r = await ended(await alert(host));
      expect(r.phase).toBe('stood-down');
      expect(r.outcome.reason).toMatch(new RegExp(`seen while server ${host}-vm1 was moving`));
      expect(actionsOn(host)).toEqual([`live ${host}-vm1`]);
    } finally {
      fleet.moveMs = 300;
    }
  });
});

test('a node a person puts in maintenance mid-drain is theirs: no power action, Shipshape stands down naming it, the host stays out of the pool', async () => {
  const host = 'c-1';
  fleet.host(host).fault = 'PSU 2 failed';
  fleet.scene = {
    moveFinished: (server, f) => {
      if (server === `${host}-vm1`) f.host(host).maintenance = { reason: 'replacing a DIMM', fault: null };
    },
  };
  const r = await ended(await alert(host));
  expect(r.phase).toBe('stood-down');
  expect(r.outcome.reason).toMatch(/maintenance outside Shipshape \("replacing a DIMM"\)/);
  expect(actionsOn(host).filter((a) => !a.startsWith('live'))).toEqual([]);
  expect(r.poolState).toBe('out-of-service');
  expect(fleet.host(host).enabled).toBe(false);
});

describe("Shipshape's fence after an evacuation, with the default checks", () => {
  test('the fence is lifted once nova-compute is back, so the host is verified and returned instead of handed off', async () => {
    const host = 'd-1';
    fleet.scene = {};
    fleet.breakHost(host, { off: true });
    const id = await alert(host, 'HostDownEvacuate');
    const r = await ended(id);
    expect({ phase: r.phase, handOff: r.handOff }).toEqual({ phase: 'returned', handOff: null });
    expect(fleet.host(host)).toMatchObject({ forcedDown: false, enabled: true });
    const actions = await auditActions(id);
    expect(actions).toEqual(
      expect.arrayContaining(['host fenced', 'fence kept', 'power-cycle', 'fence lifted', 'remediation returned']),
    );
    expect(actions.indexOf('power-cycle')).toBeLessThan(actions.indexOf('fence lifted'));
    // RECORD_HISTORY=<name> stores this run's history for the replay test (the fence patch's fixture).
    recordHistoryIfAsked(env, host);
  });

  test('a host whose nova-compute never comes back is handed off with the fence named in the reason and the notification', async () => {
    const host = 'e-1';
    fleet.scene = {};
    fleet.breakHost(host, { off: true });
    fleet.host(host).powerCycleFixes = false;
    const id = await alert(host, 'HostDownEvacuate');
    const r = await ended(id);
    expect(r.phase).toBe('awaiting-operator');
    expect(fleet.host(host).forcedDown).toBe(true);
    expect(r.handOff.reason).toMatch(/Shipshape's fence is still on: nova-compute on e-1 is forced down/);
    // The page goes out right after the phase changes.
    const sent = await eventually('the hand-off page', async () =>
      env.notifications.find((n) => n.remediationId === id && n.kind === 'hand-off'),
    );
    expect(sent.reason).toMatch(/fence is still on/);
  });
});

describe('a ladder step under a flaky control plane', () => {
  test("a power cycle that meets 503s keeps trying with back-off within the step's time: issued once, the host returned", async () => {
    const host = 'f-1';
    fleet.host(host).fault = 'kernel panic';
    let refused = 0;
    fleet.scene = {
      beforePowerAction: () => {
        if (refused < 4) {
          refused++;
          throw Object.assign(new Error('baremetal: PUT /v1/nodes/x/states/power answered HTTP 503 after 4 attempts'), {
            retryable: true,
          });
        }
      },
    };
    const r = await ended(await alert(host));
    expect(r.phase).toBe('returned');
    expect(refused).toBe(4);
    expect(actionsOn(host).filter((a) => a.startsWith('power-cycle'))).toEqual([`power-cycle ${host}`]);
  });

  test("a hand-off keeps every step's outcome: the power cycle that was never issued, and why, as well as the last step", async () => {
    const host = 'g-1';
    fleet.host(host).fault = 'kernel panic';
    fleet.scene = {
      beforePowerAction: () => {
        throw Object.assign(new Error('baremetal: PUT /v1/nodes/x/states/power answered HTTP 503 after 4 attempts'), {
          retryable: true,
        });
      },
    };
    const r = await ended(await alert(host, 'HostDownShort'));
    expect(r.phase).toBe('awaiting-operator');
    expect(r.handOff.reason).toMatch(/power-cycle failed: .*no power cycle was issued: baremetal: .*HTTP 503/);
    expect(r.handOff.reason).toMatch(/restart-compute-service failed: .*not possible/);
    expect(actionsOn(host).filter((a) => a.startsWith('power-cycle'))).toEqual([]);
  });
});
