/**
 * One authenticated session with an OpenStack cloud: a Keystone v3 token
 * (password or application credential), cached and renewed on 401 or before
 * it expires; endpoints from the service catalog by type, interface and
 * region; retries on 429/503 (honouring Retry-After) and on transport
 * failures of reads; pagination; and every failure typed, retryable or not,
 * with OpenStack's request id. The token goes only to the endpoints the
 * catalog (or an override) names: a link in an answer (a pagination `next`)
 * that leads anywhere else is refused, not followed.
 */
import type { z } from 'zod';
import { linkOnOrigin, sendRequest, shownLink, TransportError, type HttpResponse } from '../http';
import type { CloudConfig } from './cloud-config';
import { catalogSchema } from './schemas';

/** An OpenStack API said no, or could not be reached. `retryable` says whether trying again later can help. */
export class OpenStackError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
    readonly requestId: string | null,
  ) {
    super(message);
    this.name = 'OpenStackError';
  }
}

export interface RequestOptions {
  body?: unknown;
  /** Extra headers: microversions (`OpenStack-API-Version`, `X-OpenStack-Nova-API-Version`, ...). */
  headers?: Record<string, string>;
  /** Statuses that are answers, not errors (404 for "not there"). */
  accept?: number[];
  /**
   * A deadline for this call longer than the cloud's `api_timeout`, for calls
   * an API is known to answer slowly (Nova updating the service of a host that
   * has just died waits for its RPC to the host to time out: 38–40 s measured).
   */
  minTimeoutMs?: number;
}

const MAX_ATTEMPTS = 4;

function requestIdOf(res: HttpResponse): string | null {
  const h = res.headers['x-openstack-request-id'] ?? res.headers['x-compute-request-id'];
  return typeof h === 'string' ? h : null;
}

/** The message OpenStack services put in an error body, in any of their shapes. */
function faultOf(body: string): string {
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    for (const v of Object.values(j)) {
      if (v && typeof v === 'object' && 'message' in v) return String((v as { message: unknown }).message);
    }
    if (typeof j.error_message === 'string') {
      try {
        return String((JSON.parse(j.error_message) as { faultstring?: string }).faultstring ?? j.error_message);
      } catch {
        return j.error_message;
      }
    }
    if (j.error && typeof j.error === 'object')
      return String((j.error as { message?: unknown }).message ?? body.slice(0, 200));
    if (Array.isArray(j.errors))
      return String(
        (j.errors[0] as { detail?: unknown; title?: unknown })?.detail ?? (j.errors[0] as { title?: unknown })?.title,
      );
  } catch {
    // not JSON
  }
  return body.slice(0, 200).replace(/\s+/g, ' ').trim() || '(empty body)';
}

export class OpenStackSession {
  private token: {
    value: string;
    expiresAt: number;
    catalog: z.infer<typeof catalogSchema>['token']['catalog'];
  } | null = null;
  private authenticating: Promise<void> | null = null;
  /** Times a token was issued: tests check re-authentication with it. */
  logins = 0;

  constructor(
    private readonly cloud: CloudConfig,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((ok) => setTimeout(ok, ms)),
  ) {}

  private tls() {
    return { ca: this.cloud.ca ?? undefined, insecure: this.cloud.insecure };
  }

  private async authenticate(): Promise<void> {
    const a = this.cloud.auth;
    const identity =
      a.type === 'password'
        ? {
            methods: ['password'],
            password: { user: { name: a.username, password: a.password, domain: { name: a.userDomainName } } },
          }
        : { methods: ['application_credential'], application_credential: { id: a.id, secret: a.secret } };
    const body = {
      auth: {
        identity,
        ...(a.type === 'password'
          ? { scope: { project: { name: a.projectName, domain: { name: a.projectDomainName } } } }
          : {}),
      },
    };
    let res: HttpResponse;
    try {
      res = await sendRequest(new URL(`${this.cloud.authUrl}/auth/tokens`), {
        method: 'POST',
        headers: {},
        body: JSON.stringify(body),
        timeoutMs: this.cloud.timeoutMs,
        tls: this.tls(),
      });
    } catch (err) {
      if (err instanceof TransportError) throw new OpenStackError(`keystone: ${err.message}`, null, true, null);
      throw err;
    }
    if (res.status === 401)
      throw new OpenStackError(
        `keystone: authentication refused (HTTP 401): ${faultOf(res.body)}`,
        401,
        false,
        requestIdOf(res),
      );
    if (res.status >= 400)
      throw new OpenStackError(
        `keystone: POST /auth/tokens answered HTTP ${res.status}: ${faultOf(res.body)}`,
        res.status,
        res.status >= 500,
        requestIdOf(res),
      );
    const token = res.headers['x-subject-token'];
    const parsed = catalogSchema.safeParse(JSON.parse(res.body || '{}'));
    if (typeof token !== 'string' || !parsed.success) {
      const issue = parsed.success ? null : parsed.error.issues[0];
      throw new OpenStackError(
        `keystone: token answer malformed${issue ? `: ${issue.path.join('.')}: ${issue.message}` : ': no X-Subject-Token'}`,
        res.status,
        false,
        requestIdOf(res),
      );
    }
    this.token = {
      value: token,
      expiresAt: Date.parse(parsed.data.token.expires_at),
      catalog: parsed.data.token.catalog,
    };
    this.logins++;
  }

  private async ensureToken(): Promise<void> {
    // Renew a minute before expiry; one authentication at a time for all callers.
    if (this.token && this.token.expiresAt - Date.now() > 60_000) return;
    this.authenticating ??= this.authenticate().finally(() => {
      this.authenticating = null;
    });
    await this.authenticating;
  }

  /** Forget the token, as if it had been revoked: the next request authenticates again. */
  dropToken(): void {
    this.token = null;
  }

  /** The endpoint of a service type, from an override or the catalog (interface and region as configured); null when the cloud has none. */
  private async findEndpoint(serviceType: string): Promise<string | null> {
    const override = this.cloud.endpointOverrides[serviceType];
    if (override) return override.replace(/\/+$/, '');
    await this.ensureToken();
    const service = this.token?.catalog.find((s) => s.type === serviceType);
    const ep = service?.endpoints.find(
      (e) =>
        e.interface === this.cloud.interface &&
        (!this.cloud.regionName || e.region === this.cloud.regionName || e.region_id === this.cloud.regionName),
    );
    return ep ? ep.url.replace(/\/+$/, '') : null;
  }

  /** Whether the cloud runs this service (a service without an endpoint is simply absent). */
  async hasEndpoint(serviceType: string): Promise<boolean> {
    return (await this.findEndpoint(serviceType)) !== null;
  }

  /** The endpoint of a service type; a cloud without one is a non-retryable error naming it. */
  async endpoint(serviceType: string): Promise<string> {
    const url = await this.findEndpoint(serviceType);
    if (url) return url;
    throw new OpenStackError(
      `the service catalog has no ${serviceType} endpoint for interface ${this.cloud.interface}${this.cloud.regionName ? ` in region ${this.cloud.regionName}` : ''}`,
      null,
      false,
      null,
    );
  }

  /**
   * A link an answer gave (`what`: e.g. the next link of GET /v1/nodes),
   * resolved against the service's endpoint. One on another scheme, host or
   * port is a non-retryable error naming it, raised before anything is sent:
   * an answer must not be able to send the token elsewhere.
   */
  async link(service: string, ref: string, what: string): Promise<URL> {
    const endpoint = new URL(await this.endpoint(service));
    const url = linkOnOrigin(ref, endpoint);
    if (url) return url;
    throw new OpenStackError(
      `${service}: ${what}: ${shownLink(ref)} is not on the ${service} endpoint (${endpoint.origin}); not followed, the token is not sent there`,
      null,
      false,
      null,
    );
  }

  /**
   * One API call. `path` is relative to the service's endpoint, or a full URL
   * (pagination links) on the endpoint's origin. 401 → authenticate again, once. 429 and 503 → wait
   * (Retry-After, else backing off) and try again, up to 4 attempts; transport
   * failures are retried for reads only. Returns the parsed body (null when empty).
   */
  async request(
    service: string,
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<{ status: number; body: unknown; headers: HttpResponse['headers'] }> {
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(path)
      ? await this.link(service, path, `${method} link`)
      : new URL(`${await this.endpoint(service)}${path.startsWith('/') ? '' : '/'}${path}`);
    const what = `${service}: ${method} ${url.pathname}${url.search}`;
    let reauthenticated = false;
    for (let attempt = 1; ; attempt++) {
      await this.ensureToken();
      let res: HttpResponse;
      try {
        res = await sendRequest(url, {
          method,
          headers: { 'X-Auth-Token': this.token?.value ?? '', ...opts.headers },
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          timeoutMs: Math.max(this.cloud.timeoutMs, opts.minTimeoutMs ?? 0),
          tls: this.tls(),
        });
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        if (method === 'GET' && attempt < MAX_ATTEMPTS) {
          await this.sleep(500 * 2 ** attempt);
          continue;
        }
        throw new OpenStackError(`${what}: ${err.message}`, null, true, null);
      }
      if (res.status === 401 && !reauthenticated) {
        reauthenticated = true;
        this.token = null;
        continue;
      }
      if ((res.status === 429 || res.status === 503) && attempt < MAX_ATTEMPTS) {
        const after = Number(res.headers['retry-after']);
        await this.sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 30) * 1000 : 500 * 2 ** attempt);
        continue;
      }
      if (res.status >= 400 && !opts.accept?.includes(res.status)) {
        const retryable = res.status === 429 || res.status >= 500 || res.status === 409;
        throw new OpenStackError(
          `${what} answered HTTP ${res.status}${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${faultOf(res.body)}${requestIdOf(res) ? ` (request ${requestIdOf(res)})` : ''}`,
          res.status,
          retryable,
          requestIdOf(res),
        );
      }
      let body: unknown = null;
      if (res.body) {
        try {
          body = JSON.parse(res.body);
        } catch {
          throw new OpenStackError(`${what}: the answer is not JSON`, res.status, false, requestIdOf(res));
        }
      }
      return { status: res.status, body, headers: res.headers };
    }
  }

  /** A call whose answer must match `schema`; a mismatch is a non-retryable error naming the field. */
  async call<S extends z.ZodType>(
    service: string,
    method: string,
    path: string,
    schema: S,
    opts: RequestOptions = {},
  ): Promise<z.infer<S>> {
    const res = await this.request(service, method, path, opts);
    return parseAnswer(schema, res.body, `${service}: ${method} ${path}`, requestIdOf({ ...res, body: '' }));
  }
}

export function parseAnswer<S extends z.ZodType>(
  schema: S,
  body: unknown,
  what: string,
  requestId: string | null = null,
): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OpenStackError(
      `${what}: malformed answer: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
      null,
      false,
      requestId,
    );
  }
  return parsed.data as z.infer<S>;
}
