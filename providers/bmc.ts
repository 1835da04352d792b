/**
 * What Shipshape asks of any host's BMC, whoever made it: a reading, the
 * power state, a reset. Redfish BMCs (`http(s)://`, providers/redfish/) and
 * the simulated fleet's (`sim://<host>`, providers/simulated/) implement it;
 * the composition root picks one by the endpoint's address.
 */
import type { RedfishField, RedfishSettings } from '../domain/compliance-platform';
import type { BmcEndpoint } from '../domain/types';
import type { BmcFailure, BmcOutcome, BmcReading } from '../domain/telemetry';
import type { ResetType } from './redfish/client';

/** Why a BMC could not be read or acted on. The message names the BMC and the resource; never a secret. */
export class BmcError extends Error {
  constructor(
    readonly kind: BmcFailure,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'BmcError';
  }
}

export interface BmcClient {
  read(): Promise<BmcReading>;
  /** What compliance rules need (model, firmware, BIOS attributes, secure boot, PSU redundancy), only `fields`. */
  readSettings(fields: readonly RedfishField[]): Promise<RedfishSettings>;
  readPowerState(): Promise<'on' | 'off' | 'unknown'>;
  reset(type: ResetType): Promise<void>;
  /** A power cycle the way this BMC can do it; returns the reset type used. */
  powerCycle(): Promise<ResetType>;
}

export type BmcConnector = (host: string, endpoint: BmcEndpoint) => BmcClient;

/**
 * Read a BMC within a total deadline; every failure becomes a state of the
 * host (`failed`, with the kind and a message naming the resource), never a
 * thrown error: one bad BMC must not stop a sweep.
 */
export async function readBmc(
  connect: BmcConnector,
  host: string,
  endpoint: BmcEndpoint | null,
  deadlineMs: number,
): Promise<BmcOutcome> {
  if (!endpoint) return { status: 'not-configured' };
  let timer: NodeJS.Timeout | undefined;
  try {
    const client = connect(host, endpoint);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new BmcError('unreachable', `reading took longer than ${deadlineMs / 1000}s`)),
        deadlineMs,
      );
    });
    return { status: 'read', reading: await Promise.race([client.read(), deadline]) };
  } catch (err) {
    if (err instanceof BmcError) return { status: 'failed', kind: err.kind, error: err.message };
    return { status: 'failed', kind: 'garbage', error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
