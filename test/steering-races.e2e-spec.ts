import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { describeEachDatabase } from './support/databases.js';
import { queueProblems, settled, storedLog, waitFor } from './support/lifecycle.js';
import { useTestApp } from './support/use-test-app.js';

/**
 * The edges of steering a review found: the lock order of a run ending with a queue, a queued
 * intent's start that something ends at once, a disabled user's queue, a head left on messages
 * taken back, the retry budget after a regenerate, and sessions logged before branches.
 */
describeEachDatabase('steering at its edges', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '5',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    ADMIN_EMAIL: 'ops@example.com',
    ADMIN_PASSWORD: 'opspassword',
  });
  const post = (token: string, sessionId: string, body: object) =>
    t.http.post(`/sessions/${sessionId}/messages`, body, token);
  const newSession = async (token: string): Promise<string> =>
    (await t.http.post('/sessions', {}, token)).body.id as string;
  const db = (): Database => t.get(Database);
  /** Resolves once some transaction waits on a lock (PostgreSQL only). */
  const someoneWaitsOnALock = () =>
    waitFor(async () => {
      const rows = await db().query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return Number(rows[0].n) > 0;
    });
  const responseOf = async (sessionId: string, intentId: string): Promise<string> => {
    const log = await waitFor(async () => {
      const l = await storedLog(db(), sessionId);
      return l.some((e) => e.intentId === intentId && e.type === 'task_completed') && l;
    });
    return log.filter((e) => e.type === 'response' && e.intentId === intentId).at(-1)!.data
      .content as string;
  };

  if (kind === 'postgres') {
    it('a run ending with a queue (user row, then ledger) and a send of the same user elsewhere: no deadlock', async () => {
      const u = await t.user();
      const [s1, s2] = [await newSession(u.token), await newSession(u.token)];
      const gate = t.get(FaultPoints).pause('queue.starting');
      const a = await post(u.token, s1, { content: 'count to 20' });
      expect(
        (await post(u.token, s1, { content: 'what is 1 + 1', ifBusy: 'enqueue' })).status,
      ).toBe(202);
      await gate.reached;
      const sending = post(u.token, s2, { content: 'what is 2 + 2' });
      await someoneWaitsOnALock();
      gate.release();
      expect((await sending).status).toBe(202);
      const log = await settled(db(), s1);
      const ends = log.filter((e) => e.intentId === a.body.intentId && e.type.startsWith('task_'));
      expect(ends.map((e) => e.type)).toEqual(['task_started', 'task_completed']);
    });

    it('an interrupting send that gets the lock right after a queued intent started: the log says it left the queue', async () => {
      const u = await t.user();
      const s = await newSession(u.token);
      const gate = t.get(FaultPoints).pause('queue.starting');
      await post(u.token, s, { content: 'count to 20' });
      const q = await post(u.token, s, { content: 'what is 1 + 1', ifBusy: 'enqueue' });
      await gate.reached;
      const sending = post(u.token, s, { content: 'what is 5 + 5', ifBusy: 'interrupt' });
      await someoneWaitsOnALock();
      gate.release();
      expect((await sending).status).toBe(202);
      const log = await settled(db(), s);
      expect(queueProblems(log)).toEqual([]);
      const ofQ = log.filter((e) => e.intentId === q.body.intentId).map((e) => e.type);
      expect(ofQ).toEqual(['user_message', 'task_started', 'task_cancelled']);
    });
  }

  it('a disabled user’s queued messages do not start', async () => {
    const admin = (
      await t.http.post('/auth/login', { email: 'ops@example.com', password: 'opspassword' })
    ).body.accessToken as string;
    const u = await t.user();
    const s = await newSession(u.token);
    await post(u.token, s, { content: 'count to 400' });
    const q = await post(u.token, s, { content: 'count to 300', ifBusy: 'enqueue' });
    expect(q.body.queued).toBe(true);
    expect((await t.http.patch(`/admin/users/${u.userId}`, { disabled: true }, admin)).status).toBe(
      200,
    );
    const log = await settled(db(), s);
    expect(log.filter((e) => e.intentId === q.body.intentId).map((e) => e.type)).toEqual([
      'user_message',
    ]);
  });

  it('taking back queued messages moves a head among them back to what is kept', async () => {
    const u = await t.user();
    const s = await newSession(u.token);
    const a = await post(u.token, s, { content: 'count to 400' });
    const q1 = await post(u.token, s, { content: 'what is 1 + 1', ifBusy: 'enqueue' });
    const q2 = await post(u.token, s, { content: 'what is 2 + 2', ifBusy: 'enqueue' });
    const head = async () => (await t.http.get(`/sessions/${s}`, u.token)).body.state.headIntentId;
    expect(await head()).toBe(q2.body.intentId);
    const take = (intentId: string) =>
      t.http.request('DELETE', `/sessions/${s}/queue/${intentId}`, { token: u.token });
    expect((await take(q1.body.intentId)).status).toBe(204);
    expect(await head()).toBe(q2.body.intentId);
    expect((await take(q2.body.intentId)).status).toBe(204);
    expect(await head()).toBe(a.body.intentId);
    const log = await storedLog(db(), s);
    expect(log.filter((e) => e.type === 'head_changed').map((e) => e.data)).toEqual([
      { intentId: a.body.intentId },
    ]);
    const onTakenBack = await post(u.token, s, {
      content: 'x',
      parentIntentId: q1.body.intentId,
      ifBusy: 'enqueue',
    });
    expect(onTakenBack.status).toBe(409);
    expect(onTakenBack.body.code).toBe('CONFLICT');
  });

  it('a session logged before branches: the next message follows its newest intent', async () => {
    const u = await t.user();
    const s = await newSession(u.token);
    const a = await post(u.token, s, { content: 'what is 2 + 2' });
    await responseOf(s, a.body.intentId);
    // As the migration found such a session: no parent in the log, no links, no head.
    await db().query(
      `UPDATE chat_history SET content = content - 'parentIntentId' WHERE session_id = $1`,
      [s],
    );
    await db().query(`UPDATE intents SET parent_intent_id = NULL WHERE session_id = $1`, [s]);
    await db().query(`UPDATE sessions SET head_intent_id = NULL WHERE id = $1`, [s]);
    const r = await post(u.token, s, { content: 'recap' });
    expect(await responseOf(s, r.body.intentId)).toContain('what is 2 + 2');
  });
});

describeEachDatabase('the retry budget after a regenerate', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '2',
    AGENT_FAIL_FIRST_ATTEMPTS: '3',
    MAX_RETRIES: '1',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  });

  it('counts retries from the regenerate: its failure offers MAX_RETRIES again', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const sent = await c.send('what is 6 * 7');
    const first = await c.end();
    expect(first.data).toMatchObject({ attempt: 1, canRetry: true });
    expect((await c.respond(first.data.interactionId, { retry: true })).ok).toBe(true);
    const second = await c.end(first.seq);
    expect(second.data).toMatchObject({ attempt: 2, canRetry: false });
    const again = await c.socket.emitWithAck('intent:regenerate', {
      sessionId: c.sessionId,
      intentId: sent.intentId,
    });
    expect(again.ok).toBe(true);
    const third = await c.end(second.seq);
    expect(third.data).toMatchObject({ attempt: 3, canRetry: true });
    expect((await c.respond(third.data.interactionId, { retry: true })).ok).toBe(true);
    expect((await c.end(third.seq)).type).toBe('task_completed');
  });
});
