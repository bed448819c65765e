import { EventEmitter } from 'node:events';
import type { PGlite } from '@electric-sql/pglite';
import { AsyncMutex } from '../common/async-mutex.js';

interface PgLikeResult {
  rows: unknown[];
  rowCount: number;
  fields: { name: string; dataTypeID: number }[];
}

type ConnectCallback = (err: Error | null, client: PgliteClient | null, done: () => void) => void;

/**
 * The one connection of a PGlite database, shaped like a `pg` client so TypeORM's postgres driver
 * can use it. Parameterless text may hold several statements (migrations); it goes through `exec`.
 */
class PgliteClient extends EventEmitter {
  constructor(private readonly db: PGlite) {
    super();
  }

  async query(text: string, params?: unknown[]): Promise<PgLikeResult> {
    if (params !== undefined && params.length > 0) {
      const r = await this.db.query(text, params);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length, fields: r.fields };
    }
    const results = await this.db.exec(text);
    const last = results[results.length - 1];
    return {
      rows: last?.rows ?? [],
      rowCount: last?.affectedRows ?? last?.rows.length ?? 0,
      fields: last?.fields ?? [],
    };
  }
}

/**
 * Builds a `pg`-compatible driver module whose pool hands out PGlite's single connection to one
 * borrower at a time. Every TypeORM query runner (and so every transaction) holds the connection
 * from connect() to release(), so concurrent transactions queue instead of interleaving their
 * statements on the shared session.
 */
export function pgliteDriverModule(db: PGlite): { Pool: new () => EventEmitter } {
  const mutex = new AsyncMutex();
  const client = new PgliteClient(db);

  class PglitePool extends EventEmitter {
    connect(callback: ConnectCallback): void {
      mutex.acquire().then(
        (release) => callback(null, client, release),
        (err: Error) => callback(err, null, () => undefined),
      );
    }

    end(callback?: (err: Error | null) => void): Promise<void> {
      // The PGlite instance is owned and closed by the Database service.
      callback?.(null);
      return Promise.resolve();
    }
  }
  return { Pool: PglitePool };
}
