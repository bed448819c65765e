import { cursorTime, decodeCursor, encodeCursor } from './cursor.js';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** What runs a page's query: the Database or a transaction (named here: common/ imports no database/). */
interface PageSource {
  query<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

interface KeysetPageQuery {
  /** The select list and the table (`FROM` it) the rows come from. */
  columns: string;
  table: string;
  /** Equality filters by column; an undefined value filters nothing. */
  equal?: Record<string, unknown>;
  /** One more condition; `bind` adds a parameter and returns its placeholder. */
  where?: (bind: (value: unknown) => string) => string | undefined;
  /** The timestamptz column the pages follow (then `id`, which breaks ties), and which way. */
  orderBy: string;
  descending: boolean;
  limit: number;
  /** The client's cursor: VALIDATION_FAILED when it is not one this service issued. */
  cursor?: string;
}

/**
 * One page of a keyset-paged list: the rows after the cursor in (orderBy, id) order, `limit + 1`
 * of them so the extra row tells whether there is a next page, whose cursor is the last item's
 * orderBy time to the microsecond (see cursorTime) and id. Each item keeps its `cursor_at`.
 */
export async function keysetPage<R extends { id: string }>(
  db: PageSource,
  q: KeysetPageQuery,
): Promise<Page<R & { cursor_at: string }>> {
  const after = decodeCursor(q.cursor);
  const params: unknown[] = [];
  const bind = (value: unknown): string => `$${params.push(value)}`;
  const where: string[] = [];
  for (const [column, value] of Object.entries(q.equal ?? {})) {
    if (value !== undefined) where.push(`${column} = ${bind(value)}`);
  }
  const condition = q.where?.(bind);
  if (condition) where.push(condition);
  if (after) {
    const key = `(${bind(after.t)}::timestamptz, ${bind(after.id)}::uuid)`;
    where.push(`(${q.orderBy}, id) ${q.descending ? '<' : '>'} ${key}`);
  }
  const dir = q.descending ? ' DESC' : '';
  const rows = await db.query<R & { cursor_at: string }>(
    `SELECT ${q.columns}, ${cursorTime(q.orderBy)} AS cursor_at
     FROM ${q.table} ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
     ORDER BY ${q.orderBy}${dir}, id${dir} LIMIT ${bind(q.limit + 1)}`,
    params,
  );
  const items = rows.slice(0, q.limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor:
      rows.length > q.limit && last !== undefined
        ? encodeCursor({ t: last.cursor_at, id: last.id })
        : null,
  };
}

/** A page with its items turned into what the caller answers with. */
export function mapPage<T, U>(page: Page<T>, view: (item: T) => U): Page<U> {
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}
