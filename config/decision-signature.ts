/**
 * HMAC-SHA256 signatures over people's decisions (domain/decisions.ts). The
 * API signs with the newest decision key; the worker verifies with any key
 * in the keys file. Keys never leave these two processes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalDecision, canonicalStart, type DecisionClaim } from '../domain/decisions';
import { newest, type NamedKey } from './keys';

function mac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

/** `<key id>.<base64url HMAC>` with the newest key. */
function sign(keys: NamedKey[], text: string): string {
  const key = newest(keys);
  return `${key.id}.${mac(key.key, text).toString('base64url')}`;
}

/** Whether `signature` was made by one of `keys` over exactly `text`. */
function signatureValid(keys: NamedKey[], text: string, signature: string | undefined): boolean {
  if (!signature) return false;
  const dot = signature.lastIndexOf('.');
  if (dot <= 0) return false;
  const key = keys.find((k) => k.id === signature.slice(0, dot));
  if (!key) return false;
  const given = Buffer.from(signature.slice(dot + 1), 'base64url');
  const expected = mac(key.key, text);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function signDecision(keys: NamedKey[], claim: DecisionClaim): string {
  return sign(keys, canonicalDecision(claim));
}

export function decisionSignatureValid(keys: NamedKey[], claim: DecisionClaim, signature: string | undefined): boolean {
  return signatureValid(keys, canonicalDecision(claim), signature);
}

/** The API's signature over a remediation it starts: its workflow ID and its whole input. */
export function signStart(keys: NamedKey[], workflowId: string, input: object): string {
  return sign(keys, canonicalStart(workflowId, input));
}

export function startSignatureValid(
  keys: NamedKey[],
  workflowId: string,
  input: object,
  signature: string | undefined,
): boolean {
  return signatureValid(keys, canonicalStart(workflowId, input), signature);
}
