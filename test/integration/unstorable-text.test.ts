/**
 * Text PostgreSQL cannot store — a NUL character, or an unpaired UTF-16
 * surrogate that a JSON "\ud800" escape decodes to — gets a 400 naming the
 * field, wherever it comes in, and nothing of that request is recorded or applied.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { injectFault } from '../../providers/simulated/admin';
import { createToken } from '../../api/auth';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, hostSignal, http, webhookAlert, webhookNotification } from '../support/http';

const NUL = '\u0000';

let env: TestEnv;
let operator: string;
let approver: string;
let admin: string;
let awaitingApproval: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-text-'));
  chmodSync(dir, 0o755);
  writeFileSync(
    join(dir, 'hardware-fault.yaml'),
    'name: hardware-fault\nmatch:\n  signals: [HardwareFault]\napproval: { mode: always }\nsteps:\n  - action: power-cycle\n',
  );
  env = await createTestEnv({ policyDir: dir, fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 1 } });
  operator = await env.token('ops-bot', 'operator');
  approver = await env.token('ada', 'approver');
  admin = await env.token('root', 'admin');
  await env.startWorker();
  await injectFault(env.db, 'cmp-a-01', { unhealthy: 'power supply failed' });
  const started = await http('POST', `${env.apiUrl}/v1/signals`, operator, hostSignal('cmp-a-01', 'HardwareFault'));
  awaitingApproval = started.body.remediationId;
  await eventually('awaiting approval', async () => {
    const r = (await http('GET', `${env.apiUrl}/v1/remediations/${awaitingApproval}`, operator)).body;
    return r.phase === 'awaiting-approval' ? r : undefined;
  });
});
afterAll(() => env.close());

const count = async (table: string) =>
  (await env.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;
const records = async () => ({
  signals: await count('signals'),
  audit: await count('audit_log'),
  policies: await count('policy_versions'),
});

const alert = webhookAlert;
const webhook = webhookNotification;
const fine = (host: string) => alert({ alertname: 'HostDown', instance: `${host}:9100` });

type Call = () => Promise<{ status: number; body: any }>;
type Role = 'operator' | 'approver' | 'admin';
// Tokens and the remediation exist only once beforeAll has run: look them up when a case runs.
const tokenOf = (role: Role) => ({ operator, approver, admin })[role];
const url = (path: string) => `${env.apiUrl}${path.replace('{awaiting}', awaitingApproval)}`;
const send =
  (method: string, path: string, role: Role, body?: unknown): Call =>
  () =>
    http(method, url(path), tokenOf(role), body);
const sendRaw =
  (path: string, role: Role, json: string): Call =>
  () =>
    http('POST', url(path), tokenOf(role), undefined, json);

const NUL_MESSAGE = /contains a NUL character \(\\u0000\) at position \d+; PostgreSQL cannot store it/;
const SURROGATE_MESSAGE = /contains an unpaired UTF-16 surrogate \(\\ud800\)/;
const signalJson = (host: string, field: string) =>
  JSON.stringify(hostSignal(host)).replace(`"${field}":"`, `"${field}":"\\ud800`);

const cases: [string, Call, string, RegExp][] = [
  [
    'a NUL in a label value of a signal',
    send('POST', '/v1/signals', 'operator', hostSignal('cmp-a-02', 'HostDown', { labels: { rack: `r7${NUL}` } })),
    'body.labels.rack',
    NUL_MESSAGE,
  ],
  [
    'a NUL in a label name of a signal',
    send('POST', '/v1/signals', 'operator', hostSignal('cmp-a-02', 'HostDown', { labels: { [`ra${NUL}ck`]: 'r7' } })),
    'body.labels.ra\\u0000ck',
    NUL_MESSAGE,
  ],
  [
    'a NUL in the name of a signal',
    send('POST', '/v1/signals', 'operator', hostSignal('cmp-a-02', `Host${NUL}Down`)),
    'body.name',
    NUL_MESSAGE,
  ],
  [
    'a NUL in resource.id of a signal',
    send('POST', '/v1/signals', 'operator', {
      ...hostSignal('cmp-a-02'),
      resource: { kind: 'host', id: `cmp-a-02${NUL}` },
    }),
    'body.resource.id',
    NUL_MESSAGE,
  ],
  [
    'a NUL in an annotation of a signal',
    send(
      'POST',
      '/v1/signals',
      'operator',
      hostSignal('cmp-a-02', 'HostDown', { annotations: { summary: `down${NUL}` } }),
    ),
    'body.annotations.summary',
    NUL_MESSAGE,
  ],
  [
    'a NUL in the source of a signal',
    send('POST', '/v1/signals', 'operator', hostSignal('cmp-a-02', 'HostDown', { source: `prom${NUL}` })),
    'body.source',
    NUL_MESSAGE,
  ],
  [
    'a NUL in the fingerprint of a signal',
    send('POST', '/v1/signals', 'operator', hostSignal('cmp-a-02', 'HostDown', { fingerprint: `ab${NUL}` })),
    'body.fingerprint',
    NUL_MESSAGE,
  ],
  [
    'an unpaired surrogate in the name of a signal',
    sendRaw('/v1/signals', 'operator', signalJson('cmp-a-02', 'name')),
    'body.name',
    SURROGATE_MESSAGE,
  ],
  [
    'an unpaired surrogate in a label value of a signal',
    sendRaw('/v1/signals', 'operator', signalJson('cmp-a-02', 'host')),
    'body.labels.host',
    SURROGATE_MESSAGE,
  ],
  [
    'a NUL in the instance label of the fourth alert of a webhook',
    send(
      'POST',
      '/v1/integrations/alertmanager',
      'operator',
      webhook([
        fine('cmp-a-02'),
        fine('cmp-a-03'),
        fine('node-x'),
        alert({ alertname: 'HostDown', instance: `cmp-a-03${NUL}:9100` }),
      ]),
    ),
    'body.alerts.3.labels.instance',
    NUL_MESSAGE,
  ],
  [
    'a NUL in an annotation of the second alert of a webhook',
    send(
      'POST',
      '/v1/integrations/alertmanager',
      'operator',
      webhook([fine('cmp-a-02'), alert({ alertname: 'HostDown', instance: 'cmp-a-03:9100' }, { summary: `a${NUL}b` })]),
    ),
    'body.alerts.1.annotations.summary',
    NUL_MESSAGE,
  ],
  [
    'an unpaired surrogate in a label of the second alert of a webhook',
    sendRaw(
      '/v1/integrations/alertmanager',
      'operator',
      JSON.stringify(
        webhook([fine('cmp-a-02'), alert({ alertname: 'HostDown', instance: 'cmp-a-03:9100', rack: 'r7' })]),
      ).replace('"rack":"r7', '"rack":"r7\\udc00\\ud800'),
    ),
    'body.alerts.1.labels.rack',
    /unpaired UTF-16 surrogate \(\\udc00\)/,
  ],
  [
    'a NUL in the receiver of a webhook',
    send('POST', '/v1/integrations/alertmanager', 'operator', {
      ...webhook([fine('cmp-a-02')]),
      receiver: `ship${NUL}`,
    }),
    'body.receiver',
    NUL_MESSAGE,
  ],
  [
    'a NUL in an approval comment',
    send('POST', '/v1/remediations/{awaiting}/approve', 'approver', { comment: `ok${NUL}` }),
    'body.comment',
    NUL_MESSAGE,
  ],
  [
    'a NUL in a rejection comment',
    send('POST', '/v1/remediations/{awaiting}/reject', 'approver', { comment: `no${NUL}` }),
    'body.comment',
    NUL_MESSAGE,
  ],
  [
    'a NUL in a cancel comment',
    send('POST', '/v1/remediations/{awaiting}/cancel', 'operator', { comment: `stop${NUL}` }),
    'body.comment',
    NUL_MESSAGE,
  ],
  [
    'a NUL in a hand-back note',
    send('POST', '/v1/remediations/{awaiting}/hand-back', 'operator', {
      comment: `fixed${NUL}`,
      fixedBy: 'power-cycle',
    }),
    'body.comment',
    NUL_MESSAGE,
  ],
  [
    'a NUL in the comment of a guards pause',
    send('POST', '/v1/guards/pause', 'admin', { comment: `pause${NUL}` }),
    'body.comment',
    NUL_MESSAGE,
  ],
  [
    'a NUL in a query parameter of the remediations list',
    send('GET', '/v1/remediations?host=%00', 'operator'),
    'query.host',
    NUL_MESSAGE,
  ],
  [
    'a NUL in a query parameter of the hosts list',
    send('GET', '/v1/hosts?zone=zone-a%00', 'operator'),
    'query.zone',
    NUL_MESSAGE,
  ],
  [
    'a NUL in a query parameter of the audit log',
    send('GET', '/v1/audit-log?remediationId=%00', 'operator'),
    'query.remediationId',
    NUL_MESSAGE,
  ],
  ['a NUL in a remediation id in the path', send('GET', '/v1/remediations/r%00', 'operator'), 'path', NUL_MESSAGE],
  ['a NUL in a host id in the path', send('GET', '/v1/hosts/cmp-a-01%00/telemetry', 'operator'), 'path', NUL_MESSAGE],
  [
    'a NUL in the remediation id of a policy draft',
    send('POST', '/v1/policies/draft-from/r%00', 'operator', {}),
    'path',
    NUL_MESSAGE,
  ],
  [
    'a NUL in a comment of a policy file',
    send('PUT', '/v1/policies/nul-comment', 'admin', {
      content: `name: nul-comment\n# a ${NUL} here\nmatch: { signals: [X] }\nsteps: [{ action: power-cycle }]\n`,
    }),
    'nul-comment.yaml:2:5: (file)',
    /contains a NUL character \(\\u0000\); PostgreSQL cannot store it/,
  ],
  [
    'a NUL escape in a string of a policy file',
    send('PUT', '/v1/policies/nul-note', 'admin', {
      content: 'name: nul-note\nmatch: { signals: [X] }\nsteps: [{ action: notify, message: "call \\0 me" }]\n',
    }),
    'steps.0.message',
    NUL_MESSAGE,
  ],
  [
    'a NUL in a policy to validate',
    send('POST', '/v1/policies/validate', 'operator', { content: `name: x${NUL}\n` }),
    'draft.yaml:1:8',
    /contains a NUL character/,
  ],
];

test.each(cases)('%s gets a 400 naming the field, and nothing is recorded', async (_name, call, field, message) => {
  const before = await records();
  const res = await call();
  expect(res.status).toBe(400);
  expect(res.body.error.message).toContain(field);
  expect(res.body.error.message).toMatch(message);
  expect(await records()).toEqual(before);
});

test('the remediation the refused comments were for is still awaiting approval', async () => {
  const r = (await http('GET', url('/v1/remediations/{awaiting}'), operator)).body;
  expect(r.phase).toBe('awaiting-approval');
});

test('a token subject with a NUL is refused with the reason, and no token is stored', async () => {
  const before = await count('api_tokens');
  await expect(createToken(env.db, `ops${NUL}bot`, 'operator')).rejects.toThrow(
    /^subject: contains a NUL character \(\\u0000\) at position 3/,
  );
  expect(await count('api_tokens')).toBe(before);
});
