/** The API over HTTP: a bearer token, JSON in and out, and the API's error body as an ApiError. */
import { ApiError, TransportError } from './errors';
import type { ApiConfig } from './settings';

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  query?: Query;
  /** A JSON body. */
  body?: unknown;
  /** A YAML body (a policy file as it is written). */
  yaml?: string;
}

/** Refresh reads a host through the worker, which may take up to two minutes: allow a little more. */
const REQUEST_TIMEOUT_MS = 150_000;

/** A path segment as the API expects it (a host ID or a policy name may hold any character). */
export const segment = (value: string) => encodeURIComponent(value);

export class ApiClient {
  constructor(private readonly config: ApiConfig) {}

  get url(): string {
    return this.config.url;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(`${this.config.url}${path}`);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.config.token}`,
      accept: 'application/json',
    };
    let body: string | undefined;
    if (options.yaml !== undefined) {
      headers['content-type'] = 'text/yaml';
      body = options.yaml;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new TransportError(`cannot reach the API at ${this.config.url} (${why})`);
    }
    const text = await res.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new TransportError(
          `${method} ${url.pathname} answered ${res.status} with something other than JSON; is ${this.config.url} the Shipshape API?`,
        );
      }
    }
    if (!res.ok) throw asApiError(res.status, parsed);
    return parsed as T;
  }
}

function asApiError(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string')
    return new ApiError(status, error.code, error.message, (error.details as Record<string, unknown>) ?? {});
  return new ApiError(status, `http_${status}`, `the API answered ${status} without an error body`);
}
