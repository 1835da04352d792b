import type { z } from 'zod';
import { validationError } from './errors';

/** Parse `data` with `schema` or throw a 400 naming each bad field. */
export function parse<S extends z.ZodType>(schema: S, data: unknown, where: 'body' | 'query' | 'params'): z.output<S> {
  const result = schema.safeParse(data);
  if (!result.success) throw validationError(where, result.error);
  return result.data;
}
