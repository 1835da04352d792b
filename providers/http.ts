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
