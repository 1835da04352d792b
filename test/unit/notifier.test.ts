/** The webhook notifier against a real HTTP server on loopback. */
import { createServer, type Server } from 'node:http';
import { createWebhookNotifier } from '../../providers/notifiers';

let server: Server;
let url: string;
const received: unknown[] = [];
let answer = 204;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ contentType: req.headers['content-type'], body: JSON.parse(body) });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/ops`;
});
afterAll(() => new Promise((ok) => server.close(ok)));

test('a hand-off is posted as JSON with what the operator needs', async () => {
  answer = 204;
  await createWebhookNotifier(url).notify({
    kind: 'hand-off',
    remediationId: 'r-1',
    host: 'cmp-a-01',
    reason: 'verification failed',
  });
  expect(received.at(-1)).toEqual({
    contentType: 'application/json',
    body: {
      source: 'shipshape',
      kind: 'hand-off',
      remediationId: 'r-1',
      host: 'cmp-a-01',
      reason: 'verification failed',
    },
  });
});

test('a webhook that answers 500 fails the notification so the activity retries (capped by the workflow)', async () => {
  answer = 500;
  await expect(
    createWebhookNotifier(url).notify({ kind: 'hand-off', remediationId: 'r-2', host: 'h', reason: 'x' }),
  ).rejects.toThrow('notification webhook answered 500');
});
