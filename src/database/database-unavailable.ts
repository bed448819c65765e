import { DomainError } from '../common/domain-error.js';

/** How long a client is asked to wait before trying again while the database is unreachable. */
export const DATABASE_RETRY_AFTER_MS = 2000;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** SQLSTATEs that describe the server going away or refusing connections, not the query. */
const SERVER_GONE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

const MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client was closed and is not queryable/,
  /^Client has encountered a connection error/,
  /^Query read timeout/,
  /^PGlite is closed/,
  /^Cannot use a pool after calling end/,
];

function looksUnavailable(e: { code?: unknown; message?: unknown }): boolean {
  const code = typeof e.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code) || SERVER_GONE_STATES.has(code) || code.startsWith('08')) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return MESSAGES.some((m) => m.test(message));
}

/**
 * True when `err` says the database could not be reached (connection refused or terminated, pool
 * timeout, PGlite closed), as opposed to a statement that failed. The one place this is decided:
 * the REST and socket filters, the handshake and the history writer all ask here. TypeORM wraps
 * driver errors (`driverError`); `cause` chains and AggregateErrors (several addresses refused) are
 * followed too.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
  if (looksUnavailable(e)) return true;
  if (err instanceof AggregateError && err.errors.some((x) => isDatabaseUnavailable(x, depth + 1)))
    return true;
  return (
    isDatabaseUnavailable(e.driverError, depth + 1) || isDatabaseUnavailable(e.cause, depth + 1)
  );
}

export function databaseUnavailableError(): DomainError {
  return new DomainError(
    'UNAVAILABLE',
    'The database is unreachable; try again shortly',
    undefined,
    DATABASE_RETRY_AFTER_MS,
  );
}

/** The error to report for `err`: UNAVAILABLE when the database is unreachable, else `err`. */
export function classifyDatabaseError(err: unknown): unknown {
  return isDatabaseUnavailable(err) ? databaseUnavailableError() : err;
}
