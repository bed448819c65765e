import { Database } from '../src/database/database.js';
import { describeEachDatabase } from './support/databases.js';
import { useTestApp } from './support/use-test-app.js';

/**
 * Timestamps within one millisecond: two rows at the same microsecond, the others a few
 * microseconds apart. A cursor cut to milliseconds skips or repeats them.
 */
const SAME_MILLISECOND = (column: string): string =>
  `${column} = timestamptz '2030-01-01 00:00:00.000400+00'
     - make_interval(secs => least(n, 3) / 1000000.0)`;

describeEachDatabase('keyset paging within one millisecond', (kind) => {
  const t = useTestApp(kind, {
    ADMIN_EMAIL: 'pager@example.com',
    ADMIN_PASSWORD: 'pagerpassword',
    BUILTIN_TOKEN_DELAY_MS: '1',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    MAX_CONCURRENT_RUNS_PER_USER: '10',
  });

  let db: Database;
  let admin: string;

  beforeAll(async () => {
    db = t.app.get(Database);
    admin = (
      await t.http.post('/auth/login', { email: 'pager@example.com', password: 'pagerpassword' })
    ).body.accessToken;
  });

  /** Sets `column` of the rows with these ids (in order) to times within one millisecond. */
  const squeeze = async (table: string, column: string, ids: string[]): Promise<void> => {
    await db.query(
      `UPDATE ${table} SET ${SAME_MILLISECOND(column)}
       FROM unnest($1::uuid[]) WITH ORDINALITY AS o(id, n) WHERE ${table}.id = o.id`,
      [ids],
    );
  };

  /** Every item of every page of `path`, `limit` at a time. */
  const pageThrough = async (path: string, token: string, limit: number): Promise<string[]> => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const sep = path.includes('?') ? '&' : '?';
      const q: string = `${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const r: { status: number; body: any } = await t.http.get(path + q, token);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((i: { id: string }) => i.id));
      cursor = r.body.nextCursor;
      if (!cursor) return seen;
    }
    throw new Error('too many pages');
  };

  const sorted = (ids: string[]): string[] => [...ids].sort();

  it('sessions: own list and the admin list see every session exactly once', async () => {
    const u = await t.http.register('pages');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await t.http.post('/sessions', {}, u.accessToken)).body.id);
    await squeeze('sessions', 'last_activity_at', ids);
    for (const limit of [1, 2]) {
      expect(sorted(await pageThrough('/sessions', u.accessToken, limit))).toEqual(sorted(ids));
      expect(
        sorted(await pageThrough(`/admin/sessions?userId=${u.user.id}`, admin, limit)),
      ).toEqual(sorted(ids));
    }
  });

  it('users: the admin list sees every user exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await t.http.register('squeezed')).user.id);
    await squeeze('users', 'created_at', ids);
    for (const limit of [1, 2]) {
      expect(sorted(await pageThrough('/admin/users?q=squeezed', admin, limit))).toEqual(
        sorted(ids),
      );
    }
  });

  it('runs: the admin list sees every run exactly once', async () => {
    const u = await t.http.register('runs');
    for (let i = 0; i < 4; i++) {
      const id = (await t.http.post('/sessions', {}, u.accessToken)).body.id;
      const r = await t.http.post(
        `/sessions/${id}/messages`,
        { content: 'hello', clientMessageId: `r${i}` },
        u.accessToken,
      );
      expect(r.status).toBe(202);
    }
    const ids = (
      await db.query<{ id: string }>(`SELECT id FROM runs WHERE user_id = $1`, [u.user.id])
    ).map((r) => r.id);
    expect(ids).toHaveLength(4);
    // Every run in the database: the admin list has no user filter.
    const all = (await db.query<{ id: string }>(`SELECT id FROM runs`)).map((r) => r.id);
    await squeeze('runs', 'started_at', ids);
    for (const limit of [1, 2]) {
      expect(sorted(await pageThrough('/admin/runs', admin, limit))).toEqual(sorted(all));
    }
  });

  it('a tampered cursor is VALIDATION_FAILED naming cursor on every paged list, never a 500', async () => {
    const u = await t.http.register('tamper');
    const id = '00000000-0000-4000-8000-000000000000';
    const at = '2030-01-01T00:00:00.000400Z';
    const bad: { t: unknown; id: unknown }[] = [
      { t: at, id: 'x' },
      { t: at, id: `${id}x` },
      { t: '0', id },
      { t: '1', id },
      { t: '-271821-04-20T00:00:00Z', id },
      { t: '+275760-09-13T00:00:00Z', id },
      { t: 'Tue Jan 01 2030 00:00:00 GMT+0000', id },
      { t: '2030-01-01T00:00:00.0000001Z', id },
      { t: '2030-01-01', id },
      { t: '2030-02-30T00:00:00Z', id },
      { t: '2030-01-01T24:00:00Z', id },
      { t: '0000-01-01T00:00:00Z', id },
      { t: 1893456000000, id },
      { t: at, id: 42 },
    ];
    const lists: [string, string][] = [
      ['/sessions', u.accessToken],
      ['/reminders', u.accessToken],
      ['/admin/users', admin],
      ['/admin/runs', admin],
      ['/admin/sessions', admin],
    ];
    for (const [path, token] of lists) {
      for (const c of bad) {
        const cursor = Buffer.from(JSON.stringify(c)).toString('base64url');
        const r = await t.http.get(`${path}?cursor=${cursor}`, token);
        expect({ path, c, status: r.status, code: r.body.code }).toEqual({
          path,
          c,
          status: 400,
          code: 'VALIDATION_FAILED',
        });
        expect(JSON.stringify(r.body.details)).toContain('cursor');
      }
      // What the service issues (microseconds) and older millisecond cursors are accepted.
      for (const ok of [at, '2030-01-01T00:00:00.000Z', '2030-01-01T00:00:00Z']) {
        const cursor = Buffer.from(JSON.stringify({ t: ok, id })).toString('base64url');
        expect((await t.http.get(`${path}?cursor=${cursor}`, token)).status).toBe(200);
      }
    }
  });
});
