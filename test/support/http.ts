export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny JSON client over fetch, for tests against the real server. */
export class Http {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) {
      body = opts.raw;
      headers['content-type'] ??= 'application/json';
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(this.baseUrl + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(path: string, token?: string): Promise<HttpResult<T>> {
    return this.request<T>('GET', path, { token });
  }

  post<T = any>(path: string, body?: unknown, token?: string): Promise<HttpResult<T>> {
    return this.request<T>('POST', path, { body, token });
  }

  patch<T = any>(path: string, body?: unknown, token?: string): Promise<HttpResult<T>> {
    return this.request<T>('PATCH', path, { body, token });
  }

  /** Registers a fresh user and returns the auth response body. */
  async register(
    prefix = 'user',
  ): Promise<{ user: { id: string; email: string }; accessToken: string; refreshToken: string }> {
    const email = `${prefix}-${Math.random().toString(36).slice(2)}@example.com`;
    const r = await this.post('/auth/register', { email, password: 'password123' });
    if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}
