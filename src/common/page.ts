import { encodeCursor, type Cursor } from './cursor.js';

/**
 * Turns `limit + 1` rows of a keyset query into a page: the first `limit` rows, and a cursor to
 * the next page when the extra row shows there is one.
 */
export function toPage<T>(
  rows: T[],
  limit: number,
  cursorOf: (last: T) => Cursor,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}
