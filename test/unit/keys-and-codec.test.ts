/**
 * The keys file, the payload codec and decision signatures, without Temporal:
 * rotation (the newest key encrypts, every key decrypts), clear errors for an
 * unknown key or a bad file (naming the field, never printing a key), and the
 * rules a decision is checked against.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payload } from '@temporalio/common';
import { decisionSignatureValid, signDecision } from '../../config/decision-signature';
import { loadKeys, parseKeys, rotateKeysFile, writeNewKeysFile, type NamedKey } from '../../config/keys';
import { decisionRefusal, type DecisionClaim } from '../../domain/decisions';
import { approvalSeverity } from '../../domain/remediation-plan';
import type { HostState, Severity } from '../../domain/types';
import { CodecError, EncryptionCodec } from '../../workers/data-converter';

const key = (id: string): NamedKey => ({ id, key: randomBytes(32) });
const json = (s: string): Payload => ({
  metadata: { encoding: new Uint8Array(Buffer.from('json/plain')) },
  data: new Uint8Array(Buffer.from(s)),
});
const meta = (p: Payload, k: string) => Buffer.from(p.metadata![k]!).toString();

describe('payload codec', () => {
  const old = key('2026-10');
  const current = key('2026-11');

  test('the newest key encrypts; the ciphertext names it and holds no plaintext', async () => {
    const [sealed] = await new EncryptionCodec([old, current]).encode([json('"DIMM A3 failed"')]);
    expect(meta(sealed!, 'encoding')).toBe('binary/encrypted');
    expect(meta(sealed!, 'encryption-key-id')).toBe('2026-11');
    expect(Buffer.from(sealed!.data!).includes('DIMM')).toBe(false);
  });

  test('after rotation, payloads encrypted with the old key still decrypt', async () => {
    const before = await new EncryptionCodec([old]).encode([json('"before rotation"')]);
    const [back] = await new EncryptionCodec([old, current]).decode(before);
    expect(Buffer.from(back!.data!).toString()).toBe('"before rotation"');
    expect(meta(back!, 'encoding')).toBe('json/plain');
  });

  test('a payload encrypted with a key no longer in the file fails with the key id and what to do', async () => {
    const sealed = await new EncryptionCodec([old]).encode([json('"x"')]);
    await expect(new EncryptionCodec([current]).decode(sealed)).rejects.toThrow(
      new CodecError(
        'payload was encrypted with key "2026-10", which is not in the keys file (codecKeys: 2026-11); add it back to decrypt',
      ),
    );
  });

  test('an altered ciphertext, or another key under the same id, does not authenticate', async () => {
    const [sealed] = await new EncryptionCodec([old]).encode([json('"x"')]);
    const altered = { ...sealed!, data: Buffer.from(sealed!.data!).map((b, i) => (i === 20 ? b ^ 1 : b)) };
    await expect(new EncryptionCodec([old]).decode([altered])).rejects.toThrow(/does not authenticate/);
    await expect(new EncryptionCodec([key('2026-10')]).decode([sealed!])).rejects.toThrow(/does not authenticate/);
  });

  test('payloads that are not encrypted pass through untouched', async () => {
    const plain = json('"legacy"');
    expect(await new EncryptionCodec([old]).decode([plain])).toEqual([plain]);
  });
});

describe('keys file', () => {
  const good = () => ({
    codecKeys: [{ id: 'k1', key: randomBytes(32).toString('base64') }],
    decisionKeys: [{ id: 'd1', key: randomBytes(32).toString('base64') }],
  });
  const secret = randomBytes(16).toString('base64');
  const cases: [string, unknown, string][] = [
    ['not JSON', '{', 'not valid JSON'],
    ['no codec keys', { ...good(), codecKeys: undefined }, 'codecKeys: is required: a list of { id, key }'],
    ['an empty list', { ...good(), codecKeys: [] }, 'codecKeys: must hold at least one key'],
    ['a short codec key', { ...good(), codecKeys: [{ id: 'k1', key: secret }] }, 'codecKeys.0.key: must be 32 bytes'],
    [
      'a short decision key',
      { ...good(), decisionKeys: [{ id: 'd1', key: secret }] },
      'decisionKeys.0.key: must be at least 32 bytes',
    ],
    ['a bad id', { ...good(), codecKeys: [{ id: 'a b', key: good().codecKeys[0]!.key }] }, 'codecKeys.0.id: must be'],
    [
      'a duplicate id',
      { ...good(), codecKeys: [good().codecKeys[0], { ...good().codecKeys[0], key: good().codecKeys[0]!.key }] },
      'codecKeys: key ids must be unique',
    ],
    ['an unknown field', { ...good(), hmacKey: 'x' }, 'hmacKey: unknown field'],
  ];
  test.each(cases)('%s is refused naming the field, and no key is printed', (_name, file, message) => {
    const text = typeof file === 'string' ? file : JSON.stringify(file);
    let err: Error | null = null;
    try {
      parseKeys('keys.json', text);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toContain('keys.json');
    expect(err?.message).toContain(message);
    expect(err?.message).not.toContain(secret);
  });

  test('no file configured, or one that cannot be read, stops the process naming SHIPSHAPE_KEYS_FILE', () => {
    expect(() => loadKeys(undefined)).toThrow(/^SHIPSHAPE_KEYS_FILE: is required/);
    expect(() => loadKeys('/nonexistent/keys.json')).toThrow('SHIPSHAPE_KEYS_FILE: cannot read /nonexistent/keys.json');
  });

  test('a new file is owner-only; rotating appends a newest key and keeps the old ones', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys.json');
    writeNewKeysFile(file, 'first');
    expect(() => writeNewKeysFile(file, 'again')).toThrow(/EEXIST/); // never overwrites keys
    rotateKeysFile(file, 'second');
    const keys = loadKeys(file);
    expect(keys.codecKeys.map((k) => k.id)).toEqual(['first', 'second']);
    expect(keys.decisionKeys.map((k) => k.id)).toEqual(['first', 'second']);
    expect(JSON.parse(readFileSync(file, 'utf8')).codecKeys[0].key).toBe(keys.codecKeys[0]!.key.toString('base64'));
    expect(() => rotateKeysFile(file, 'second')).toThrow(/already has "second"/);
  });
});

describe('decision signatures', () => {
  const claim: DecisionClaim = {
    workflowId: 'remediation/cmp-1',
    remediationId: 'r1',
    decision: 'approve',
    by: 'bob',
    role: 'approver',
    comment: 'ok',
    fixedBy: null,
    answers: '2026-11-28T10:00:00.000Z',
    issuedAt: '2026-11-28T10:01:00.000Z',
  };
  const oldKey = key('d-old');
  const newKey = key('d-new');

  test('signed with the newest key; verified by any key in the file; any changed field breaks it', () => {
    const signature = signDecision([oldKey, newKey], claim);
    expect(signature.startsWith('d-new.')).toBe(true);
    expect(decisionSignatureValid([oldKey, newKey], claim, signature)).toBe(true);
    expect(decisionSignatureValid([oldKey], claim, signature)).toBe(false);
    expect(decisionSignatureValid([oldKey, newKey], claim, signDecision([oldKey], claim))).toBe(true);
    for (const change of [
      { workflowId: 'remediation/cmp-2' },
      { remediationId: 'r2' },
      { decision: 'reject' as const },
      { by: 'alice' },
      { role: 'admin' as const },
      { comment: 'ok!' },
      { answers: '2026-11-28T10:05:00.000Z' },
      { issuedAt: '2026-11-28T10:02:00.000Z' },
    ])
      expect(decisionSignatureValid([newKey], { ...claim, ...change }, signature)).toBe(false);
    expect(decisionSignatureValid([newKey], claim, undefined)).toBe(false);
    expect(decisionSignatureValid([newKey], claim, 'garbage')).toBe(false);
  });

  const now = Date.parse('2026-11-28T10:02:00.000Z');
  const rules: [string, Partial<DecisionClaim>, string[] | null, string | null][] = [
    ['an approver approves', {}, null, null],
    ['no role', { role: null }, null, "approve needs the caller's role; bob sent none"],
    ['an operator approves', { role: 'operator' }, null, 'approve needs role approver or higher; bob is operator'],
    [
      'a viewer hands back',
      { decision: 'hand-back', role: 'viewer' },
      null,
      'hand-back needs role operator or higher; bob is viewer',
    ],
    ['an operator hands back', { decision: 'hand-back', role: 'operator' }, null, null],
    ['an approver not among the policy approvers', {}, ['admin'], 'policy p lets only admin approve; bob is approver'],
    ['signed 6 minutes ago', { issuedAt: '2026-11-28T09:56:00.000Z' }, null, 'more than 5 minutes ago'],
    ['no signing time', { issuedAt: '' }, null, 'approve: the decision carries no valid signing time'],
  ];
  test.each(rules)('%s', (_name, change, approverRoles, refusal) => {
    const answer = decisionRefusal(
      { ...claim, ...change },
      { policyName: 'p', approverRoles: approverRoles as never, nowMs: now },
    );
    if (refusal === null) expect(answer).toBeNull();
    else expect(answer).toContain(refusal);
  });
});

describe('the severity an approval rule is evaluated on', () => {
  const host = (over: Partial<HostState>): HostState => ({
    host: 'cmp-1',
    power: 'on',
    health: 'ok',
    healthReasons: [],
    compute: { enabled: true, up: true, disabledReason: null },
    serverCount: 3,
    ...over,
  });
  const bmc = (health: HostState['health']) => ({ bmc: { status: 'read' as const, health, reasons: [] } });
  const cases: [string, Severity, Partial<HostState>, Severity][] = [
    ['a "warning" claim for a host whose health is critical', 'warning', { health: 'critical' }, 'critical'],
    ['an "info" claim for a powered-off host', 'info', { power: 'off' }, 'critical'],
    [
      'an "info" claim for a host whose compute service is down',
      'info',
      { compute: { enabled: true, up: false, disabledReason: null } },
      'critical',
    ],
    ['an "info" claim for a host whose BMC reads critical', 'info', bmc('critical'), 'critical'],
    ['an "info" claim for a host whose BMC reads warning', 'info', bmc('warning'), 'warning'],
    [
      'a "critical" claim for a host the audit finds only warning: the claim raises it',
      'critical',
      { health: 'warning' },
      'critical',
    ],
    ['a "warning" claim for a healthy-reading host: the claim stands', 'warning', {}, 'warning'],
    ['an unknown health does not count', 'info', { health: 'unknown' }, 'info'],
  ];
  test.each(cases)('%s', (_name, claimed, state, expected) => {
    expect(approvalSeverity(claimed, host(state))).toBe(expected);
  });
});
