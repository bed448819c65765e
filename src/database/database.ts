import { AsyncLocalStorage } from 'node:async_hooks';
import { join } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { DataSource, type QueryRunner } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { DataDirLock } from './data-dir-lock.js';
import { pgliteDriverModule } from './pglite-pool.js';
import type { Sql, SqlExecutor } from './sql-executor.js';

export interface DatabaseOptions {
  /** postgres:// URL; unset means the embedded PGlite database in `${dataDir}/pglite`. */
  url: string | undefined;
  dataDir: string;
  /** Run pending migrations while opening (the service does; the migration CLI does not). */
  migrate: boolean;
  poolSize?: number;
}

/** Longest wait for a pooled connection (PostgreSQL unreachable, or every connection busy). */
const CONNECT_TIMEOUT_MS = 5000;

/** The part of a `pg` client a named statement needs (TypeORM has no way to pass a name). */
interface PgClient {
  query(config: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

class RunnerExecutor implements SqlExecutor {
  constructor(
    private readonly runner: QueryRunner,
    private readonly prepares: boolean,
  ) {}

  async query<T>(sql: Sql, params?: readonly unknown[]): Promise<T[]> {
    return (await this.execute<T>(sql, params)).rows;
  }

  async execute<T>(
    sql: Sql,
    params?: readonly unknown[],
  ): Promise<{ rows: T[]; rowCount: number }> {
    if (typeof sql !== 'string') {
      if (!this.prepares) return this.execute<T>(sql.text, params);
      const client = (await this.runner.connect()) as PgClient;
      const r = await client.query({ name: sql.name, text: sql.text, values: [...(params ?? [])] });
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    }
    const result = await this.runner.query(sql, params ? [...params] : undefined, true);
    const rows = (result.records ?? []) as T[];
    return { rows, rowCount: result.affected ?? rows.length };
  }
}

/** The transaction a piece of async work runs in (carried by AsyncLocalStorage). */
interface TxContext {
  executor: SqlExecutor;
  /** Set at COMMIT or ROLLBACK: work that outlives the transaction falls back to the pool. */
  open: boolean;
  afterCommit: (() => void)[];
  afterRollback: (() => void)[];
}

/**
 * The service's single door to PostgreSQL, embedded (PGlite) or server (pg). Same migrations and
 * same SQL on both. On PGlite the pool has one connection that each query or transaction holds
 * exclusively, so transactions are serialized rather than interleaved.
 */
export class Database implements SqlExecutor {
  private readonly beforeClose: (() => Promise<void>)[] = [];
  private readonly ambient = new AsyncLocalStorage<TxContext>();

  private constructor(
    readonly dataSource: DataSource,
    readonly kind: 'pglite' | 'postgres',
    private readonly pglite: PGlite | undefined,
    private readonly lock: DataDirLock | undefined,
  ) {}

  static async open(options: DatabaseOptions): Promise<Database> {
    const common = {
      type: 'postgres' as const,
      migrations: MIGRATIONS,
      migrationsTableName: 'schema_migrations',
      migrationsTransactionMode: 'each' as const,
      synchronize: false,
      logging: false,
    };
    if (options.url !== undefined) {
      const dataSource = new DataSource({
        ...common,
        url: options.url,
        poolSize: options.poolSize ?? 10,
        // A pool that cannot get a connection fails (reported UNAVAILABLE) instead of hanging.
        connectTimeoutMS: CONNECT_TIMEOUT_MS,
        applicationName: 'hitl-agent-backend',
      });
      await dataSource.initialize();
      const db = new Database(dataSource, 'postgres', undefined, undefined);
      if (options.migrate) await db.migrate();
      return db;
    }

    const lock = DataDirLock.acquire(options.dataDir);
    let pglite: PGlite | undefined;
    try {
      pglite = await PGlite.create({
        dataDir: join(options.dataDir, 'pglite'),
        // `pg` returns int8 as a string (it may exceed 2^53); do the same so the SQL layer is one.
        parsers: { [types.INT8]: (value: string) => value },
      });
      const dataSource = new DataSource({
        ...common,
        driver: pgliteDriverModule(pglite),
        installExtensions: false,
      });
      await dataSource.initialize();
      const db = new Database(dataSource, 'pglite', pglite, lock);
      if (options.migrate) await db.migrate();
      return db;
    } catch (err) {
      await pglite?.close().catch(() => undefined);
      lock.release();
      throw err;
    }
  }

  async migrate(): Promise<string[]> {
    const done = await this.dataSource.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  }

  async revertLast(): Promise<void> {
    await this.dataSource.undoLastMigration({ transaction: 'each' });
  }

  async query<T = Record<string, unknown>>(sql: Sql, params?: readonly unknown[]): Promise<T[]> {
    return (await this.execute<T>(sql, params)).rows;
  }

  async execute<T = Record<string, unknown>>(
    sql: Sql,
    params?: readonly unknown[],
  ): Promise<{ rows: T[]; rowCount: number }> {
    const tx = this.current();
    if (tx) return tx.executor.execute<T>(sql, params);
    const runner = this.dataSource.createQueryRunner();
    try {
      return await new RunnerExecutor(runner, this.kind === 'postgres').execute<T>(sql, params);
    } finally {
      await runner.release();
    }
  }

  /** True while the caller runs inside an open `transaction()`. */
  get inTransaction(): boolean {
    return this.current() !== undefined;
  }

  /**
   * Runs `hook` once the ambient transaction commits (at once when there is none). Hooks run in
   * registration order, outside the transaction; a hook that throws is the hook's problem.
   */
  afterCommit(hook: () => void): void {
    const tx = this.current();
    if (tx) tx.afterCommit.push(hook);
    else hook();
  }

  /** Runs `hook` if the ambient transaction rolls back (never when there is none). */
  afterRollback(hook: () => void): void {
    this.current()?.afterRollback.push(hook);
  }

  /**
   * Runs `work` outside any ambient transaction: for work that must not join the caller's
   * transaction (a group-commit writer started from inside one, timers set from inside one).
   */
  detached<T>(work: () => T): T {
    return this.ambient.exit(work);
  }

  private current(): TxContext | undefined {
    const tx = this.ambient.getStore();
    return tx?.open ? tx : undefined;
  }

  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws. Every
   * `query`/`execute` made inside it (by any repository, at any depth) uses the transaction's
   * connection, and a nested `transaction()` joins it: on PGlite, whose one connection the
   * transaction holds, a second borrow would wait forever.
   */
  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const outer = this.current();
    if (outer) return work(outer.executor);
    const runner = this.dataSource.createQueryRunner();
    const ctx: TxContext = {
      executor: new RunnerExecutor(runner, this.kind === 'postgres'),
      open: true,
      afterCommit: [],
      afterRollback: [],
    };
    let committed = false;
    try {
      await runner.connect();
      await runner.startTransaction();
      try {
        const result = await this.ambient.run(ctx, () => work(ctx.executor));
        await runner.commitTransaction();
        committed = true;
        return result;
      } catch (err) {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        throw err;
      }
    } finally {
      ctx.open = false;
      await runner.release();
      this.runHooks(committed ? ctx.afterCommit : ctx.afterRollback);
    }
  }

  private runHooks(hooks: (() => void)[]): void {
    for (const hook of hooks) {
      try {
        this.detached(hook);
      } catch {
        // A hook reports its own failures; the transaction's outcome is already decided.
      }
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  /** Work that must finish while the database is still open (flushing queued writes). */
  onBeforeClose(hook: () => Promise<void>): void {
    this.beforeClose.push(hook);
  }

  async close(): Promise<void> {
    for (const hook of this.beforeClose.splice(0)) await hook();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.pglite?.close();
    this.lock?.release();
  }
}
