/**
 * Temporal holds only ciphertext: a history read straight from Temporal
 * (without Shipshape's codec) has no operator comment and no host fact in it,
 * and the codec endpoint the Web UI calls decodes its payloads for a
 * Shipshape token (viewer or higher) and for nobody else.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { injectFault } from '../../providers/simulated/admin';
import { temporalBinary } from '../../scripts/services';
import { createTestEnv, type TestEnv } from '../support/env';
import { eventually, hostSignal, http } from '../support/http';

const UI_ORIGIN = 'http://localhost:8233';

let env: TestEnv;
let tokens: Record<'bot' | 'bob' | 'viewer', string>;

beforeAll(async () => {
  env = await createTestEnv({ fleet: { zones: ['zone-a'], hostsPerZone: 3, serversPerHost: 2 } });
  tokens = {
    bot: await env.token('ops-bot', 'operator'),
    bob: await env.token('bob', 'approver'),
    viewer: await env.token('victor', 'viewer'),
  };
  await env.startWorker();
});
afterAll(() => env.close());

type JsonPayload = { metadata: Record<string, string>; data: string };
const b64 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('base64');
const asJson = (p: temporal.api.common.v1.IPayload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
  data: b64(p.data),
});
const text = (b64text: string | undefined) => Buffer.from(b64text ?? '', 'base64').toString('utf8');

function codec(op: 'decode' | 'encode', payloads: JsonPayload[], token: string | null, origin = UI_ORIGIN) {
  return fetch(`${env.apiUrl}/v1/codec/${op}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      origin,
      'x-namespace': 'default',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ payloads }),
  });
}

test('a history read straight from Temporal holds no plaintext comment or host fact, and the codec endpoint decodes it for a viewer token only', async () => {
  const host = 'cmp-a-01';
  const fault = `DIMM A3 uncorrectable errors ${randomUUID()}`;
  const comment = `technician confirmed on site, ticket ${randomUUID()}`;
  await injectFault(env.db, host, { unhealthy: fault });
  const id = (await http('POST', `${env.apiUrl}/v1/signals`, tokens.bot, hostSignal(host, 'HardwareFault'))).body
    .remediationId;
  await eventually('awaiting approval', async () =>
    (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, tokens.bot)).body.phase === 'awaiting-approval'
      ? true
      : undefined,
  );
  const approved = await http('POST', `${env.apiUrl}/v1/remediations/${id}/approve`, tokens.bob, { comment });
  expect(approved.status).toBe(200);
  const done = await eventually('returned', async () => {
    const v = (await http('GET', `${env.apiUrl}/v1/remediations/${id}`, tokens.bot)).body;
    return v.phase === 'returned' ? v : undefined;
  });
  // Shipshape itself reads it back in clear (its own records, through its own client).
  expect(JSON.stringify(done)).toContain(fault);

  // Straight from Temporal, with a client that has no codec.
  const raw = new Client({ connection: env.client.connection });
  const history = await raw.workflow.getHandle(done.workflowId).fetchHistory();
  const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  expect(bytes.length).toBeGreaterThan(1000);
  expect(bytes.includes(comment)).toBe(false);
  expect(bytes.includes(fault)).toBe(false);
  expect(bytes.includes('technician confirmed')).toBe(false);

  const events = history.events ?? [];
  const started = events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  expect(text(asJson(started).metadata.encoding)).toBe('binary/encrypted');
  expect(text(asJson(started).metadata['encryption-key-id'])).toBe(env.keys.codecKeys[0]!.id);
  const approval = events
    .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest)
    .find((r) => r?.input?.name === 'approve');
  const encrypted = approval!.input!.args!.payloads!.map(asJson);

  // No token: 401, with the CORS headers the UI needs to read the answer.
  const anonymous = await codec('decode', encrypted, null);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);

  // A viewer's token: the approval's arguments, decoded.
  const decoded = await codec('decode', encrypted, tokens.viewer);
  expect(decoded.status).toBe(200);
  expect(decoded.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  const [arg] = ((await decoded.json()) as { payloads: JsonPayload[] }).payloads;
  expect(text(arg!.metadata.encoding)).toBe('json/plain');
  expect(JSON.parse(text(arg!.data))).toMatchObject({ remediationId: id, by: 'bob', role: 'approver', comment });

  // The Temporal CLI, pointed at the codec endpoint with a viewer's token, shows the history decoded.
  const show = (
    auth: string[], // (without a token the endpoint answers 401, as above)
  ) =>
    promisify(execFile)(temporalBinary(), [
      ...['workflow', 'show', '--address', env.temporalAddress, '--workflow-id', done.workflowId, '--output', 'json'],
      ...['--codec-endpoint', `${env.apiUrl}/v1/codec`, ...auth],
    ]);
  const shown = (await show(['--codec-auth', `Bearer ${tokens.viewer}`])).stdout;
  expect(shown).not.toContain(Buffer.from('binary/encrypted').toString('base64'));
  const payloadTexts = [...shown.matchAll(/"data": "([A-Za-z0-9+/=]+)"/g)].map((m) => text(m[1]));
  expect(payloadTexts.some((t) => t.includes(comment))).toBe(true);
});

test("the codec endpoint answers the UI's preflight, and only the configured origin is allowed", async () => {
  const preflight = await fetch(`${env.apiUrl}/v1/codec/decode`, {
    method: 'OPTIONS',
    headers: {
      origin: UI_ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,x-namespace',
    },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
  expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/);

  const elsewhere = await codec('decode', [], tokens.viewer, 'https://evil.example');
  expect(elsewhere.status).toBe(200);
  expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
});

test('encode then decode through the endpoint gives the payload back; a bad body is refused naming the field', async () => {
  const plain = { metadata: { encoding: b64(Buffer.from('json/plain')) }, data: b64(Buffer.from('"hello"')) };
  const encoded = (await (await codec('encode', [plain], tokens.viewer)).json()) as { payloads: JsonPayload[] };
  expect(text(encoded.payloads[0]!.metadata.encoding)).toBe('binary/encrypted');
  expect(text(encoded.payloads[0]!.data)).not.toContain('hello');
  const decoded = (await (await codec('decode', encoded.payloads, tokens.viewer)).json()) as {
    payloads: JsonPayload[];
  };
  expect(decoded.payloads).toEqual([plain]);

  const bad = await http('POST', `${env.apiUrl}/v1/codec/decode`, tokens.viewer, { payloads: [{ data: '***' }] });
  expect(bad.status).toBe(400);
  expect(bad.body.error.message).toBe('body.payloads.0.data: must be base64');
});

test('in a browser, a person signs in once with their token; the cookie then lets the UI decode, and signing out ends it', async () => {
  const payloads = (
    (await (await codec('encode', [{ metadata: {}, data: b64(Buffer.from('"x"')) }], tokens.viewer)).json()) as {
      payloads: JsonPayload[];
    }
  ).payloads;
  const login = (token: string) =>
    fetch(`${env.apiUrl}/v1/codec/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
  expect((await login('not-a-token')).status).toBe(401);
  const form = await fetch(`${env.apiUrl}/v1/codec/login`);
  expect(await form.text()).toContain('name="token"');

  const signedIn = await login(tokens.viewer);
  expect(signedIn.status).toBe(200);
  expect(await signedIn.text()).toContain('Signed in as victor (viewer)');
  const cookie = signedIn.headers.get('set-cookie')!;
  expect(cookie).toMatch(/; Path=\/v1\/codec; HttpOnly; SameSite=Lax; Max-Age=28800/);

  const viaCookie = (c: string) =>
    fetch(`${env.apiUrl}/v1/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: UI_ORIGIN, cookie: c.split(';')[0]! },
      body: JSON.stringify({ payloads }),
    });
  const decoded = await viaCookie(cookie);
  expect(decoded.status).toBe(200);
  expect(decoded.headers.get('access-control-allow-credentials')).toBe('true');
  expect(text(((await decoded.json()) as { payloads: JsonPayload[] }).payloads[0]!.data)).toBe('"x"');

  const out = await fetch(`${env.apiUrl}/v1/codec/logout`, { method: 'POST' });
  const cleared = out.headers.get('set-cookie')!;
  expect(cleared).toMatch(/^shipshape_codec=; .*Max-Age=0/);
  expect((await viaCookie(cleared)).status).toBe(401);
});

test('the OpenAPI document describes the codec routes', async () => {
  const doc = (await http('GET', `${env.apiUrl}/openapi.json`, null)).body;
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining(['/v1/codec/decode', '/v1/codec/encode', '/v1/codec/login', '/v1/codec/logout']),
  );
});
