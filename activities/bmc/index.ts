/**
 * One way to reach any host's BMC: `sim://<host>` is the simulated fleet's,
 * `http(s)://` is Redfish. Credentials are resolved here, in the worker,
 * from the reference the inventory carries.
 */
import type { Pool } from 'pg';
import type { BmcEndpoint } from '../../domain/types';
import type { BmcOutcome, BmcReading } from '../../domain/telemetry';
import type { BmcCredentials } from './credentials';
import { BmcError } from './http';
import { RedfishClient, type ResetType } from './redfish';
import { SimulatedBmc } from './simulated';

export interface BmcClient {
  read(): Promise<BmcReading>;
  readPowerState(): Promise<'on' | 'off' | 'unknown'>;
  reset(type: ResetType): Promise<void>;
  /** A power cycle the way this BMC can do it; returns the reset type used. */
  powerCycle(): Promise<ResetType>;
}

export type BmcConnector = (host: string, endpoint: BmcEndpoint) => BmcClient;

export function createBmcConnector(deps: {
  db: Pool;
  credentials: BmcCredentials;
  simulatedPower: { requestPowerCycle(host: string): Promise<void>; requestReboot(host: string): Promise<void> };
}): BmcConnector {
  return (host, endpoint) => {
    if (endpoint.address.startsWith('sim://')) return new SimulatedBmc(deps.db, endpoint.address.slice('sim://'.length), deps.simulatedPower);
    if (!/^https?:\/\//.test(endpoint.address)) throw new BmcError('garbage', `${host}: BMC address "${endpoint.address}" is neither http(s):// nor sim://`);
    const access = deps.credentials.resolve(endpoint.credentialsRef);
    return new RedfishClient({ address: endpoint.address, systemId: endpoint.systemId, ...access });
  };
}

/**
 * Read a BMC within a total deadline; every failure becomes a state of the
 * host (`failed`, with the kind and a message naming the resource), never a
 * thrown error: one bad BMC must not stop a sweep.
 */
export async function readBmc(connect: BmcConnector, host: string, endpoint: BmcEndpoint | null, deadlineMs: number): Promise<BmcOutcome> {
  if (!endpoint) return { status: 'not-configured' };
  let timer: NodeJS.Timeout | undefined;
  try {
    const client = connect(host, endpoint);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BmcError('unreachable', `reading took longer than ${deadlineMs / 1000}s`)), deadlineMs);
    });
    return { status: 'read', reading: await Promise.race([client.read(), deadline]) };
  } catch (err) {
    if (err instanceof BmcError) return { status: 'failed', kind: err.kind, error: err.message };
    return { status: 'failed', kind: 'garbage', error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
