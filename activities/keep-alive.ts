/**
 * Heartbeat while a provider call runs. An activity with a heartbeat timeout
 * (10 s for steps and tracked actions) is declared dead when it goes that long
 * without one, and a provider call can block far longer: the OpenStack power
 * cycle waits up to 120 s for "power off". Without this the retry would start
 * while the first attempt's call is still running.
 *
 * Every beat repeats the activity's current details, so a marker such as
 * `{ issued: true }` is never replaced by a beat that forgot it.
 */
import { Context } from '@temporalio/activity';

/** Well inside the shortest heartbeat timeout (10 s); the SDK throttles what it sends on anyway. */
export const KEEP_ALIVE_MS = 2_000;

export class KeepAlive<D> {
  private readonly ctx = Context.current();

  constructor(private details: D) {}

  /** Change the details (e.g. once the action is issued) and beat at once. */
  set(details: D): void {
    this.details = details;
    this.ctx.heartbeat(details);
  }

  /** Beat with the current details. */
  beat(): void {
    this.ctx.heartbeat(this.details);
  }

  /** Run `call`, beating every few seconds until it settles. */
  async around<T>(call: () => Promise<T>, everyMs = KEEP_ALIVE_MS): Promise<T> {
    this.beat();
    const timer = setInterval(() => this.beat(), everyMs);
    try {
      return await call();
    } finally {
      clearInterval(timer);
    }
  }
}
