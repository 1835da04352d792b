/** Reading the files a command is given (policy files), and naming them in the API's answers. */
import { readFileSync } from 'node:fs';
import { ApiError, UsageError } from '../errors';

export function readLocalFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

interface PolicyIssue {
  file: string;
  line: number;
  column: number;
  field: string;
  message: string;
}

/**
 * The API names a policy it was sent `draft.yaml` (or `drafts.N.yaml`); say
 * the file the person gave instead, so each problem reads `file:line:column`.
 */
export function namingLocalFiles(err: unknown, fileOf: (apiFile: string) => string | undefined): unknown {
  if (!(err instanceof ApiError) || err.code !== 'invalid_policy') return err;
  const issues = (err.details.issues as PolicyIssue[] | undefined) ?? [];
  const renamed = issues.map((i) => ({ ...i, file: fileOf(i.file) ?? i.file }));
  const files = [...new Set(renamed.map((i) => i.file))].join(', ') || 'the policy';
  return new ApiError(err.status, err.code, `${files}: not a valid policy`, { ...err.details, issues: renamed });
}
