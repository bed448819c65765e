import { randomUUID } from 'node:crypto';
import { Database } from '../src/database/database.js';
import { HistoryService } from '../src/history/history.service.js';
import { describeEachDatabase } from './support/databases.js';
import { useTestApp } from './support/use-test-app.js';

describeEachDatabase('sessions REST', (kind) => {
  const t = useTestApp(kind);

  let alice: { accessToken: string };
  let bob: { accessToken: string };

  beforeAll(async () => {
    alice = await t.http.register('alice');
    bob = await t.http.register('bob');
  });

  it('creates a session and returns it with an empty state', async () => {
    const created = await t.http.post('/sessions', { title: '  Trip  ' }, alice.accessToken);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      title: 'Trip',
      status: 'active',
      createdAt: expect.any(String),
      lastActivityAt: expect.any(String),
      lastSeq: 0,
    });
    const got = await t.http.get(`/sessions/${created.body.id}`, alice.accessToken);
    expect(got.status).toBe(200);
    expect(got.body.state).toEqual({
      run: null,
      pendingInteraction: null,
      headIntentId: null,
      queue: [],
    });
  });

  it('validates input: unknown fields, bad title, bad paging', async () => {
    expect((await t.http.post('/sessions', { title: '' }, alice.accessToken)).status).toBe(400);
    const extra = await t.http.post('/sessions', { title: 'x', owner: 'me' }, alice.accessToken);
    expect(extra.body.details).toEqual([
      { field: 'owner', problems: ['owner is not an allowed field'] },
    ]);
    expect((await t.http.get('/sessions?limit=0', alice.accessToken)).status).toBe(400);
    expect((await t.http.get('/sessions?status=open', alice.accessToken)).status).toBe(400);
    expect((await t.http.get('/sessions?cursor=%%%', alice.accessToken)).status).toBe(400);
  });

  it('lists own sessions newest activity first, with cursor pages', async () => {
    const user = await t.http.register('lister');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await t.http.post('/sessions', { title: `s${i}` }, user.accessToken)).body.id);
    // Activity on the oldest one moves it to the front.
    await t.app.get(HistoryService).append(ids[0], [{ type: 'response', data: { content: 'hi' } }]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await t.http.get(
        `/sessions?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        user.accessToken,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((s: { id: string }) => s.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([ids[0], ids[4], ids[3], ids[2], ids[1]]);
  });

  it('never shows one user another user’s session: NOT_FOUND everywhere', async () => {
    const s = (await t.http.post('/sessions', {}, alice.accessToken)).body.id;
    for (const path of [`/sessions/${s}`, `/sessions/${s}/events`, `/sessions/${s}/stream`]) {
      const r = await t.http.get(path, bob.accessToken);
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('NOT_FOUND');
    }
    expect(
      (await t.http.request('DELETE', `/sessions/${s}`, { token: bob.accessToken })).status,
    ).toBe(404);
    const missing = await t.http.get(`/sessions/${randomUUID()}`, bob.accessToken);
    const malformed = await t.http.get('/sessions/not-a-uuid', bob.accessToken);
    expect(missing.body).toEqual((await t.http.get(`/sessions/${s}`, bob.accessToken)).body);
    expect(malformed.status).toBe(404);
    const list = await t.http.get('/sessions', bob.accessToken);
    expect(list.body.items.map((x: { id: string }) => x.id)).not.toContain(s);
  });

  it('pages the event log after a seq, at most 1000 at a time', async () => {
    const s = (await t.http.post('/sessions', {}, alice.accessToken)).body.id;
    await t.app.get(HistoryService).append(
      s,
      Array.from({ length: 7 }, (_, i) => ({
        type: 'response' as const,
        data: { content: `m${i}` },
      })),
    );
    const first = await t.http.get(`/sessions/${s}/events?limit=3`, alice.accessToken);
    expect(first.body.items.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    expect(first.body.hasMore).toBe(true);
    const rest = await t.http.get(`/sessions/${s}/events?afterSeq=3&limit=10`, alice.accessToken);
    expect(rest.body.items.map((e: { seq: number }) => e.seq)).toEqual([4, 5, 6, 7]);
    expect(rest.body.hasMore).toBe(false);
    expect(rest.body.items[0]).toEqual({
      sessionId: s,
      seq: 4,
      type: 'response',
      createdAt: expect.any(String),
      data: { content: 'm3' },
    });
    expect((await t.http.get(`/sessions/${s}/events?limit=1001`, alice.accessToken)).status).toBe(
      400,
    );
    expect((await t.http.get(`/sessions/${s}/events?afterSeq=-1`, alice.accessToken)).status).toBe(
      400,
    );
  });

  it('a replayed event is the event as delivered live, createdAt to the millisecond', async () => {
    const s = (await t.http.post('/sessions', {}, alice.accessToken)).body.id;
    const runId = randomUUID();
    const live = [
      ...(await t.app.get(HistoryService).append(s, [
        { type: 'response', data: { content: 'a' } },
        { type: 'task_started', runId, intentId: randomUUID(), data: { attempt: 1 } },
      ])),
      // A few appends apart, so the timestamps carry different sub-millisecond digits.
      ...(await t.app
        .get(HistoryService)
        .append(s, [{ type: 'response', data: { content: 'b' } }])),
      ...(await t.app
        .get(HistoryService)
        .append(s, [{ type: 'response', data: { content: 'c' } }])),
    ];
    const replayed = await t.http.get(`/sessions/${s}/events`, alice.accessToken);
    expect(replayed.body.items).toEqual(live);
    const rows = await t.app.get(Database).query<{
      created_at: Date;
    }>('SELECT created_at FROM chat_history WHERE session_id = $1 ORDER BY seq', [s]);
    expect(replayed.body.items.map((e: { createdAt: string }) => e.createdAt)).toEqual(
      rows.map((r) => new Date(r.created_at).toISOString()),
    );
  });

  it('closes a session: history kept, session_closed written, closing twice is harmless', async () => {
    const s = (await t.http.post('/sessions', {}, alice.accessToken)).body.id;
    const del = await t.http.request('DELETE', `/sessions/${s}`, { token: alice.accessToken });
    expect(del.status).toBe(204);
    const got = await t.http.get(`/sessions/${s}`, alice.accessToken);
    expect(got.body.status).toBe('closed');
    const events = await t.http.get(`/sessions/${s}/events`, alice.accessToken);
    expect(events.body.items.map((e: { type: string; data: unknown }) => [e.type, e.data])).toEqual(
      [['session_closed', { by: 'user' }]],
    );
    expect(
      (await t.http.request('DELETE', `/sessions/${s}`, { token: alice.accessToken })).status,
    ).toBe(204);
    expect((await t.http.get(`/sessions/${s}/events`, alice.accessToken)).body.items).toHaveLength(
      1,
    );
    const closedList = await t.http.get('/sessions?status=closed', alice.accessToken);
    expect(closedList.body.items.map((x: { id: string }) => x.id)).toContain(s);
  });
});
