import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { SessionExpiryService } from '../src/sessions/session-expiry.service.js';
import { describeEachDatabase } from './support/databases.js';
import { lifecycleProblems, settled, storedLog, waitFor } from './support/lifecycle.js';
import { type RestSession, sessionCalls } from './support/rest-session.js';
import { useTestApp } from './support/use-test-app.js';

/**
 * A close racing a cancel or an answer, held open with fault points: an action whose session was
 * closed before it decided gets SESSION_CLOSED, never CONFLICT or INTERACTION_RESOLVED. And a
 * session shows one dialog at a time, also after a resume. Each test failed before its fix.
 */
describeEachDatabase('a close racing an action; one dialog at a time', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '2',
    MAX_RETRIES: '2',
    RUN_STALE_AFTER_MS: '60000',
    SESSION_IDLE_TIMEOUT_MS: '60000',
    SESSION_SWEEP_INTERVAL_MS: '3600000',
  });

  let db: Database;
  let faults: FaultPoints;
  // The config is read-only to the app; tests flip the failing attempts between runs.
  const agent = (): { failFirstAttempts: number } => t.config.agent;

  beforeAll(() => {
    db = t.app.get(Database);
    faults = t.app.get(FaultPoints);
  });

  afterEach(() => {
    faults.disarm();
    agent().failFirstAttempts = 0;
  });

  type S = RestSession;
  const newSession = (): Promise<S> => t.session('closerace');
  const { send, close, answer } = sessionCalls(t);
  const asked = (s: S, type: string, after = 0) =>
    waitFor(async () =>
      (await storedLog(db, s.sessionId)).find((e) => e.seq > after && e.type === type),
    );
  const openInteractions = (sessionId: string) =>
    db.query<{ id: string; kind: string }>(
      'SELECT id, kind FROM interactions WHERE session_id = $1 AND resolved_at IS NULL',
      [sessionId],
    );
  const intents = (sessionId: string) =>
    db.query<{ id: string; status: string }>(
      'SELECT id, status FROM intents WHERE session_id = $1 ORDER BY created_at',
      [sessionId],
    );

  it('a repeated close of a session whose log already holds session_closed writes no second one', async () => {
    const s = await newSession();
    expect((await send(s, 'hello')).status).toBe(202);
    await asked(s, 'task_completed');
    expect((await close(s)).status).toBe(204);
    // What an older version could leave: an event after session_closed (a late task_failed, say).
    const closedAt = (await asked(s, 'session_closed')).seq;
    await db.query(
      `INSERT INTO chat_history (session_id, seq, user_id, message_type, content, created_at)
       SELECT id, last_seq + 1, user_id, 'thinking', '{"step":"response_generation","status":"failed"}'::jsonb, now()
         FROM sessions WHERE id = $1`,
      [s.sessionId],
    );
    await db.query(`UPDATE sessions SET last_seq = last_seq + 1 WHERE id = $1`, [s.sessionId]);
    expect((await close(s)).status).toBe(204);
    const log = await storedLog(db, s.sessionId);
    expect(log.filter((e) => e.type === 'session_closed').map((e) => e.seq)).toEqual([closedAt]);
  });

  it('a cancel whose session is closed before it ends the run as stored gets SESSION_CLOSED, not CONFLICT', async () => {
    const s = await newSession();
    // The run is committed but not launched: the cancel finds no execution and goes to the store.
    const launch = faults.pause('run.before-launch');
    const stored = faults.pause('cancel.not-live');
    try {
      const sent = send(s, 'count to 50');
      await launch.reached;
      const cancel = t.http.post(`/sessions/${s.sessionId}/cancel`, {}, s.token);
      await stored.reached;
      // The close commits in the window: it ends the run itself.
      expect((await close(s)).status).toBe(204);
      stored.release();
      const r = await cancel;
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('SESSION_CLOSED');
      launch.release();
      expect((await sent).status).toBe(202);
    } finally {
      stored.release();
      launch.release();
    }
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(log.slice(-2).map((e) => e.type)).toEqual(['task_cancelled', 'session_closed']);
  });

  it('an answer whose session is closed after its first check gets SESSION_CLOSED, not INTERACTION_RESOLVED', async () => {
    const s = await newSession();
    expect((await send(s, 'search replay')).status).toBe(202);
    const question = await asked(s, 'request_confirmation');
    const checked = faults.pause('answer.checked');
    try {
      const answering = answer(s, question.data.interactionId as string, { approved: true });
      await checked.reached;
      // The close resolves the question (`cancelled`) in its transaction, in the window.
      expect((await close(s)).status).toBe(204);
      checked.release();
      const r = await answering;
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('SESSION_CLOSED');
    } finally {
      checked.release();
    }
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(log.at(-1)?.type).toBe('session_closed');
  });

  it('a resume declines the other intent’s open retry offer (its intent failed): one dialog at a time', async () => {
    const s = await newSession();
    // Intent A: abandoned by idle expiry while it waits on a confirmation.
    expect((await send(s, 'search replay')).status).toBe(202);
    await asked(s, 'request_confirmation');
    await db.query(
      `UPDATE sessions SET last_activity_at = now() - interval '2 minutes' WHERE id = $1`,
      [s.sessionId],
    );
    expect(await t.app.get(SessionExpiryService).sweep()).toBe(1);
    // Intent B fails with a retry offered.
    agent().failFirstAttempts = 1;
    expect((await send(s, 'hello')).status).toBe(202);
    const offerB = (await asked(s, 'task_failed')).data.interactionId as string;
    agent().failFirstAttempts = 0;
    const [a, b] = await intents(s.sessionId);
    expect([a.status, b.status]).toEqual(['abandoned', 'active']);
    const at = (await storedLog(db, s.sessionId)).at(-1)!.seq;
    const resumed = await t.http.post(
      `/sessions/${s.sessionId}/intents/${a.id}/resume`,
      {},
      s.token,
    );
    expect(resumed.status).toBe(202);
    // A's new run asks its confirmation; B's offer was declined by the resume, before A's run.
    const question = await asked(s, 'request_confirmation', at);
    expect((await openInteractions(s.sessionId)).map((i) => i.id)).toEqual([
      question.data.interactionId,
    ]);
    expect((await intents(s.sessionId)).map((i) => i.status)).toEqual(['active', 'failed']);
    const after = (await storedLog(db, s.sessionId)).filter((e) => e.seq > at);
    const declined = after.findIndex(
      (e) => e.type === 'interaction_resolved' && e.data.interactionId === offerB,
    );
    expect(after[declined]?.data.outcome).toBe('no_retry');
    expect(declined).toBeLessThan(after.findIndex((e) => e.type === 'task_started'));
    const late = await answer(s, offerB, { retry: true });
    expect(late.body.code).toBe('INTERACTION_RESOLVED');
    expect(
      (await answer(s, question.data.interactionId as string, { approved: false })).status,
    ).toBe(200);
    expect(lifecycleProblems(await settled(db, s.sessionId))).toEqual([]);
  });
});
