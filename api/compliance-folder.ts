/**
 * The compliance profiles as the API reads them. The API and the worker take
 * the same settings (SHIPSHAPE_COMPLIANCE_DIR, else compliance/ in
 * SHIPSHAPE_POLICY_DIR), so in one deployment they read the same folder. An
 * API that cannot read it (on another machine without the files) says so and
 * leaves the check of a scan's profiles to the scan, which fails at once on
 * a bad folder.
 */
import type { ComplianceProfile } from '../domain/compliance';
import { ComplianceProfileError, loadProfiles } from '../policies/compliance-loader';
import { AppError } from './errors';

export type FolderReading =
  | { profiles: ComplianceProfile[] }
  /** The folder is not there for the API (or none is configured): why. */
  | { unreadable: string }
  | { invalid: ComplianceProfileError };

export function readComplianceFolder(dir: string | undefined): FolderReading {
  if (dir === undefined) return { unreadable: 'this API has no compliance profiles folder configured' };
  try {
    return { profiles: loadProfiles(dir) };
  } catch (err) {
    if (err instanceof ComplianceProfileError) return { invalid: err };
    return { unreadable: `the compliance profiles folder ${dir} cannot be read: ${(err as Error).message}` };
  }
}

/** The folder's problems, each with its file, line and column, as an API error with the given status. */
export function profilesDoNotLoad(status: 400 | 503, dir: string, err: ComplianceProfileError): AppError {
  const first = err.issues[0]!;
  return new AppError(
    status,
    'profiles_do_not_load',
    `the compliance profiles in ${dir} do not load: ${first.file}:${first.line}:${first.column}: ${first.field}: ${first.message}` +
      (err.issues.length > 1 ? ` (and ${err.issues.length - 1} more)` : ''),
    { dir, issues: err.issues },
  );
}
