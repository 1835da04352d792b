/**
 * HMAC-SHA256 signatures over people's decisions (domain/decisions.ts). The
 * API signs with the newest decision key; the worker verifies with any key
 * in the keys file. Keys never leave these two processes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalDecision, type DecisionClaim } from '../domain/decisions';
import { newest, type NamedKey } from './keys';

function mac(key: Buffer, claim: DecisionClaim): Buffer {
  return createHmac('sha256', key).update(canonicalDecision(claim), 'utf8').digest();
}

/** `<key id>.<base64url HMAC>` */
export function signDecision(keys: NamedKey[], claim: DecisionClaim): string {
  const key = newest(keys);
  return `${key.id}.${mac(key.key, claim).toString('base64url')}`;
}

/** Whether `signature` was made by one of `keys` over exactly this claim. */
export function decisionSignatureValid(keys: NamedKey[], claim: DecisionClaim, signature: string | undefined): boolean {
  if (!signature) return false;
  const dot = signature.lastIndexOf('.');
  if (dot <= 0) return false;
  const key = keys.find((k) => k.id === signature.slice(0, dot));
  if (!key) return false;
  const given = Buffer.from(signature.slice(dot + 1), 'base64url');
  const expected = mac(key.key, claim);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
