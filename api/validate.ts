import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { escapeUnstorable, unstorableText } from '../domain/text';
import { AppError, validationError } from './errors';

/** Parse `data` with `schema` or throw a 400 naming each bad field. */
export function parse<S extends z.ZodType>(schema: S, data: unknown, where: 'body' | 'query' | 'params'): z.output<S> {
  const result = schema.safeParse(data);
  if (!result.success) throw validationError(where, result.error);
  return result.data;
}

/**
 * Ids and names in the path (`/v1/remediations/{id}`) reach SQL like any other
 * text; refuse what PostgreSQL cannot store before any route reads them.
 */
export const refuseUnstorablePath: RequestHandler = (req, _res, next) => {
  for (const segment of req.path.split('/')) {
    let text: string;
    try {
      text = decodeURIComponent(segment);
    } catch {
      continue; // a malformed escape: the router answers 400 for it
    }
    const problem = unstorableText(text);
    if (problem) {
      const reason = `"${escapeUnstorable(text)}" ${problem}`;
      return next(new AppError(400, 'validation_failed', `path: ${reason}`, { fields: [{ field: 'path', reason }] }));
    }
  }
  next();
};
