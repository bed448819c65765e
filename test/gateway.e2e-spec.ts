import { createHmac } from 'node:crypto';
import { ChatGateway } from '../src/chat/chat.gateway.js';
import { SessionFanoutService } from '../src/chat/session-fanout.service.js';
import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { HistoryService } from '../src/history/history.service.js';
import { describeEachDatabase } from './support/databases.js';
import { settled, waitFor } from './support/lifecycle.js';
import { ask, type ClientSocket, connect, EventLog } from './support/socket.js';
import { useTestApp } from './support/use-test-app.js';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
function jwt(payload: object, secret: string, alg = 'HS256'): string {
  const h = b64({ alg, typ: 'JWT' });
  const p = b64(payload);
  const algo = alg === 'HS512' ? 'sha512' : 'sha256';
  return `${h}.${p}.${createHmac(algo, secret).update(`${h}.${p}`).digest('base64url')}`;
}
const now = (): number => Math.floor(Date.now() / 1000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeEachDatabase('socket gateway /chat', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '1',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '6',
    ADMIN_EMAIL: 'root@example.com',
    ADMIN_PASSWORD: 'rootpassword',
  });

  describe('handshake', () => {
    let userId: string;
    beforeAll(async () => {
      userId = (await t.http.register()).user.id;
    });
    it.each([
      ['no token', () => undefined],
      ['malformed token', () => 'garbage'],
      [
        'expired token',
        () => jwt({ sub: userId, role: 'user', exp: now() - 5 }, t.config.jwt.secret),
      ],
      ['wrong secret', () => jwt({ sub: userId, role: 'user', exp: now() + 60 }, 'y'.repeat(40))],
      [
        'alg none',
        () =>
          `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: userId, role: 'user', exp: now() + 60 })}.`,
      ],
      [
        'other algorithm',
        () => jwt({ sub: userId, role: 'user', exp: now() + 60 }, t.config.jwt.secret, 'HS512'),
      ],
      [
        'unknown user',
        () => jwt({ sub: crypto.randomUUID(), role: 'user', exp: now() + 60 }, t.config.jwt.secret),
      ],
    ])('refuses %s with connect_error UNAUTHORIZED', async (_name, token) => {
      await expect(connect(t.baseUrl, token())).rejects.toMatchObject({ message: 'UNAUTHORIZED' });
    });

    it('refuses a disabled user, and disconnects their live sockets at once', async () => {
      const admin = (
        await t.http.post('/auth/login', { email: 'root@example.com', password: 'rootpassword' })
      ).body;
      const u = await t.http.register('disable-me');
      const s1 = await t.socket(u.accessToken);
      const s2 = await t.socket(u.accessToken);
      const gone = Promise.all([s1, s2].map((s) => new Promise((r) => s.once('disconnect', r))));
      expect(
        (await t.http.patch(`/admin/users/${u.user.id}`, { disabled: true }, admin.accessToken))
          .status,
      ).toBe(200);
      await gone;
      await expect(connect(t.baseUrl, u.accessToken)).rejects.toMatchObject({
        message: 'UNAUTHORIZED',
      });
    });

    it('sends auth_expired and disconnects when the token expires on a live connection', async () => {
      const u = await t.http.register();
      const token = jwt({ sub: u.user.id, role: 'user', exp: now() + 2 }, t.config.jwt.secret);
      const s = await t.socket(token);
      const expired = new Promise((r) => s.once('auth_expired', r));
      const disconnected = new Promise((r) => s.once('disconnect', r));
      await expect(expired).resolves.toMatchObject({ message: expect.any(String) });
      await disconnected;
    });

    it('checks Origin: CORS_ORIGINS and the service’s own origin pass, others fail', async () => {
      const u = await t.http.register();
      const ok1 = await connect(t.baseUrl, u.accessToken, { origin: 'http://localhost:3000' });
      const ok2 = await connect(t.baseUrl, u.accessToken, { origin: t.baseUrl });
      t.closeAfter(ok1, ok2);
      await expect(
        connect(t.baseUrl, u.accessToken, { origin: 'https://evil.example' }),
      ).rejects.toMatchObject({
        message: 'FORBIDDEN',
      });
    });
  });

  it('two tabs receive the identical (seq, type) sequence; another user gets nothing and cannot join', async () => {
    const alice = await t.http.register('alice');
    const bob = await t.http.register('bob');
    const tab1 = await t.socket(alice.accessToken);
    const tab2 = await t.socket(alice.accessToken);
    const intruder = await t.socket(bob.accessToken);
    const [log1, log2, log3] = [new EventLog(tab1), new EventLog(tab2), new EventLog(intruder)];
    const created = await ask(tab1, 'session:create', { title: 'multi-tab' });
    expect(created).toMatchObject({
      ok: true,
      session: { title: 'multi-tab', status: 'active', lastSeq: 0 },
    });
    const sessionId = created.session.id;
    expect((await ask(tab1, 'session:join', { sessionId })).ok).toBe(true);
    expect((await ask(tab2, 'session:join', { sessionId })).ok).toBe(true);
    const denied = await ask(intruder, 'session:join', { sessionId });
    expect(denied).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'Session not found' },
    });

    const sent = await ask(tab1, 'message:send', {
      sessionId,
      content: 'count to 30',
      clientMessageId: 'm1',
    });
    expect(sent).toMatchObject({ ok: true, seq: 1 });
    await log1.untilRunEnds(sessionId);
    await log2.untilRunEnds(sessionId);
    const pairs = (log: EventLog): string[] => log.of(sessionId).map((e) => `${e.seq}:${e.type}`);
    expect(pairs(log1)).toEqual(pairs(log2));
    expect(log1.of(sessionId).map((e) => e.seq)).toEqual(log1.of(sessionId).map((_, i) => i + 1));
    expect(log1.of(sessionId)[0]).toMatchObject({
      type: 'user_message',
      connectionId: expect.any(String),
    });
    expect(log3.events).toEqual([]);
    const steal = await ask(intruder, 'message:send', {
      sessionId,
      content: 'hi',
      clientMessageId: 'x',
    });
    expect(steal.error.code).toBe('NOT_FOUND');
  });

  it('join with afterSeq while events are appended: replay ∪ live is exactly 1..n', async () => {
    const u = await t.http.register();
    const s = (await t.http.post('/sessions', {}, u.accessToken)).body.id;
    const history = t.app.get(HistoryService);
    await history.append(
      s,
      Array.from({ length: 20 }, (_, i) => ({
        type: 'response' as const,
        data: { content: `pre${i}` },
      })),
    );
    const TOTAL = 220;
    const writing = (async () => {
      for (let i = 0; i < 20; i++) {
        await history.append(
          s,
          Array.from({ length: 10 }, () => ({ type: 'response' as const, data: { content: 'x' } })),
        );
      }
    })();
    await sleep(5);
    const sock = await t.socket(u.accessToken);
    const log = new EventLog(sock);
    const joined = await ask(sock, 'session:join', { sessionId: s, afterSeq: 5 });
    await writing;
    await log.until(
      () => new Set([...joined.events, ...log.of(s)].map((e: any) => e.seq)).size >= TOTAL - 5,
    );
    const seqs = [...new Set([...joined.events, ...log.of(s)].map((e: any) => e.seq))].sort(
      (a, b) => a - b,
    );
    expect(seqs).toEqual(Array.from({ length: TOTAL - 5 }, (_, i) => i + 6));
    expect(joined.events[0].seq).toBe(6);
  });

  it('join replays at most 500 events and says hasMore', async () => {
    const u = await t.http.register();
    const s = (await t.http.post('/sessions', {}, u.accessToken)).body.id;
    await t.app.get(HistoryService).append(
      s,
      Array.from({ length: 520 }, () => ({ type: 'response' as const, data: { content: 'x' } })),
    );
    const sock = await t.socket(u.accessToken);
    const joined = await ask(sock, 'session:join', { sessionId: s });
    expect(joined.events).toHaveLength(500);
    expect(joined.hasMore).toBe(true);
    expect(joined.session.lastSeq).toBe(520);
    expect(joined.state).toEqual({
      run: null,
      pendingInteraction: null,
      headIntentId: null,
      queue: [],
    });
    expect((await ask(sock, 'session:leave', { sessionId: s })).ok).toBe(true);
  });

  it('a socket that disconnects while its join is in progress leaves nothing behind', async () => {
    const u = await t.http.register();
    const s = (await t.http.post('/sessions', {}, u.accessToken)).body.id;
    const room = `session:${s}`;
    const gateway = t.app.get(ChatGateway);
    const fanout = t.app.get(SessionFanoutService);
    const watchedBefore = fanout.watchedSessions;
    const connectedBefore = gateway.connectedCount;
    const sock = await t.socket(u.accessToken);
    const pause = t.app.get(FaultPoints).pause('join.owned');
    sock.emit('session:join', { sessionId: s }, () => undefined);
    await pause.reached;
    sock.close();
    await waitFor(() => Promise.resolve(gateway.connectedCount === connectedBefore));
    // The paused join goes on in the microtasks after release, before any socket I/O below.
    pause.release();
    const again = await t.socket(u.accessToken);
    expect(gateway.localRoom(room)).toEqual({ members: 0, nameKept: false });
    expect(fanout.watchedSessions).toBe(watchedBefore);
    expect((await ask(again, 'session:join', { sessionId: s })).ok).toBe(true);
    expect(gateway.localRoom(room)).toEqual({ members: 1, nameKept: true });
    again.close();
    await waitFor(() => Promise.resolve(fanout.watchedSessions === watchedBefore));
    expect(gateway.localRoom(room)).toEqual({ members: 0, nameKept: false });
  });

  describe('malformed input', () => {
    let sock: ClientSocket;
    let sessionId: string;
    beforeEach(async () => {
      const u = await t.http.register();
      sock = await t.socket(u.accessToken);
      sessionId = (await ask(sock, 'session:create', {})).session.id;
    });

    const cases: [string, string, unknown, string][] = [
      [
        'empty content',
        'message:send',
        { sessionId: 'S', content: '', clientMessageId: 'a' },
        'VALIDATION_FAILED',
      ],
      [
        'whitespace content',
        'message:send',
        { sessionId: 'S', content: ' \n\t ', clientMessageId: 'a' },
        'VALIDATION_FAILED',
      ],
      [
        'too long content',
        'message:send',
        { sessionId: 'S', content: 'x'.repeat(501), clientMessageId: 'a' },
        'VALIDATION_FAILED',
      ],
      [
        'NUL in content',
        'message:send',
        { sessionId: 'S', content: 'a\u0000b', clientMessageId: 'a' },
        'VALIDATION_FAILED',
      ],
      [
        'content of wrong type',
        'message:send',
        { sessionId: 'S', content: 42, clientMessageId: 'a' },
        'VALIDATION_FAILED',
      ],
      [
        'missing clientMessageId',
        'message:send',
        { sessionId: 'S', content: 'hi' },
        'VALIDATION_FAILED',
      ],
      ['null payload', 'message:send', null, 'VALIDATION_FAILED'],
      ['string payload', 'session:join', 'S', 'VALIDATION_FAILED'],
      ['array payload', 'session:join', ['S'], 'VALIDATION_FAILED'],
      ['extra field', 'session:join', { sessionId: 'S', admin: true }, 'VALIDATION_FAILED'],
      ['bad UUID', 'session:join', { sessionId: 'not-a-uuid' }, 'VALIDATION_FAILED'],
      [
        'afterSeq as string',
        'session:join',
        { sessionId: 'S', afterSeq: '3' },
        'VALIDATION_FAILED',
      ],
      ['negative afterSeq', 'session:join', { sessionId: 'S', afterSeq: -1 }, 'VALIDATION_FAILED'],
      [
        'unknown session',
        'session:join',
        { sessionId: '00000000-0000-4000-8000-000000000000' },
        'NOT_FOUND',
      ],
      [
        'unknown interaction',
        'interaction:respond',
        {
          sessionId: 'S',
          interactionId: '00000000-0000-4000-8000-000000000000',
          response: { approved: true },
        },
        'NOT_FOUND',
      ],
      ['cancel with nothing running', 'run:cancel', { sessionId: 'S' }, 'CONFLICT'],
      ['unknown event', 'session:explode', { sessionId: 'S' }, 'VALIDATION_FAILED'],
    ];

    it.each(cases)('%s → %s… and the socket still works', async (_name, event, payload, code) => {
      const p =
        typeof payload === 'string'
          ? payload.replace('S', sessionId)
          : JSON.parse(
              JSON.stringify(payload ?? null)?.replaceAll('"S"', `"${sessionId}"`) ?? 'null',
            );
      const r = await ask(sock, event, p);
      expect(r.ok).toBe(false);
      expect(r.error.code).toBe(code);
      expect((await ask(sock, 'session:join', { sessionId })).ok).toBe(true);
    });

    it('an event without an ack gets an error event (and does nothing)', async () => {
      const err = new Promise<any>((r) => sock.once('error', r));
      sock.emit('session:create', {});
      await expect(err).resolves.toMatchObject({
        code: 'VALIDATION_FAILED',
        event: 'session:create',
      });
      const unknown = new Promise<any>((r) => sock.once('error', r));
      sock.emit('nope');
      await expect(unknown).resolves.toMatchObject({ code: 'VALIDATION_FAILED', event: 'nope' });
      expect((await ask(sock, 'session:join', { sessionId })).ok).toBe(true);
    });

    it('an oversize frame closes only that connection; the server keeps serving', async () => {
      const closed = new Promise((r) => sock.once('disconnect', r));
      sock.emit(
        'message:send',
        { sessionId, content: 'x'.repeat(70 * 1024), clientMessageId: 'big' },
        () => undefined,
      );
      await closed;
      const u = await t.http.register();
      const fresh = await t.socket(u.accessToken);
      expect((await ask(fresh, 'session:create', {})).ok).toBe(true);
      expect((await t.http.get('/health/live')).status).toBe(200);
    });
  });

  it('rate limit is shared by two tabs and the REST twin', async () => {
    const u = await t.http.register();
    const tab1 = await t.socket(u.accessToken);
    const tab2 = await t.socket(u.accessToken);
    const sessions: string[] = [];
    for (let i = 0; i < 4; i++)
      sessions.push((await t.http.post('/sessions', {}, u.accessToken)).body.id);
    const results: any[] = [];
    results.push(
      await ask(tab1, 'message:send', {
        sessionId: sessions[0],
        content: 'hi',
        clientMessageId: 'r1',
      }),
    );
    results.push(
      await ask(tab2, 'message:send', {
        sessionId: sessions[1],
        content: 'hi',
        clientMessageId: 'r2',
      }),
    );
    results.push(
      (await t.http.post(`/sessions/${sessions[2]}/messages`, { content: 'hi' }, u.accessToken))
        .body,
    );
    // The first runs must be over, or the next sends are SESSION_BUSY (which does not count).
    for (const id of sessions.slice(0, 3)) await settled(t.app.get(Database), id);
    results.push(
      await ask(tab1, 'message:send', {
        sessionId: sessions[0],
        content: 'hi',
        clientMessageId: 'r3',
      }),
    );
    results.push(
      await ask(tab2, 'message:send', {
        sessionId: sessions[1],
        content: 'hi',
        clientMessageId: 'r4',
      }),
    );
    results.push(
      (await t.http.post(`/sessions/${sessions[2]}/messages`, { content: 'hi' }, u.accessToken))
        .body,
    );
    expect(results.every((r) => r.ok === true || typeof r.runId === 'string')).toBe(true);
    // Settled again: at MAX_CONCURRENT_RUNS_PER_USER a send is QUOTA_EXCEEDED, checked before
    // the rate limit (a refused send does not use the budget).
    for (const id of sessions.slice(0, 3)) await settled(t.app.get(Database), id);
    const socketLimited = await ask(tab2, 'message:send', {
      sessionId: sessions[3],
      content: 'hi',
      clientMessageId: 'r5',
    });
    expect(socketLimited.error).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: expect.any(Number),
    });
    const restLimited = await t.http.post(
      `/sessions/${sessions[3]}/messages`,
      { content: 'hi' },
      u.accessToken,
    );
    expect(restLimited.status).toBe(429);
    expect(restLimited.body).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: expect.any(Number),
    });
    expect(Number(restLimited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
