import { DomainError } from './domain-error.js';
import { isUuid } from './uuid.js';

/**
 * Opaque keyset cursors: `{t, id}` (a timestamp and a tie-breaking id) in base64url JSON.
 * A cursor the client tampered with is a VALIDATION_FAILED, never a 500.
 */
interface Cursor {
  t: string;
  id: string;
}

/**
 * SQL for a cursor's `t` from a timestamptz column: the time to the microsecond, as stored. A JS
 * Date keeps only milliseconds, and a cursor cut to them skips (or, ascending, repeats) the rows
 * that fall later within the same millisecond. Select it beside the row and page with its text.
 */
export const cursorTime = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The times a cursor may carry: what cursorTime produces (microseconds) and what earlier versions
 * issued (milliseconds, from toISOString). Anything else Date.parse accepts (years past 9999,
 * epoch numbers, locale strings, February 30th, 24:00, year 0) PostgreSQL's timestamptz cast
 * would reject with a 500: the time must be a real one that reads back the same to the second.
 */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

function isCursorTime(t: unknown): t is string {
  if (typeof t !== 'string' || !CURSOR_TIME.test(t) || t.startsWith('0000')) return false;
  const ms = Date.parse(t);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === t.slice(0, 19);
}

const isCursor = (v: unknown): v is Cursor =>
  typeof v === 'object' && v !== null && isCursorTime((v as Cursor).t) && isUuid((v as Cursor).id);

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (isCursor(parsed)) return { t: parsed.t, id: parsed.id };
  } catch {
    // fall through to the validation error
  }
  throw DomainError.validation('Invalid cursor', [
    { field: 'cursor', problems: ['is not a cursor this service issued'] },
  ]);
}
