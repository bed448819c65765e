/** Stable machine codes of docs/protocol.md "Errors", with the HTTP status each maps to. */
export const ERROR_STATUS = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  VALIDATION_FAILED: 400,
  CONFLICT: 409,
  SESSION_BUSY: 409,
  SESSION_CLOSED: 409,
  INTERACTION_RESOLVED: 409,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAVAILABLE: 503,
  QUEUE_FULL: 409,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** One entry of `details` in a VALIDATION_FAILED error: the offending field and what is wrong. */
export interface FieldProblem {
  field: string;
  problems: string[];
}

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  details?: unknown;
  retryAfterMs?: number;
}
