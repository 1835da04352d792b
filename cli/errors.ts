/**
 * How the command-line tool fails, and the exit code each failure gives:
 * 0 done, 1 the API refused or could not be reached (or `audit verify` found
 * the chain broken), 2 the command was used wrongly (a missing argument, an
 * unknown option, no URL or token configured, a file that cannot be read).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The command line or the configuration is wrong: nothing was sent to the API. */
export class UsageError extends Error {}

/** The API answered with an error body `{ error: { code, message, details } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The API could not be reached, or answered something that is not Shipshape's JSON. */
export class TransportError extends Error {}

/** The command ran and printed its answer, but must exit with this code (a broken audit chain). */
export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
