import { HistoryService } from '../src/history/history.service.js';
import { describeEachDatabase } from './support/databases.js';
import { SseClient } from './support/sse.js';
import { useTestApp } from './support/use-test-app.js';

/** UUIDs are case-insensitive: an id in a path names the same thing in any case. */
describeEachDatabase('ids in paths, and stream tickets', (kind) => {
  const t = useTestApp(kind, { BUILTIN_TOKEN_DELAY_MS: '1' });

  let token: string;

  beforeAll(async () => {
    token = (await t.http.register('path-ids')).accessToken;
  });

  const session = async (): Promise<string> => {
    const s = (await t.http.post('/sessions', {}, token)).body.id as string;
    await t.app.get(HistoryService).append(s, [{ type: 'response', data: { content: 'hi' } }]);
    return s;
  };
  const ticketFor = async (path: string): Promise<string> => {
    const r = await t.http.post(`/sessions/${path}/stream-tickets`, undefined, token);
    expect(r.status).toBe(201);
    return r.body.ticket;
  };
  /** Opens the stream by ticket and reads its replay; the status, and the seqs it got. */
  const streamByTicket = async (
    path: string,
    ticket: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; seqs: number[]; sessionIds: string[] }> => {
    const c = await SseClient.open(
      `${t.baseUrl}/sessions/${path}/stream?ticket=${encodeURIComponent(ticket)}`,
      headers,
    );
    try {
      if (c.status === 200) await c.waitFor(() => c.events().length >= 1);
      return {
        status: c.status,
        seqs: c.events().map((e) => e.seq),
        sessionIds: c.events().map((e: any) => e.sessionId),
      };
    } finally {
      c.close();
    }
  };

  it('a ticket opens the stream at the upper-case spelling of its session id', async () => {
    const s = await session();
    const ticket = await ticketFor(s);
    expect(await streamByTicket(s.toUpperCase(), ticket)).toEqual({
      status: 200,
      seqs: [1],
      sessionIds: [s],
    });
    // Used now: single use.
    expect((await streamByTicket(s, ticket)).status).toBe(401);
  });

  it('a ticket refused for another session or a bad Last-Event-ID is not used up', async () => {
    const s = await session();
    const other = await session();
    const ticket = await ticketFor(s);
    expect((await streamByTicket(other, ticket)).status).toBe(401);
    expect((await streamByTicket(s, ticket, { 'last-event-id': 'x' })).status).toBe(400);
    expect((await streamByTicket(s, ticket)).status).toBe(200);
  });

  it('upper-case session ids in paths name the same session', async () => {
    const s = await session();
    const S = s.toUpperCase();
    const got = await t.http.get(`/sessions/${S}`, token);
    expect(got.status).toBe(200);
    expect(got.body.id).toBe(s);
    const events = await t.http.get(`/sessions/${S}/events`, token);
    expect(events.body.items.map((e: any) => e.sessionId)).toEqual([s]);
    // A ticket issued at one spelling opens the stream at the other.
    expect((await streamByTicket(s, await ticketFor(S))).status).toBe(200);
    const sent = await t.http.post(
      `/sessions/${S}/messages`,
      { content: 'hello', clientMessageId: 'upper' },
      token,
    );
    expect(sent.status).toBe(202);
    const renamed = await t.http.patch(`/sessions/${S}`, { title: 'Upper' }, token);
    expect(renamed.body).toMatchObject({ id: s, title: 'Upper' });
    expect((await t.http.request('DELETE', `/sessions/${S}`, { token })).status).toBe(204);
    expect((await t.http.get(`/sessions/${s}`, token)).body.status).toBe('closed');
  });
});
