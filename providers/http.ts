/**
 * A small JSON-over-HTTP(S) client for the APIs Shipshape drives (BMCs,
 * OpenStack): a deadline on every request, a CA bundle or no verification,
 * and transport failures (no answer, refused, TLS) as one error type.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The peer could not be reached or did not answer in time. The message names the peer; never a secret. */
export class TransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface TlsOptions {
  /** PEM text of the CA bundle that signed the peer's certificate. */
  ca?: string;
  /** Accept any certificate. For labs only. */
  insecure?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const MAX_BODY = 16 * 1024 * 1024;

/**
 * A link a peer put in its answer (a Redfish `@odata.id`, an OpenStack `next`),
 * resolved against the peer's base URL; null when it leads off the peer. A
 * relative reference stays on the peer; an absolute one must have the same
 * scheme, host and port, and no user information. This is the one test every
 * followed link passes before a request carrying credentials or a token is
 * made to it: a peer's answer must not be able to send them elsewhere.
 */
export function linkOnOrigin(ref: string, base: URL): URL | null {
  let url: URL;
  try {
    url = new URL(ref, base);
  } catch {
    return null;
  }
  if (url.origin !== base.origin || url.username !== '' || url.password !== '') return null;
  return url;
}

/** A peer-supplied link as an error message shows it: at most 200 characters. */
export function shownLink(ref: string): string {
  return ref.length > 200 ? `${ref.slice(0, 200)}…` : ref;
}

export function sendRequest(
  url: URL,
  opts: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number; tls: TlsOptions },
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    if (opts.body !== undefined) {
      headers['Content-Type'] ??= 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(opts.body));
    }
    const req = send(
      url,
      {
        method: opts.method,
        headers,
        ...(url.protocol === 'https:' ? { ca: opts.tls.ca, rejectUnauthorized: opts.tls.insecure !== true } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY)
            req.destroy(new TransportError(`${url.host}${url.pathname}: answer larger than ${MAX_BODY} bytes`));
          else chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs, () =>
      req.destroy(new TransportError(`${url.host}: no answer within ${opts.timeoutMs / 1000}s`)),
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof TransportError) reject(err);
      else if (err.code?.startsWith('ERR_TLS') || /certificate|self.signed/i.test(err.message)) {
        reject(new TransportError(`${url.host}: TLS: ${err.message} (set the CA bundle, or insecure for a lab)`));
      } else reject(new TransportError(`${url.host}: ${err.code ?? err.message}`));
    });
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}
