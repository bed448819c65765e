import { HistoryService } from '../src/history/history.service.js';
import { EventBus } from '../src/history/event-bus.js';
import { Database } from '../src/database/database.js';
import { FaultPoints } from '../src/common/fault-points.js';
import { UsersService } from '../src/users/users.service.js';
import { createTestDatabase, describeEachDatabase } from './support/databases.js';
import { Http } from './support/http.js';
import { SseClient } from './support/sse.js';
import { startTestApp } from './support/test-app.js';
import { useTestApp } from './support/use-test-app.js';

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describeEachDatabase('SSE stream', (kind) => {
  const t = useTestApp(kind);

  let token: string;
  let history: HistoryService;

  beforeAll(async () => {
    token = (await t.http.register()).accessToken;
    history = t.app.get(HistoryService);
  });

  const append = (s: string, n: number, tag = 'x'): Promise<unknown> =>
    history.append(
      s,
      Array.from({ length: n }, (_, i) => ({
        type: 'response' as const,
        data: { content: `${tag}${i}` },
      })),
    );

  it('replays from seq 1, then goes live, in SSE format with id = seq', async () => {
    const s = (await t.http.post('/sessions', {}, token)).body.id;
    await append(s, 3);
    const c = await SseClient.open(`${t.baseUrl}/sessions/${s}/stream`, {
      authorization: `Bearer ${token}`,
    });
    try {
      expect(c.status).toBe(200);
      await c.waitFor(() => c.events().length === 3);
      await append(s, 2, 'live');
      await c.waitFor(() => c.events().length === 5);
      expect(c.events().map((e) => e.seq)).toEqual(range(1, 5));
      expect(c.messages.map((m) => m.id)).toEqual(['1', '2', '3', '4', '5']);
      expect(c.messages.every((m) => m.event === 'session_event')).toBe(true);
      expect(c.events()[4]).toMatchObject({
        sessionId: s,
        seq: 5,
        type: 'response',
        data: { content: 'live1' },
      });
    } finally {
      c.close();
    }
  });

  it('resumes after Last-Event-ID (or ?afterSeq=) with no duplicate at the seam', async () => {
    const s = (await t.http.post('/sessions', {}, token)).body.id;
    await append(s, 6);
    const byHeader = await SseClient.open(`${t.baseUrl}/sessions/${s}/stream?afterSeq=1`, {
      authorization: `Bearer ${token}`,
      'last-event-id': '4',
    });
    const byQuery = await SseClient.open(`${t.baseUrl}/sessions/${s}/stream?afterSeq=5`, {
      authorization: `Bearer ${token}`,
    });
    try {
      await byHeader.waitFor(() => byHeader.events().length === 2);
      await byQuery.waitFor(() => byQuery.events().length === 1);
      await append(s, 3, 'live');
      await byHeader.waitFor(() => byHeader.events().length === 5);
      await byQuery.waitFor(() => byQuery.events().length === 4);
      expect(byHeader.events().map((e) => e.seq)).toEqual(range(5, 9));
      expect(byQuery.events().map((e) => e.seq)).toEqual(range(6, 9));
    } finally {
      byHeader.close();
      byQuery.close();
    }
  });

  it('joins a log that is being written: replay + live is exactly 1..n', async () => {
    const s = (await t.http.post('/sessions', {}, token)).body.id;
    const TOTAL = 300;
    const writing = (async () => {
      for (let i = 0; i < TOTAL / 10; i++) await append(s, 10);
    })();
    await new Promise((r) => setTimeout(r, 15));
    const c = await SseClient.open(`${t.baseUrl}/sessions/${s}/stream`, {
      authorization: `Bearer ${token}`,
    });
    try {
      await writing;
      await c.waitFor(() => c.events().length >= TOTAL);
      expect(c.events().map((e) => e.seq)).toEqual(range(1, TOTAL));
    } finally {
      c.close();
    }
  });

  it('releases its subscription when the client goes away', async () => {
    const s = (await t.http.post('/sessions', {}, token)).body.id;
    const bus = t.app.get(EventBus);
    const c = await SseClient.open(`${t.baseUrl}/sessions/${s}/stream`, {
      authorization: `Bearer ${token}`,
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(bus.listenerCount(s)).toBe(1);
    c.close();
    const deadline = Date.now() + 2000;
    while (bus.listenerCount(s) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(bus.listenerCount(s)).toBe(0);
  });

  it('rejects a bad Last-Event-ID and a missing token', async () => {
    const s = (await t.http.post('/sessions', {}, token)).body.id;
    const bad = await t.http.request('GET', `/sessions/${s}/stream`, {
      token,
      headers: { 'last-event-id': 'abc' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect((await t.http.get(`/sessions/${s}/stream`)).status).toBe(401);
  });

  describe('stream tickets', () => {
    const ticketFor = async (s: string, tk = token) =>
      t.http.post(`/sessions/${s}/stream-tickets`, undefined, tk);

    it('issues a single-use ticket that opens the stream without a header', async () => {
      const s = (await t.http.post('/sessions', {}, token)).body.id;
      await append(s, 2);
      const r = await ticketFor(s);
      expect(r.status).toBe(201);
      expect(typeof r.body.ticket).toBe('string');
      const ttl = Date.parse(r.body.expiresAt) - Date.now();
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      const url = `${t.baseUrl}/sessions/${s}/stream?ticket=${encodeURIComponent(r.body.ticket)}`;
      const c = await SseClient.open(url, {});
      try {
        expect(c.status).toBe(200);
        await c.waitFor(() => c.events().length === 2);
        await append(s, 1, 'live');
        await c.waitFor(() => c.events().length === 3);
        expect(c.events().map((e) => e.seq)).toEqual([1, 2, 3]);
      } finally {
        c.close();
      }
      const again = await t.http.get(`/sessions/${s}/stream?ticket=${r.body.ticket}`);
      expect(again.status).toBe(401);
      expect(again.body.code).toBe('UNAUTHORIZED');
    });

    it('refuses a ticket for another session, an expired one and a made-up one', async () => {
      const s1 = (await t.http.post('/sessions', {}, token)).body.id;
      const s2 = (await t.http.post('/sessions', {}, token)).body.id;
      const wrong = (await ticketFor(s1)).body.ticket;
      expect((await t.http.get(`/sessions/${s2}/stream?ticket=${wrong}`)).status).toBe(401);
      const old = (await ticketFor(s1)).body.ticket;
      await t.app
        .get(Database)
        .query(`UPDATE stream_tickets SET expires_at = now() - interval '1 second'`);
      const expired = await t.http.get(`/sessions/${s1}/stream?ticket=${old}`);
      expect(expired.status).toBe(401);
      expect(expired.body.code).toBe('UNAUTHORIZED');
      expect((await t.http.get(`/sessions/${s1}/stream?ticket=x`)).status).toBe(401);
    });

    it('opens one stream for a ticket presented by several requests at once', async () => {
      const s = (await t.http.post('/sessions', {}, token)).body.id;
      const { ticket } = (await ticketFor(s)).body;
      const n = 6;
      // Every request has checked the ticket (valid, unused) before any of them uses it.
      let arrived = 0;
      let all!: () => void;
      const together = new Promise<void>((r) => (all = r));
      const faults = t.app.get(FaultPoints);
      faults.arm('stream.ticket-checked', () => {
        if (++arrived === n) all();
        return together;
      });
      let clients: SseClient[] = [];
      try {
        const url = `${t.baseUrl}/sessions/${s}/stream?ticket=${encodeURIComponent(ticket)}`;
        clients = await Promise.all(Array.from({ length: n }, () => SseClient.open(url, {})));
        expect(arrived).toBe(n);
        expect(clients.map((c) => c.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
      } finally {
        faults.disarm('stream.ticket-checked');
        for (const c of clients) c.close();
      }
    });

    it('issues tickets only to the owner of the session', async () => {
      const s = (await t.http.post('/sessions', {}, token)).body.id;
      const other = (await t.http.register('other')).accessToken;
      const r = await ticketFor(s, other);
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('NOT_FOUND');
      expect((await t.http.post(`/sessions/${s}/stream-tickets`)).status).toBe(401);
    });
  });

  it('ends an open stream when the session is closed', async () => {
    const s = (await t.http.post('/sessions', {}, token)).body.id;
    const c = await SseClient.open(`${t.baseUrl}/sessions/${s}/stream`, {
      authorization: `Bearer ${token}`,
    });
    await new Promise((r) => setTimeout(r, 50));
    expect((await t.http.request('DELETE', `/sessions/${s}`, { token })).status).toBe(204);
    await c.waitFor(() => c.closed, 10_000);
    expect(c.closed).toBe(true);
    expect(c.events().at(-1)?.type).toBe('session_closed');
  });

  it('ends an open stream when its user is disabled', async () => {
    const u = await t.http.register('doomed');
    const s = (await t.http.post('/sessions', {}, u.accessToken)).body.id;
    const ticket = (await t.http.post(`/sessions/${s}/stream-tickets`, undefined, u.accessToken))
      .body.ticket;
    const c = await SseClient.open(`${t.baseUrl}/sessions/${s}/stream?ticket=${ticket}`, {});
    expect(c.status).toBe(200);
    await t.app.get(UsersService).update(u.user.id, { disabled: true });
    await c.waitFor(() => c.closed, 10_000);
    expect(c.closed).toBe(true);
  });

  it('refuses a ticket issued before its user was disabled', async () => {
    const u = await t.http.register('banned');
    const s = (await t.http.post('/sessions', {}, u.accessToken)).body.id;
    const ticket = (await t.http.post(`/sessions/${s}/stream-tickets`, undefined, u.accessToken))
      .body.ticket;
    await t.app.get(UsersService).update(u.user.id, { disabled: true });
    const r = await t.http.get(`/sessions/${s}/stream?ticket=${ticket}`);
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('UNAUTHORIZED');
  });

  it('ends a header-authorized stream when its access token expires', async () => {
    const db = await createTestDatabase(kind);
    const short = await startTestApp(db, { JWT_ACCESS_TTL_S: '2' });
    try {
      const h = new Http(short.baseUrl);
      const u = await h.register('brief');
      const s = (await h.post('/sessions', {}, u.accessToken)).body.id;
      const c = await SseClient.open(`${short.baseUrl}/sessions/${s}/stream`, {
        authorization: `Bearer ${u.accessToken}`,
      });
      expect(c.status).toBe(200);
      await c.waitFor(() => c.closed, 10_000);
      expect(c.closed).toBe(true);
    } finally {
      await short.close();
      await db.drop();
    }
  });
});
