import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Database } from '../src/database/database.js';
import { HistoryService } from '../src/history/history.service.js';
import { describeEachDatabase } from './support/databases.js';
import { useTestApp } from './support/use-test-app.js';

/**
 * A send to another user's session must look exactly like a send to a session that does not
 * exist, and must not touch that session: not flush what it has buffered, not lock its row.
 */
describeEachDatabase('a send to a stranger’s session', (kind) => {
  // Streamed text stays buffered for 5 s unless something flushes it early.
  const t = useTestApp(kind, { GENERATING_COALESCE_MS: '5000' });

  const send = (sessionId: string, token: string, clientMessageId = randomUUID()) =>
    t.http.post(`/sessions/${sessionId}/messages`, { content: 'hi', clientMessageId }, token);

  const stored = async (sessionId: string): Promise<number> => {
    const rows = await t.app
      .get(Database)
      .query<{ n: number }>(`SELECT count(*)::int AS n FROM chat_history WHERE session_id = $1`, [
        sessionId,
      ]);
    return rows[0].n;
  };

  it('gets what an unknown session gets, and leaves the owner’s buffered text alone', async () => {
    const alice = await t.http.register('alice');
    const bob = await t.http.register('bob');
    const s = (await t.http.post('/sessions', {}, alice.accessToken)).body.id as string;
    t.app.get(HistoryService).appendDelta(s, {}, 'half a sentence');
    const before = await stored(s);

    const stranger = await send(s, bob.accessToken);
    const unknown = await send(randomUUID(), bob.accessToken);
    expect(stranger.status).toBe(404);
    expect(stranger.body).toEqual(unknown.body);
    expect(stranger.body.code).toBe('NOT_FOUND');
    // Bob's send did not write alice's buffered text early; her own send does (it settles first).
    expect(await stored(s)).toBe(before);
    expect((await send(s, alice.accessToken)).status).toBe(202);
    const log = await t.http.get(`/sessions/${s}/events`, alice.accessToken);
    expect(log.body.items.slice(0, 2).map((e: { type: string }) => e.type)).toEqual([
      'generating',
      'user_message',
    ]);
  });

  if (kind === 'postgres') {
    it('does not wait for (or take) the lock of the owner’s session row', async () => {
      const alice = await t.http.register('alice');
      const bob = await t.http.register('bob');
      const s = (await t.http.post('/sessions', {}, alice.accessToken)).body.id as string;
      const holder = new pg.Client({ connectionString: t.database.url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [s]);
        // While the owner's row stays locked, a stranger's answer must not depend on it.
        const stranger = await send(s, bob.accessToken);
        expect(stranger.status).toBe(404);
        expect(stranger.body.code).toBe('NOT_FOUND');
      } finally {
        await holder.query('ROLLBACK');
        await holder.end();
      }
    });
  }
});
