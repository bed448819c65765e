import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { SessionExpiryService } from '../src/sessions/session-expiry.service.js';
import { CloseSessionUseCase } from '../src/sessions/usecases/close-session.usecase.js';
import { describeEachDatabase } from './support/databases.js';
import { lifecycleProblems, storedLog } from './support/lifecycle.js';
import { useTestApp } from './support/use-test-app.js';

/**
 * A transaction that itself ends a run executing here (idle expiry, close) writes the text the
 * run buffered before that end, ahead of the run's closing event: those rows are not fenced.
 */
describeEachDatabase('a transaction ending a run writes its earlier text first', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '2',
    // Streamed text stays buffered until the next append of the session.
    GENERATING_COALESCE_MS: '5000',
    SESSION_SWEEP_INTERVAL_MS: '3600000',
    RUN_STALE_AFTER_MS: '600000',
  });

  let db: Database;

  beforeAll(() => {
    db = t.app.get(Database);
  });

  afterEach(() => t.app.get(FaultPoints).disarm());

  /**
   * Starts a run, holds it before its first chunk, runs `end` up to its fault point `at` (inside
   * its transaction, the session settled and locked), lets the run buffer a chunk, then lets the
   * transaction finish. Returns the session's log and the run's id.
   */
  async function chunkDuringEnd(
    at: 'expiry.claimed' | 'session.closing',
    end: (sessionId: string) => Promise<unknown>,
  ) {
    const token = (await t.http.register('ending')).accessToken;
    const sessionId = (await t.http.post('/sessions', {}, token)).body.id as string;
    const faults = t.app.get(FaultPoints);
    const replying = faults.pause('run.reply-started');
    const sent = await t.http.post(
      `/sessions/${sessionId}/messages`,
      { content: 'count to 200' },
      token,
    );
    expect(sent.status).toBe(202);
    await replying.reached;
    const inside = faults.pause(at);
    const ending = end(sessionId);
    await inside.reached;
    replying.release();
    // Armed in the same tick as the release, before the execution can buffer its text.
    const buffered = faults.pause('run.streamed');
    await buffered.reached;
    inside.release();
    await ending;
    buffered.release();
    return { log: await storedLog(db, sessionId), runId: sent.body.runId as string };
  }

  function expectTextBeforeClosing(log: Awaited<ReturnType<typeof storedLog>>, runId: string) {
    expect(lifecycleProblems(log)).toEqual([]);
    const closing = log.findIndex((e) => e.runId === runId && e.type === 'task_cancelled');
    expect(closing).toBeGreaterThan(0);
    expect(log[closing - 1]).toMatchObject({ type: 'generating', runId });
  }

  it('idle expiry', async () => {
    const { log, runId } = await chunkDuringEnd('expiry.claimed', async (sessionId) => {
      await db.query(
        `UPDATE sessions SET last_activity_at = now() - interval '1 day' WHERE id = $1`,
        [sessionId],
      );
      expect(await t.app.get(SessionExpiryService).sweep()).toBeGreaterThanOrEqual(1);
    });
    expectTextBeforeClosing(log, runId);
    expect(log[log.length - 1]).toMatchObject({ type: 'session_expired' });
  });

  it('close', async () => {
    const { log, runId } = await chunkDuringEnd('session.closing', (sessionId) =>
      t.app.get(CloseSessionUseCase).execute({ sessionId, by: 'admin' }),
    );
    expectTextBeforeClosing(log, runId);
    expect(log[log.length - 1]).toMatchObject({ type: 'session_closed' });
  });
});
