/** A JSON POST with a timeout whose failures name the receiver and the status, never the URL (it may hold a token). */
import { ReceiverError } from './receiver';

export async function postJson(receiverName: string, url: string, body: unknown, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ReceiverError(`receiver ${receiverName} unreachable: ${reasonOf(err, timeoutMs)}`);
  }
  await res.body?.cancel();
  if (res.ok) return;
  // A 4xx other than a timeout or rate limit will answer the same on a retry.
  const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
  throw new ReceiverError(`receiver ${receiverName} answered HTTP ${res.status}`, permanent);
}

function reasonOf(err: unknown, timeoutMs: number): string {
  // An AbortSignal's DOMException is not always an Error of this realm, so go by its name.
  const name = (err as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
