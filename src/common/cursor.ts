import { DomainError } from './domain-error.js';

/**
 * Opaque keyset cursors: `{t, id}` (a timestamp and a tie-breaking id) in base64url JSON.
 * A cursor the client tampered with is a VALIDATION_FAILED, never a 500.
 */
export interface Cursor {
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

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as Cursor).t === 'string' &&
      !Number.isNaN(Date.parse((parsed as Cursor).t)) &&
      typeof (parsed as Cursor).id === 'string'
    ) {
      return { t: (parsed as Cursor).t, id: (parsed as Cursor).id };
    }
  } catch {
    // fall through to the validation error
  }
  throw DomainError.validation('Invalid cursor', [
    { field: 'cursor', problems: ['is not a cursor this service issued'] },
  ]);
}
