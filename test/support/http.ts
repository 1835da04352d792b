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

/** One alert as Alertmanager's webhook carries it (firing, now, a random fingerprint). */
export function webhookAlert(labels: Record<string, string>, annotations: Record<string, string> = {}) {
  return {
    status: 'firing',
    labels,
    annotations,
    startsAt: new Date().toISOString(),
    fingerprint: Math.random().toString(16).slice(2, 18),
  };
}

/** An Alertmanager webhook notification (payload version 4) of these alerts. */
export function webhookNotification(alerts: unknown[]) {
  return {
    version: '4',
    groupKey: '{}:{rack="r7"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'shipshape',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    alerts,
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
