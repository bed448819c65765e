/**
 * A statement of the hot path: on PostgreSQL it is prepared once per pooled connection under
 * `name` (parsed and planned once, then only bound and executed). Names must be unique per text.
 * PGlite runs its text like any other statement.
 */
export interface NamedSql {
  readonly name: string;
  readonly text: string;
}

export type Sql = string | NamedSql;

/** What a repository needs to run SQL: the Database itself or an open transaction. */
export interface SqlExecutor {
  query<T = Record<string, unknown>>(sql: Sql, params?: readonly unknown[]): Promise<T[]>;
  /** Like query, and also returns how many rows an INSERT/UPDATE/DELETE touched. */
  execute<T = Record<string, unknown>>(
    sql: Sql,
    params?: readonly unknown[],
  ): Promise<{ rows: T[]; rowCount: number }>;
}

/** PostgreSQL SQLSTATE codes the services react to. */
export const PG_UNIQUE_VIOLATION = '23505';

/** The SQLSTATE of a driver error, whether it came straight from pg/PGlite or wrapped by TypeORM. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  if (typeof e.driverError?.code === 'string') return e.driverError.code;
  return typeof e.code === 'string' ? e.code : undefined;
}
