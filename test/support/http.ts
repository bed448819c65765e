import { request } from 'node:http';

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

/**
 * A JSON POST sent in two steps: headers first, with `Expect: 100-continue`; `inFlight` resolves
 * when the server answers 100 Continue, i.e. it has parsed the headers and the request is in its
 * hands. A test can then act while the request is known to be in flight, whatever the machine's
 * load (a fixed sleep after `fetch` cannot promise that). `send()` writes the body and resolves
 * with the final status.
 */
export function postInTwoSteps(
  url: string,
  body: unknown,
): { inFlight: Promise<void>; send(): Promise<number> } {
  const payload = JSON.stringify(body);
  const req = request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(payload)),
      expect: '100-continue',
    },
  });
  const status = new Promise<number>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
  });
  const inFlight = new Promise<void>((resolve, reject) => {
    req.once('continue', () => resolve());
    status.then(
      (code) => reject(new Error(`answered ${code} before 100 Continue`)),
      (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
    );
  });
  req.flushHeaders();
  return {
    inFlight,
    send: () => {
      req.end(payload);
      return status;
    },
  };
}
