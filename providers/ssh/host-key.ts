/**
 * Host keys as OpenSSH shows them, and the pin a connection enforces.
 *
 * A fingerprint is `SHA256:` and the unpadded base64 of the SHA-256 of the
 * key's wire blob: exactly what `ssh-keygen -lf key.pub` prints, so an
 * operator can compare it with the host's console.
 */
import { createHash } from 'node:crypto';

export const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Key types a pin may name (what `ssh-keygen -A` makes, and ECDSA's other curves). */
export const HOST_KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
] as const;
export type HostKeyType = (typeof HOST_KEY_TYPES)[number];

export interface HostKey {
  fingerprint: string;
  keyType: string;
}

/**
 * What a connection does about the host's key: check it against `expected`,
 * or, when none is recorded yet, call `onFirstContact` with what it saw
 * (trust on first use). The callback returns the key now pinned, which may be
 * another scan's if it recorded first: the connection goes on only when that
 * is the key it saw. Without either, the connection is refused.
 */
export interface HostKeyPin {
  expected: HostKey | null;
  onFirstContact?: (seen: HostKey) => Promise<HostKey> | HostKey;
}

export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key's type, the first string of its wire blob (`ssh-ed25519`, `ssh-rsa`, ...). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  if (len === 0 || len > 64 || keyBlob.length < 4 + len) return 'unknown';
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/**
 * The host key algorithms to offer for a pinned key: only its own type, so
 * that a host with several keys shows the pinned one (RSA keys sign with
 * SHA-2 first).
 */
export function hostKeyAlgorithmsFor(keyType: string): string[] | undefined {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  if ((HOST_KEY_TYPES as readonly string[]).includes(keyType)) return [keyType];
  return undefined;
}
