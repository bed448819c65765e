import { LiveRuns } from '../src/runs/live-runs.js';
import { FaultPoints } from '../src/common/fault-points.js';
import { APP_CONFIG } from '../src/config/app-config.js';
import { Database } from '../src/database/database.js';
import { InteractionTimers } from '../src/runs/interaction-timers.js';
import { RunLifecycle } from '../src/runs/run-lifecycle.service.js';
import { HistoryService } from '../src/history/history.service.js';
import { RunControlService } from '../src/runs/run-control.service.js';
import { SessionExpiryService } from '../src/sessions/session-expiry.service.js';
import { describeEachDatabase } from './support/databases.js';
import { lifecycleProblems, settled, storedLog, waitFor } from './support/lifecycle.js';
import { useTestApp } from './support/use-test-app.js';

/**
 * Each race of the run lifecycle replayed at a fault point (never a timing guess). Every test
 * here failed on the code before the lifecycle module existed.
 */
describeEachDatabase('run lifecycle races (one node)', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '2',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '3',
    RUN_STALE_AFTER_MS: '2000',
    // Long, so only a session a test makes idle (by moving its last activity back) expires.
    SESSION_IDLE_TIMEOUT_MS: '60000',
    SESSION_SWEEP_INTERVAL_MS: '3600000',
  });

  let db: Database;
  let faults: FaultPoints;

  beforeAll(() => {
    db = t.app.get(Database);
    faults = t.app.get(FaultPoints);
  });

  afterEach(() => {
    faults.disarm();
  });

  const newSession = () => t.session('race');

  const send = (s: { token: string; sessionId: string }, content: string) =>
    t.http.post(`/sessions/${s.sessionId}/messages`, { content }, s.token);

  it('idle expiry and a new send: the new run is not cancelled as expired', async () => {
    const s = await newSession();
    expect((await send(s, 'hello')).status).toBe(202);
    await settled(db, s.sessionId);
    await db.query(
      `UPDATE sessions SET last_activity_at = now() - interval '2 minutes' WHERE id = $1`,
      [s.sessionId],
    );
    const gate = faults.pause('expiry.claimed');
    const sweeping = t.app.get(SessionExpiryService).sweep();
    await gate.reached;
    const sending = send(s, 'search replay');
    // Room for the send to slip in while the expiry is paused (the bug); a correct send waits
    // for the session lock instead, so this bounded wait then just ends.
    // (On PGlite the probe itself waits for the paused transaction's connection: hence the race.)
    await Promise.race([
      waitFor(async () => {
        const runs = await db.query('SELECT 1 FROM runs WHERE session_id = $1', [s.sessionId]);
        return runs.length === 2;
      }, 1500).catch(() => undefined),
      new Promise((r) => setTimeout(r, 1500)),
    ]);
    gate.release();
    expect(await sweeping).toBe(1);
    const sent = await sending;
    expect(sent.status).toBe(202);
    // The new run is waiting on its question, not cancelled as expired.
    const asked = await waitFor(async () => {
      const log = await storedLog(db, s.sessionId);
      return log.find((e) => e.runId === sent.body.runId && e.type === 'request_confirmation');
    });
    expect(asked).toBeDefined();
    const [run] = await db.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [
      sent.body.runId,
    ]);
    expect(run.status).toBe('awaiting_input');
    const log = await storedLog(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(log.filter((e) => e.type === 'session_expired')).toHaveLength(1);
    // The send was activity: the session is not idle now (test/expiry.e2e-spec.ts shows that an
    // expiry's own writes do not start a new idle spell).
    expect(await t.app.get(SessionExpiryService).sweep()).toBe(0);
    await t.http.post(`/sessions/${s.sessionId}/cancel`, {}, s.token);
    expect(lifecycleProblems(await settled(db, s.sessionId))).toEqual([]);
  });

  it('a cancel between the run row commit and launch ends the run: it never starts', async () => {
    const s = await newSession();
    const gate = faults.pause('run.before-launch');
    const sending = send(s, 'hello');
    await gate.reached;
    const cancel = await t.http.post(`/sessions/${s.sessionId}/cancel`, {}, s.token);
    expect(cancel.status).toBe(202);
    gate.release();
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    const runId = (await sending).body.runId as string;
    expect(log.filter((e) => e.runId === runId).map((e) => e.type)).toEqual(['task_cancelled']);
  });

  it('a cancel that found nothing running here, ended after the run started: the run closes itself last', async () => {
    const s = await newSession();
    // No heartbeat meanwhile: it would stop a run whose stored state ended, hiding the bug.
    const heartbeat = faults.pause('node.heartbeat');
    const launch = faults.pause('run.before-launch');
    const sending = send(s, 'count to 50');
    await launch.reached;
    // The cancel looks for a live run before the launch and is held before it ends the run as
    // stored; meanwhile the run starts and is held with more to write.
    const stored = faults.pause('cancel.not-live');
    const cancelling = t.http.post(`/sessions/${s.sessionId}/cancel`, {}, s.token);
    await stored.reached;
    const reply = faults.pause('run.reply-started');
    launch.release();
    const runId = (await sending).body.runId as string;
    await reply.reached;
    stored.release();
    // Ending the run as stored now would let the held run write after task_cancelled (the bug);
    // a correct cancel asks the live run to stop, which waits for the run: this bounded wait ends.
    await waitFor(
      async () => (await storedLog(db, s.sessionId)).some((e) => e.type === 'task_cancelled'),
      800,
    ).catch(() => undefined);
    reply.release();
    expect((await cancelling).status).toBe(202);
    // Everything the run could still write is in the log once it stopped and the log drained.
    await waitFor(() => Promise.resolve(!t.app.get(LiveRuns).isLive(s.sessionId)));
    heartbeat.release();
    await t.app.get(HistoryService).flushAll();
    const log = await settled(db, s.sessionId);

    expect(lifecycleProblems(log)).toEqual([]);
    expect(log[log.length - 1]).toMatchObject({ type: 'task_cancelled', runId });
  });

  it('a run ended by another writer behind its back (a remote cancel after a slow node) writes nothing after its closing event', async () => {
    const s = await newSession();
    // No heartbeat: it would tell the run it lost, which is what this test leaves to the log.
    const heartbeat = faults.pause('node.heartbeat');
    const reply = faults.pause('run.reply-started');
    const sent = await send(s, 'count to 50');
    expect(sent.status).toBe(202);
    await reply.reached;
    // What another node does when the owner does not answer a cancel: end the run as stored.
    expect(await t.app.get(RunLifecycle).cancelSession(s.sessionId, 'admin')).toBe(sent.body.runId);
    reply.release();
    await waitFor(() => Promise.resolve(!t.app.get(LiveRuns).isLive(s.sessionId)));
    heartbeat.release();
    await t.app.get(HistoryService).flushAll();
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(log[log.length - 1]).toMatchObject({
      type: 'task_cancelled',
      data: { reason: 'admin' },
    });
  });

  it('a cancel during the first chunk’s thinking steps ends in task_cancelled, not an empty answer', async () => {
    const s = await newSession();
    const gate = faults.pause('run.reply-started');
    const sent = await send(s, 'hello');
    expect(sent.status).toBe(202);
    await gate.reached;
    // The abort reaches the run synchronously (the live canceller), before the run goes on.
    const cancelling = t.app.get(RunControlService).cancelActive(s.sessionId, 'user');
    gate.release();
    expect(await cancelling).toBe(sent.body.runId);
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(log[log.length - 1]).toMatchObject({ type: 'task_cancelled', data: { reason: 'user' } });
    expect(log.some((e) => e.type === 'response')).toBe(false);
  });

  it('sends answered SESSION_BUSY do not use up the rate limit', async () => {
    const s = await newSession();
    const c = await t.tab(s.token, s.sessionId);
    expect((await c.send('search replay')).ok).toBe(true);
    const question = await c.next('request_confirmation');
    for (let i = 0; i < 3; i++) {
      const busy = await c.send(`busy ${i}`);
      expect(busy.error?.code).toBe('SESSION_BUSY');
    }
    await c.respond(question.data.interactionId, { approved: false });
    await c.end();
    const next = await c.send('hello');
    expect(next.ok).toBe(true);
  });

  it('a run whose launch failed after its row committed is reclaimed, with a retry offered', async () => {
    const s = await newSession();
    faults.arm('run.before-launch', () => {
      throw new Error('launch failed (fault point)');
    });
    await send(s, 'hello');
    faults.disarm();
    const log = await settled(db, s.sessionId, 30_000);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(log[log.length - 1]).toMatchObject({ type: 'task_failed', data: { canRetry: true } });
    const [run] = await db.query<{ status: string }>(
      'SELECT status FROM runs WHERE session_id = $1',
      [s.sessionId],
    );
    expect(run.status).toBe('interrupted');
    // An interrupted run is counted too, by the transaction that took it over.
    const [usage] = await db.query<{ runs: number }>(
      `SELECT l.runs FROM usage_ledger l JOIN sessions s ON s.user_id = l.user_id WHERE s.id = $1`,
      [s.sessionId],
    );
    expect(usage).toMatchObject({ runs: 1 });
  });

  it('resume racing a new message: one of them wins, never a run of a declined intent', async () => {
    const s = await newSession();
    faults.arm('run.before-launch', () => {
      throw new Error('launch failed (fault point)');
    });
    await send(s, 'hello');
    faults.disarm();
    const offered = await settled(db, s.sessionId, 30_000);
    expect(offered[offered.length - 1]).toMatchObject({
      type: 'task_failed',
      data: { canRetry: true },
    });
    const [intent] = await db.query<{ id: string }>(
      'SELECT id FROM intents WHERE session_id = $1',
      [s.sessionId],
    );
    const gate = faults.pause('send.locked');
    const sending = send(s, 'search replay');
    await gate.reached;
    const resuming = t.http.post(
      `/sessions/${s.sessionId}/intents/${intent.id}/resume`,
      {},
      s.token,
    );
    gate.release();
    const [sent, resumed] = await Promise.all([sending, resuming]);
    expect(sent.status).toBe(202);
    // The send declined the retry offer first: the resume must not run the declined intent.
    expect(resumed.status).toBe(409);
    expect(resumed.body.code).toBe('CONFLICT');
    const runs = await db.query<{ intent_id: string; status: string }>(
      'SELECT intent_id, status FROM runs WHERE session_id = $1',
      [s.sessionId],
    );
    expect(runs.filter((r) => r.intent_id === intent.id)).toHaveLength(1);
    await t.http.post(`/sessions/${s.sessionId}/cancel`, {}, s.token);
    expect(lifecycleProblems(await settled(db, s.sessionId))).toEqual([]);
  });

  it('an answer whose event cannot be written is not half-done: answered again, the run goes on', async () => {
    const s = await newSession();
    const c = await t.tab(s.token, s.sessionId);
    expect((await c.send('search replay')).ok).toBe(true);
    const question = await c.next('request_confirmation');
    faults.arm('interaction.resolved', () => {
      throw new Error('the log is unavailable (fault point)');
    });
    const failed = await c.respond(question.data.interactionId, { approved: true });
    expect(failed.ok).toBe(false);
    faults.disarm();
    const [open] = await db.query<{ resolved_at: Date | null }>(
      'SELECT resolved_at FROM interactions WHERE id = $1',
      [question.data.interactionId],
    );
    expect(open.resolved_at).toBeNull();
    expect((await c.respond(question.data.interactionId, { approved: true })).ok).toBe(true);
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(log[log.length - 1].type).toBe('task_completed');
  });

  it('a retry offer closed by a cancel leaves no expiry timer behind', async () => {
    const s = await newSession();
    const agent = t.app.get<{ agent: { failFirstAttempts: number } }>(APP_CONFIG).agent;
    agent.failFirstAttempts = 1;
    try {
      expect((await send(s, 'hello')).status).toBe(202);
      const failed = await waitFor(async () =>
        (await storedLog(db, s.sessionId)).find((e) => e.type === 'task_failed'),
      );
      const interactionId = (failed.data as { interactionId: string }).interactionId;
      const timers = t.app.get(InteractionTimers);
      expect(timers.has(interactionId)).toBe(true);
      // Closing the session ends the offer as stored.
      expect(
        (await t.http.request('DELETE', `/sessions/${s.sessionId}`, { token: s.token })).status,
      ).toBe(204);
      expect(timers.has(interactionId)).toBe(false);
    } finally {
      agent.failFirstAttempts = 0;
    }
  });

  it('a plain run meets the log invariants (the checker agrees with the happy path)', async () => {
    const s = await newSession();
    expect((await send(s, 'hello')).status).toBe(202);
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    expect((await storedLog(db, s.sessionId)).map((e) => e.type)).toContain('task_completed');
  });
});
