/**
 * API tokens, by the SHA-256 of their secret (the secret itself is never
 * stored). Issued through api/auth.ts createToken (the token script, the API's
 * dev token at start-up, the demo, the benchmarks and the tests) and revoked by
 * the token script; the API reads them on every request.
 */
import type { ApiRole } from '../domain/types';
import type { Queryable } from './pool';

export interface TokenHolder {
  subject: string;
  role: ApiRole;
}

/** Store a token's hash for `subject` with `role`; the same hash again re-issues it (new subject or role, no longer revoked). */
export async function storeTokenHash(db: Queryable, holder: TokenHolder, tokenHash: string): Promise<void> {
  await db.query(
    `INSERT INTO api_tokens (subject, role, token_hash) VALUES ($1, $2, $3)
     ON CONFLICT (token_hash) DO UPDATE SET subject = EXCLUDED.subject, role = EXCLUDED.role, revoked_at = NULL`,
    [holder.subject, holder.role, tokenHash],
  );
}

/** Who holds the token with this hash, or null when it is unknown or revoked. */
export async function holderOfToken(db: Queryable, tokenHash: string): Promise<TokenHolder | null> {
  const { rows } = await db.query<TokenHolder>(
    'SELECT subject, role FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL',
    [tokenHash],
  );
  return rows[0] ?? null;
}

/** Revoke every token of `subject`; returns how many were still valid. */
export async function revokeTokensOf(db: Queryable, subject: string): Promise<number> {
  const { rowCount } = await db.query(
    'UPDATE api_tokens SET revoked_at = now() WHERE subject = $1 AND revoked_at IS NULL',
    [subject],
  );
  return rowCount ?? 0;
}
