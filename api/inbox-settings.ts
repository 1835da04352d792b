/** The inbox's settings from the process configuration (config/index.ts, SHIPSHAPE_INBOX_*). */
import type { Config } from '../config';
import { DEFAULT_FLAP_SETTINGS } from '../domain/flapping';
import type { InboxSettings } from './inbox-engine';

export function inboxSettings(config: Config): Partial<InboxSettings> {
  return {
    tickMs: config.SHIPSHAPE_INBOX_TICK_MS,
    timings: {
      graceMinutes: config.SHIPSHAPE_INBOX_GRACE_MINUTES,
      guardWaitMinutes: config.SHIPSHAPE_INBOX_GUARD_WAIT_MINUTES,
    },
    grouping: {
      topologyLabels: config.SHIPSHAPE_INBOX_TOPOLOGY_LABELS,
      windowMinutes: config.SHIPSHAPE_INBOX_GROUP_WINDOW_MINUTES,
    },
    flap: { ...DEFAULT_FLAP_SETTINGS, quietMinutes: config.SHIPSHAPE_INBOX_FLAP_QUIET_MINUTES },
  };
}
