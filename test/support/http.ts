/** Small HTTP helpers for driving the API as a client would. */
export interface HttpResult<T = any> {
  status: number;
  body: T;
}

export async function http<T = any>(
  method: string,
  url: string,
  token: string | null,
  body?: unknown,
  raw?: string,
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export function hostSignal(host: string, name = 'HostDown', extra: Record<string, unknown> = {}) {
  return {
    source: 'test',
    name,
    resource: { kind: 'host', id: host },
    severity: 'critical',
    status: 'firing',
    labels: { host },
    annotations: { summary: `${name} on ${host}` },
    startsAt: new Date().toISOString(),
    ...extra,
  };
}

/** Poll `probe` until it returns a value that is not undefined, or fail after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
