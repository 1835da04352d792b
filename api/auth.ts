/**
 * Bearer tokens with roles. Tokens are random secrets shown once; only their
 * SHA-256 is stored, so a database dump reveals no usable token.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import { holderOfToken, storeTokenHash } from '../db/tokens';
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

/** Store a token for `subject` with `role`; returns the secret (the only time it exists in clear). */
export async function createToken(db: Pool, subject: string, role: ApiRole, token = generateToken()): Promise<string> {
  const checked = tokenSubject.safeParse(subject);
  if (!checked.success) throw new Error(`subject: ${checked.error.issues.map((i) => i.message).join('; ')}`);
  await storeTokenHash(db, { subject, role }, hashToken(token));
  return token;
}

const CACHE_MS = 10_000;

export function authenticate(db: Pool): RequestHandler {
  // Signal storms authenticate thousands of requests a second; a short cache spares the database.
  const cache = new Map<string, { caller: Caller | null; until: number }>();
  return async (req, _res, next) => {
    const header = req.headers.authorization;
    if (!header)
      return next(
        new AppError(401, 'unauthenticated', 'missing Authorization header: send "Authorization: Bearer <token>"'),
      );
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) return next(new AppError(401, 'unauthenticated', 'Authorization header must be "Bearer <token>"'));
    const hash = hashToken(match[1]);
    let entry = cache.get(hash);
    if (!entry || entry.until < Date.now()) {
      entry = { caller: await holderOfToken(db, hash), until: Date.now() + CACHE_MS };
      if (cache.size > 10_000) cache.clear();
      cache.set(hash, entry);
    }
    if (!entry.caller) return next(new AppError(401, 'unauthenticated', 'token is not valid or has been revoked'));
    req.caller = entry.caller;
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
