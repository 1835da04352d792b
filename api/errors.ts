/**
 * Typed application errors that map to HTTP statuses. Every error leaves the
 * API as `{ error: { code, message, details } }`; nothing unexpected leaks.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z, ZodError } from 'zod';
import { escapeUnstorable } from '../domain/text';
import type { Logger } from '../config/logger';
import { isDatabaseUnavailable } from '../db/pool';

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new AppError(400, 'bad_request', message, details);
export const notFound = (message: string, details?: Record<string, unknown>) =>
  new AppError(404, 'not_found', message, details);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new AppError(409, 'conflict', message, details);
export const forbidden = (message: string) => new AppError(403, 'forbidden', message);
export const unprocessable = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(422, code, message, details);

/** How long a client should wait before retrying while PostgreSQL is away (a restart takes seconds). */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * PostgreSQL is restarting or unreachable. Each write is one transaction, so none is half-done: a
 * signal recorded before the failure is delivered by the redispatcher, and sending the same request
 * again after `Retry-After` is safe.
 */
export const databaseUnavailable = () =>
  new AppError(503, 'database_unavailable', 'the database is unavailable; retry after Retry-After seconds', {
    retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
  });

function reasonOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s): ${issue.keys.join(', ')}`;
  // A bad key of a record (a label name): say what is wrong with the key, not only that it is bad.
  if (issue.code === 'invalid_key') return `key ${issue.issues.map((i) => i.message).join('; ')}`;
  return issue.message;
}

/** A 400 naming every field that failed and why. */
export function validationError(where: 'body' | 'query' | 'params', error: ZodError): AppError {
  const fields = error.issues.map((i) => ({
    field: escapeUnstorable([where, ...i.path.map(String)].join('.')),
    reason: reasonOf(i),
  }));
  const first = fields[0];
  return new AppError(400, 'validation_failed', first ? `${first.field}: ${first.reason}` : `invalid ${where}`, {
    fields,
  });
}

export const notFoundRoute: RequestHandler = (req, _res, next) => {
  next(notFound(`no route ${req.method} ${req.path}`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (isDatabaseUnavailable(err)) {
      const e = err as { code?: string; message?: string };
      logger.warn({ code: e.code, err: e.message, path: req.path }, 'database unavailable: answered 503');
      res.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      err = databaseUnavailable();
    }
    if (err instanceof AppError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, details: err.details } });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string; limit?: number };
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({
        error: {
          code: 'invalid_json',
          message: `body: not valid JSON (${e.message ?? 'parse error'})`,
          details: { field: 'body' },
        },
      });
      return;
    }
    if (e.type === 'entity.too.large') {
      const limit = `${Math.round((e.limit ?? 0) / 1024 / 1024)} MiB`;
      res.status(413).json({
        error: {
          code: 'too_large',
          message: `body: larger than the ${limit} limit`,
          details: { field: 'body', limitBytes: e.limit },
        },
      });
      return;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: { code: 'bad_request', message: e.message ?? 'bad request', details: {} } });
      return;
    }
    logger.error({ err, path: req.path }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error; see the server log', details: {} } });
  };
}
