/**
 * "Elsewhere": an HTTP server on another loopback port (so another origin)
 * that records every request it receives, headers and body, and answers 404.
 * A hostile answer points its links here; a test then asserts that nothing,
 * and so no password, Authorization header or token, ever arrived.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Elsewhere {
  /** e.g. `http://127.0.0.1:41235`, without a trailing slash. */
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startElsewhere(): Promise<Elsewhere> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    received,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
