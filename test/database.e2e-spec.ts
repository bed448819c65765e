import { randomUUID } from 'node:crypto';
import { Database } from '../src/database/database.js';
import { MIGRATIONS } from '../migrations/index.js';
import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from './support/databases.js';

async function tables(db: Database): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_name <> 'schema_migrations' ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

describeEachDatabase('database', (kind) => {
  let target: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    target = await createTestDatabase(kind);
    db = await Database.open({ url: target.url, dataDir: target.dataDir, migrate: true });
  });

  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  it('migrates down to nothing and up again', async () => {
    expect(await tables(db)).toEqual(expect.arrayContaining(['users', 'refresh_tokens']));
    for (let i = 0; i < MIGRATIONS.length; i++) await db.revertLast();
    expect(await tables(db)).toEqual([]);
    const applied = await db.migrate();
    expect(applied).toHaveLength(MIGRATIONS.length);
    expect(await tables(db)).toEqual(expect.arrayContaining(['users', 'refresh_tokens']));
    expect(await db.migrate()).toEqual([]);
  });

  it('runs many concurrent transactions without leaking a failed one', async () => {
    const tag = randomUUID().slice(0, 8);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'h')`, [
            randomUUID(),
            `${tag}-${i}-a@example.com`,
          ]);
          // Yield so that, were transactions interleaved on one connection, others would run here.
          await new Promise((r) => setTimeout(r, 1));
          await tx.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'h')`, [
            randomUUID(),
            `${tag}-${i}-b@example.com`,
          ]);
          if (i === 13) throw new Error('planned failure');
          if (i === 27) {
            // A failing statement aborts the transaction; it must not poison the others.
            await tx.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'h')`, [
              randomUUID(),
              `${tag}-0-a@example.com`,
            ]);
          }
          return i;
        }),
      ),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    expect(failed).toEqual([13, 27]);
    const rows = await db.query<{ email: string }>(
      `SELECT email FROM users WHERE email LIKE $1 ORDER BY email`,
      [`${tag}-%`],
    );
    expect(rows).toHaveLength(38 * 2);
    expect(
      rows.some((r) => r.email.startsWith(`${tag}-13-`) || r.email.startsWith(`${tag}-27-`)),
    ).toBe(false);
    // The connection is healthy afterwards.
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('reports affected rows and keeps int8 as strings on both engines', async () => {
    const r = await db.execute(`UPDATE users SET display_name = 'x' WHERE false`);
    expect(r.rowCount).toBe(0);
    expect(
      await db.query(`SELECT 9007199254740993::int8 AS big, count(*) AS n FROM users WHERE false`),
    ).toEqual([{ big: '9007199254740993', n: '0' }]);
  });

  if (kind === 'pglite') {
    it('refuses a second opener of the same DATA_DIR with a clear message', async () => {
      await expect(
        Database.open({ url: undefined, dataDir: target.dataDir, migrate: false }),
      ).rejects.toThrow(/DATA_DIR .* is in use by process \d+/);
    });
  }
});
