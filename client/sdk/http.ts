import type { ErrorBody, ErrorCode } from '@hitl/contracts';

/** An error answer of the service (REST body or socket ack), with its stable code. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | 'NETWORK',
    message: string,
    readonly status = 0,
    readonly details?: unknown,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /**
   * The field problems of a VALIDATION_FAILED error, by field name, without `prefix`: a form's
   * `values.` by default; `response.arguments.` (ARGUMENT_FIELD_PREFIX) names a confirmation's
   * edited arguments by their path. Fields outside the prefix keep their whole name.
   */
  fieldErrors(prefix = 'values.'): Record<string, string> {
    const out: Record<string, string> = {};
    if (!Array.isArray(this.details)) return out;
    for (const d of this.details as { field?: unknown; problems?: unknown }[]) {
      if (typeof d.field !== 'string') continue;
      const field = d.field.startsWith(prefix) ? d.field.slice(prefix.length) : d.field;
      out[field] = Array.isArray(d.problems) ? d.problems.map(String).join('; ') : this.message;
    }
    return out;
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** JSON over fetch; every non-2xx answer becomes an ApiError with the service's code. */
export class HttpTransport {
  constructor(
    readonly baseUrl: string,
    private readonly fetchImpl: FetchLike = (input, init) => fetch(input, init),
  ) {}

  async request<T>(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string } = {},
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
    } catch (err) {
      throw new ApiError('NETWORK', err instanceof Error ? err.message : 'Network error');
    }
    const text = await res.text();
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    if (res.ok) return body as T;
    const e = (body ?? {}) as Partial<ErrorBody>;
    throw new ApiError(
      e.code ?? 'INTERNAL',
      e.message ?? `HTTP ${res.status}`,
      res.status,
      e.details,
      e.retryAfterMs,
    );
  }
}
