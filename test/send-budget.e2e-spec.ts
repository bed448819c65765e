import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { MemoryThrottlerStorage } from '../src/quotas/memory-throttler.storage.js';
import { RATE_LIMIT_STORAGE } from '../src/quotas/rate-limit.service.js';
import { describeEachDatabase } from './support/databases.js';
import { useTestApp } from './support/use-test-app.js';

/** Only a send that starts a run draws from RATE_LIMIT_MESSAGES_PER_MINUTE. */
describeEachDatabase('the message budget', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '20',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '3',
    MAX_CONCURRENT_RUNS_PER_USER: '2',
  });

  it('is not used up by sends refused for the cap, busy, closed or invalid content', async () => {
    const u = await t.http.register('budget');
    const token = u.accessToken;
    const session = async (): Promise<string> =>
      (await t.http.post('/sessions', {}, token)).body.id;
    let n = 0;
    const send = (id: string, content = 'count to 10000') =>
      t.http.post(`/sessions/${id}/messages`, { content, clientMessageId: `m${n++}` }, token);
    const [a, b, c, d, closed] = [
      await session(),
      await session(),
      await session(),
      await session(),
      await session(),
    ];
    expect((await send(a)).status).toBe(202);
    expect((await send(b)).status).toBe(202);
    // At MAX_CONCURRENT_RUNS_PER_USER: retries are refused for the cap, never RATE_LIMITED.
    for (let i = 0; i < 5; i++) expect((await send(c)).body.code).toBe('QUOTA_EXCEEDED');
    for (let i = 0; i < 3; i++) expect((await send(a)).body.code).toBe('SESSION_BUSY');
    expect((await t.http.request('DELETE', `/sessions/${closed}`, { token })).status).toBe(204);
    for (let i = 0; i < 3; i++) expect((await send(closed)).body.code).toBe('SESSION_CLOSED');
    for (let i = 0; i < 3; i++)
      expect((await send(c, '\u0000')).body.code).toBe('VALIDATION_FAILED');
    expect((await t.http.post(`/sessions/${a}/cancel`, undefined, token)).status).toBe(202);
    // The third send of the minute is accepted; the fourth is over the budget.
    expect((await send(c)).status).toBe(202);
    expect((await t.http.post(`/sessions/${b}/cancel`, undefined, token)).status).toBe(202);
    const over = await send(d);
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('RATE_LIMITED');
    expect(over.body.retryAfterMs).toBeGreaterThan(0);
    await t.http.post(`/sessions/${c}/cancel`, undefined, token);
  });

  it('is not used up by sends refused for the daily token quota', async () => {
    const u = await t.http.register('quota');
    const token = u.accessToken;
    const id = (await t.http.post('/sessions', {}, token)).body.id;
    const db = t.app.get(Database);
    // Today's tokens beyond any quota.
    await db.query(
      `INSERT INTO usage_ledger (user_id, day, prompt_tokens) VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 1000000000)`,
      [u.user.id],
    );
    let n = 0;
    const send = () =>
      t.http.post(
        `/sessions/${id}/messages`,
        { content: 'count to 10000', clientMessageId: `q${n++}` },
        token,
      );
    for (let i = 0; i < 5; i++) expect((await send()).body.code).toBe('QUOTA_EXCEEDED');
    await db.query(`DELETE FROM usage_ledger WHERE user_id = $1`, [u.user.id]);
    // The whole budget is left: three sends (each in its own session, cancelled), then the limit.
    const fresh = async (): Promise<string> => (await t.http.post('/sessions', {}, token)).body.id;
    const sendIn = (sid: string) =>
      t.http.post(
        `/sessions/${sid}/messages`,
        { content: 'count to 10000', clientMessageId: `q${n++}` },
        token,
      );
    expect((await send()).status).toBe(202);
    expect((await t.http.post(`/sessions/${id}/cancel`, undefined, token)).status).toBe(202);
    for (let i = 0; i < 2; i++) {
      const sid = await fresh();
      expect((await sendIn(sid)).status).toBe(202);
      expect((await t.http.post(`/sessions/${sid}/cancel`, undefined, token)).status).toBe(202);
    }
    expect((await sendIn(await fresh())).body.code).toBe('RATE_LIMITED');
  });

  it('a RATE_LIMITED send leaves nothing behind, later ones are refused before any lock, and its clientMessageId is accepted after the window', async () => {
    const u = await t.http.register('flood');
    const token = u.accessToken;
    const id = (await t.http.post('/sessions', {}, token)).body.id;
    const db = t.app.get(Database);
    const send = (clientMessageId: string, sid = id) =>
      t.http.post(
        `/sessions/${sid}/messages`,
        { content: 'count to 10000', clientMessageId },
        token,
      );
    // The budget (3) used in other sessions, each run cancelled.
    for (let i = 0; i < 3; i++) {
      const sid = (await t.http.post('/sessions', {}, token)).body.id;
      expect((await send(`ok${i}`, sid)).status).toBe(202);
      expect((await t.http.post(`/sessions/${sid}/cancel`, undefined, token)).status).toBe(202);
    }
    const count = async (): Promise<Record<string, number>> => {
      const [r] = await db.query<Record<string, string>>(
        `SELECT (SELECT count(*) FROM intents WHERE session_id = $1) AS intents,
                (SELECT count(*) FROM runs WHERE session_id = $1) AS runs,
                (SELECT count(*) FROM client_messages WHERE session_id = $1) AS client_messages,
                (SELECT count(*) FROM chat_history
                  WHERE session_id = $1 AND message_type = 'user_message') AS user_messages`,
        [id],
      );
      return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
    };
    const before = await count();
    // The send that crosses the budget runs its checks and writes, then is refused: rolled back.
    const over = await send('late');
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('RATE_LIMITED');
    expect(await count()).toEqual(before);
    // Blocked for the window: the next sends are refused before the session row is locked.
    let locked = 0;
    const faults = t.app.get(FaultPoints);
    faults.arm('send.locked', () => void locked++);
    try {
      for (let i = 0; i < 3; i++) expect((await send(`flood${i}`)).body.code).toBe('RATE_LIMITED');
    } finally {
      faults.arm('send.locked', () => undefined);
    }
    expect(locked).toBe(0);
    expect(await count()).toEqual(before);
    // A minute later (the storage's clock moved on, no sleep) the same clientMessageId is new.
    const storage = t.app.get<MemoryThrottlerStorage>(RATE_LIMIT_STORAGE);
    expect(storage).toBeInstanceOf(MemoryThrottlerStorage);
    storage.now = () => Date.now() + 61_000;
    try {
      const later = await send('late');
      expect(later.status).toBe(202);
      expect(later.body.seq).toBeGreaterThan(0);
      await t.http.post(`/sessions/${id}/cancel`, undefined, token);
    } finally {
      storage.now = Date.now;
    }
  });

  it('a resend of an accepted clientMessageId gets its first ack while the user is blocked', async () => {
    const u = await t.http.register('resend');
    const token = u.accessToken;
    const id = (await t.http.post('/sessions', {}, token)).body.id;
    const send = (clientMessageId: string, sid = id) =>
      t.http.post(`/sessions/${sid}/messages`, { content: 'hello', clientMessageId }, token);
    const first = await send('accepted');
    expect(first.status).toBe(202);
    await t.http.post(`/sessions/${id}/cancel`, undefined, token);
    // The rest of the budget (3) used in other sessions (each run cancelled, for the runs cap),
    // then one more send crosses it.
    for (let i = 0; i < 2; i++) {
      const sid = (await t.http.post('/sessions', {}, token)).body.id;
      expect((await send(`more${i}`, sid)).status).toBe(202);
      await t.http.post(`/sessions/${sid}/cancel`, undefined, token);
    }
    const sid = (await t.http.post('/sessions', {}, token)).body.id;
    expect((await send('over', sid)).body.code).toBe('RATE_LIMITED');
    // Blocked now: a new send is refused, but the resend of the accepted one (its ack was lost,
    // say) is answered with the first ack, as the contract promises for any resend.
    expect((await send('new-while-blocked')).body.code).toBe('RATE_LIMITED');
    const again = await send('accepted');
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
  });
});
