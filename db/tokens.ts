/**
 * API tokens, by the SHA-256 of their secret (the secret itself is never
 * stored). Issued through api/auth.ts createToken (the token script, the API's
 * dev token at start-up, the demo, the benchmarks and the tests) and revoked by
 * the token script; the API reads them on every request. Issuing and revoking
 * are on the audit log, in the same transaction as the change.
 */
import type { ApiRole } from '../domain/types';
import { appendAudit } from './audit-log';
import { inTransaction, type Db } from './pool';

export interface TokenHolder {
  subject: string;
  role: ApiRole;
}

/** Who issues or revokes a token: a person at the token script, or Shipshape itself (the demo's token, tests). */
export interface TokenActor {
  kind: 'person' | 'system';
  name: string;
}

/** What happened to a token's hash when it was issued. */
export type IssueResult = 'issued' | 'already-issued' | 'revoked' | 'held-by-another';

/**
 * Store a token's hash for `holder`, on behalf of `by`. A hash is issued once
 * and never brought back: the same secret again is a no-op for the same holder
 * (`already-issued`), and is refused once it was revoked (`revoked`) or when
 * another subject or role holds it (`held-by-another`). Nothing is written then.
 */
export async function storeTokenHash(
  db: Db,
  holder: TokenHolder,
  tokenHash: string,
  by: TokenActor,
): Promise<IssueResult> {
  return inTransaction(db, async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO api_tokens (subject, role, token_hash) VALUES ($1, $2, $3)
       ON CONFLICT (token_hash) DO NOTHING RETURNING id`,
      [holder.subject, holder.role, tokenHash],
    );
    if (rows.length === 0) {
      const existing = await tx.query<TokenHolder & { revoked: boolean }>(
        'SELECT subject, role, revoked_at IS NOT NULL AS revoked FROM api_tokens WHERE token_hash = $1',
        [tokenHash],
      );
      const row = existing.rows[0]!;
      if (row.revoked) return 'revoked';
      return row.subject === holder.subject && row.role === holder.role ? 'already-issued' : 'held-by-another';
    }
    await appendAudit(tx, {
      actorKind: by.kind,
      actor: by.name,
      policyVersion: null,
      action: 'token-issued',
      reason: `${holder.role} token for ${holder.subject}`,
      after: { subject: holder.subject, role: holder.role, tokenId: Number(rows[0]!.id) },
    });
    return 'issued';
  });
}

/** Who holds the token with this hash, or null when it is unknown or revoked. */
export async function holderOfToken(db: Db, tokenHash: string): Promise<TokenHolder | null> {
  const { rows } = await db.query<TokenHolder>(
    'SELECT subject, role FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL',
    [tokenHash],
  );
  return rows[0] ?? null;
}

/** Revoke every token of `subject`, on behalf of `by`; returns how many were still valid. */
export async function revokeTokensOf(db: Db, subject: string, by: TokenActor): Promise<number> {
  return inTransaction(db, async (tx) => {
    const { rows } = await tx.query<{ id: string; role: ApiRole }>(
      'UPDATE api_tokens SET revoked_at = now() WHERE subject = $1 AND revoked_at IS NULL RETURNING id, role',
      [subject],
    );
    if (rows.length > 0) {
      await appendAudit(tx, {
        actorKind: by.kind,
        actor: by.name,
        policyVersion: null,
        action: 'token-revoked',
        reason: `${rows.length} token(s) of ${subject}`,
        before: { subject, tokens: rows.map((r) => ({ tokenId: Number(r.id), role: r.role })) },
      });
    }
    return rows.length;
  });
}
