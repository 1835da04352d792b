/** BMC failures: what went wrong reading or acting on a BMC, by kind. */
import type { BmcFailure } from '../../domain/telemetry';
import { sendRequest as send, TransportError, type HttpResponse, type TlsOptions } from '../net/http';

export type { HttpResponse, TlsOptions };

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

/** A request to a BMC; a transport failure is the BMC being unreachable. */
export async function sendRequest(url: URL, opts: Parameters<typeof send>[1]): Promise<HttpResponse> {
  try {
    return await send(url, opts);
  } catch (err) {
    if (err instanceof TransportError) throw new BmcError('unreachable', err.message);
    throw err;
  }
}
