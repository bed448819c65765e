import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { describeEachDatabase } from './support/databases.js';
import { ask, type ClientSocket } from './support/socket.js';
import { useTestApp } from './support/use-test-app.js';

async function until(pred: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** MAX_SESSIONS_PER_USER, RATE_LIMIT_SESSIONS_PER_MINUTE, MAX_JOINED_SESSIONS_PER_SOCKET. */
describeEachDatabase('per-user session limits', (kind) => {
  const t = useTestApp(kind, {
    MAX_SESSIONS_PER_USER: '3',
    RATE_LIMIT_SESSIONS_PER_MINUTE: '6',
    MAX_JOINED_SESSIONS_PER_SOCKET: '2',
  });

  const user = async (): Promise<{ token: string; socket: ClientSocket }> => {
    const u = await t.http.register('limits');
    const socket = await t.socket(u.accessToken);
    return { token: u.accessToken, socket };
  };
  const restCreate = (token: string) => t.http.post('/sessions', {}, token);
  const close = (token: string, id: string) =>
    t.http.request('DELETE', `/sessions/${id}`, { token });

  it('active sessions per user are capped on REST and socket; closing one frees a slot', async () => {
    const { token, socket } = await user();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await restCreate(token);
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    const refused = await restCreate(token);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('QUOTA_EXCEEDED');
    expect(refused.body.message).toMatch(/At most 3 open sessions/);
    // The count stops at the limit, so the limit is what is reported, not a count.
    expect(refused.body.details).toEqual({ limit: 3 });
    const viaSocket = await ask(socket, 'session:create', {});
    expect(viaSocket).toMatchObject({ ok: false, error: { code: 'QUOTA_EXCEEDED' } });
    expect((await close(token, ids[0])).status).toBe(204);
    expect((await ask(socket, 'session:create', {})).ok).toBe(true);
    expect((await restCreate(token)).body.code).toBe('QUOTA_EXCEEDED');
  });

  it('creates racing for the last slot: exactly one gets it', async () => {
    const { token, socket } = await user();
    for (let i = 0; i < 2; i++) expect((await restCreate(token)).status).toBe(201);
    const second = await t.socket(token);
    // The first create is held after its count; the second is sent meanwhile.
    const faults = t.app.get(FaultPoints);
    let release!: () => void;
    let reached!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = new Promise<void>((r) => (reached = r));
    let hits = 0;
    faults.arm('session.counted', () => {
      if (++hits > 1) return;
      reached();
      return gate;
    });
    try {
      const a = ask(socket, 'session:create', {});
      await first;
      const b = ask(second, 'session:create', {});
      if (kind === 'postgres') {
        // The second waits for the first's lock on the user row (or, were there none, counts too).
        const db = t.app.get(Database);
        await until(
          async () =>
            hits > 1 ||
            (
              await db.detached(() =>
                db.query(
                  `SELECT 1 FROM pg_stat_activity
                   WHERE datname = current_database() AND wait_event_type = 'Lock'`,
                ),
              )
            ).length > 0,
        );
      }
      // (PGlite: the first holds the one connection; the second cannot count before it commits.)
      release();
      const acks = await Promise.all([a, b]);
      expect(acks.filter((r) => r.ok)).toHaveLength(1);
      expect(acks.filter((r) => !r.ok)[0]).toMatchObject({
        ok: false,
        error: { code: 'QUOTA_EXCEEDED' },
      });
    } finally {
      release();
      faults.arm('session.counted', () => undefined);
    }
    const listed = await t.http.get('/sessions?status=active', token);
    expect(listed.body.items).toHaveLength(3);
  });

  it('session creation is rate limited per user; refused creates do not use the budget', async () => {
    const { token } = await user();
    let created = 0;
    // 3 creates, then refusals at the cap (not counted), then close and create 3 more: 6 in all.
    for (let round = 0; round < 2; round++) {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await restCreate(token);
        expect(r.status).toBe(201);
        ids.push(r.body.id);
        created++;
      }
      for (let i = 0; i < 3; i++)
        expect((await restCreate(token)).body.code).toBe('QUOTA_EXCEEDED');
      for (const id of ids) expect((await close(token, id)).status).toBe(204);
    }
    expect(created).toBe(6);
    const limited = await restCreate(token);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(limited.body.message).toMatch(/At most 6 new sessions a minute/);
    expect(limited.body.retryAfterMs).toBeGreaterThan(0);
    expect(limited.headers.get('retry-after')).toBeTruthy();
    // Blocked for the window: further creates are refused before the user's row is locked.
    let counted = 0;
    const faults = t.app.get(FaultPoints);
    faults.arm('session.counted', () => void counted++);
    try {
      for (let i = 0; i < 3; i++) expect((await restCreate(token)).body.code).toBe('RATE_LIMITED');
    } finally {
      faults.arm('session.counted', () => undefined);
    }
    expect(counted).toBe(0);
  });

  it('a socket joins at most MAX_JOINED_SESSIONS_PER_SOCKET sessions at once', async () => {
    const { token, socket } = await user();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await restCreate(token)).body.id);
    expect((await ask(socket, 'session:join', { sessionId: ids[0] })).ok).toBe(true);
    expect((await ask(socket, 'session:join', { sessionId: ids[1] })).ok).toBe(true);
    const third = await ask(socket, 'session:join', { sessionId: ids[2] });
    expect(third).toMatchObject({ ok: false, error: { code: 'QUOTA_EXCEEDED' } });
    expect(third.error.message).toMatch(/at most 2 sessions/);
    // Joining one it holds again is no new join; after a leave there is room.
    expect((await ask(socket, 'session:join', { sessionId: ids[1] })).ok).toBe(true);
    expect((await ask(socket, 'session:leave', { sessionId: ids[0] })).ok).toBe(true);
    expect((await ask(socket, 'session:join', { sessionId: ids[2] })).ok).toBe(true);
    // Another connection of the same user has its own allowance.
    const other = await t.socket(token);
    expect((await ask(other, 'session:join', { sessionId: ids[0] })).ok).toBe(true);
  });
});
