/**
 * Bearer tokens with roles. Tokens are random secrets shown once; only their
 * SHA-256 is stored, so a database dump reveals no usable token.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import { holderOfToken, storeTokenHash, type IssueResult, type TokenActor } from '../db/tokens';
import { storableText } from '../domain/text';
import { roleAtLeast, type ApiRole } from '../domain/types';
import { AppError } from './errors';

export interface Caller {
  subject: string;
  role: ApiRole;
}

declare module 'express-serve-static-core' {
  interface Request {
    caller?: Caller;
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return `shp_${randomBytes(24).toString('base64url')}`;
}

const tokenSubject = storableText().min(1, 'must not be empty');

/**
 * The subject of the demo's token (SHIPSHAPE_DEV_TOKEN). It is reserved: no
 * other token is issued to it, and the API refuses it unless it runs the demo.
 */
export const DEV_TOKEN_SUBJECT = 'dev';

export interface CreateTokenOptions {
  /** The secret to store (the demo's fixed token); a new random one by default. */
  token?: string;
  /** Who issues it, for the audit log; Shipshape itself by default. */
  by?: TokenActor;
}

const ISSUE_REFUSED: Record<Exclude<IssueResult, 'issued' | 'already-issued'>, string> = {
  revoked: 'this token was revoked, and a revoked token is never issued again: choose another secret',
  'held-by-another': 'this secret is already issued to another subject or role: choose another secret',
};

/** Store a token for `subject` with `role`; returns the secret (the only time it exists in clear). */
export async function createToken(
  db: Pool,
  subject: string,
  role: ApiRole,
  options: CreateTokenOptions = {},
): Promise<string> {
  const checked = tokenSubject.safeParse(subject);
  if (!checked.success) throw new Error(`subject: ${checked.error.issues.map((i) => i.message).join('; ')}`);
  const token = options.token ?? generateToken();
  const by = options.by ?? { kind: 'system', name: 'shipshape' };
  const result = await storeTokenHash(db, { subject, role }, hashToken(token), by);
  if (result === 'revoked' || result === 'held-by-another') throw new Error(`token: ${ISSUE_REFUSED[result]}`);
  return token;
}

/**
 * Every request reads its token's holder from PostgreSQL (one lookup by a
 * unique index), so a revoked token is refused from the moment the revocation
 * commits, in every API replica. The demo's token is refused unless this
 * process runs the demo (`demo`), even though its row exists.
 */
export function authenticate(db: Pool, options: { demo?: boolean } = {}): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization;
    if (!header)
      return next(
        new AppError(401, 'unauthenticated', 'missing Authorization header: send "Authorization: Bearer <token>"'),
      );
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) return next(new AppError(401, 'unauthenticated', 'Authorization header must be "Bearer <token>"'));
    const caller = await holderOfToken(db, hashToken(match[1]));
    if (!caller || (caller.subject === DEV_TOKEN_SUBJECT && !options.demo))
      return next(new AppError(401, 'unauthenticated', 'token is not valid or has been revoked'));
    req.caller = caller;
    next();
  };
}
export function requireRole(role: ApiRole): RequestHandler {
  return (req, _res, next) => {
    const caller = req.caller;
    if (!caller) return next(new AppError(401, 'unauthenticated', 'not authenticated'));
    if (!roleAtLeast(caller.role, role)) {
      return next(
        new AppError(403, 'forbidden', `${caller.subject} has role ${caller.role}; this needs ${role} or higher`),
      );
    }
    next();
  };
}
