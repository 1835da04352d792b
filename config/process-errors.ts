/**
 * The last line of defence of a process entry point (api/main.ts, workers/main.ts).
 *
 * An unhandled promise rejection or an uncaught exception means some code path
 * nobody reasoned about has failed: the process is in an unknown state, and
 * going on could act on the fleet from that state. So it is logged (with the
 * stack, through the process's own logger), the process stops the way it does
 * on SIGTERM — within a deadline — and exits with status 1 for its supervisor
 * (compose, systemd, Kubernetes) to restart it. Nothing is lost by stopping:
 * accepted signals are already in PostgreSQL, and Temporal retries the
 * activities that were in flight on another (or the restarted) worker.
 */
import type { Logger } from './logger';

/** How long a graceful stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 30_000;

/**
 * Install the handlers as early as the logger exists; say how to stop once
 * there is something to stop (before that, the process just exits with 1).
 */
export function stopOnUnexpectedError(
  logger: Logger,
  deadlineMs = STOP_DEADLINE_MS,
): { stopWith(stop: () => Promise<void>): void } {
  let stop: () => Promise<void> = async () => undefined;
  let stopping = false;
  const fail = (what: string) => (err: unknown) => {
    logger.fatal({ err }, `${what}: stopping the process`);
    process.exitCode = 1;
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      logger.error(`did not stop within ${deadlineMs / 1000}s: exiting`);
      process.exit(1);
    }, deadlineMs);
    stop()
      .catch((stopErr: unknown) => logger.error({ err: stopErr }, 'stopping after an unexpected error failed'))
      .finally(() => process.exit(1));
  };
  process.on('unhandledRejection', fail('unhandled promise rejection'));
  process.on('uncaughtException', fail('uncaught exception'));
  return {
    stopWith(s) {
      stop = s;
    },
  };
}
