import { LiveRuns } from '../src/runs/live-runs.js';
import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { SessionQueue } from '../src/runs/session-queue.js';
import {
  lifecycleProblems,
  queueProblems,
  settled,
  storedLog,
  waitFor,
} from './support/lifecycle.js';
import { useTestApp } from './support/use-test-app.js';
import { serviceUrl } from './support/services.js';

const redisUrl = serviceUrl('TEST_REDIS_URL');

/** The lifecycle races that need two nodes (one PostgreSQL, one Redis), replayed at fault points. */
describe('run lifecycle races on two nodes', () => {
  const env = {
    REDIS_URL: redisUrl,
    JWT_SECRET: 'lifecycle-test-secret-shared-by-both-nodes',
    BUILTIN_TOKEN_DELAY_MS: '2',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    CONFIRMATION_TIMEOUT_MS: '120000',
    RUN_STALE_AFTER_MS: '3000',
  };
  const a = useTestApp('postgres', env);
  const b = a.node(env);
  let db: Database;

  beforeAll(() => {
    db = a.app.get(Database);
  });

  afterEach(() => {
    a.app.get(FaultPoints).disarm();
    b.app.get(FaultPoints).disarm();
  });

  const newSession = () => a.session('race2');

  /** A run executing on node B, waiting on its confirmation. */
  async function questionOnB(s: { token: string; sessionId: string }) {
    const sent = await b.http.post(
      `/sessions/${s.sessionId}/messages`,
      { content: 'search replay' },
      s.token,
    );
    expect(sent.status).toBe(202);
    const question = await waitFor(async () =>
      (await storedLog(db, s.sessionId)).find((e) => e.type === 'request_confirmation'),
    );
    return { runId: sent.body.runId as string, interactionId: question.data.interactionId };
  }

  it('a lost answer (the pub/sub message dropped) only delays the run: it reads the stored answer', async () => {
    const s = await newSession();
    const q = await questionOnB(s);
    b.app.get(FaultPoints).arm('cluster.answer', () => {
      throw new Error('answer lost (fault point)');
    });
    const r = await a.http.post(
      `/sessions/${s.sessionId}/interactions/${q.interactionId}`,
      { response: { approved: true } },
      s.token,
    );
    expect(r.status).toBeLessThan(300);
    const log = await settled(db, s.sessionId, 15_000);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(log[log.length - 1].type).toBe('task_completed');
  });

  it('a slow node stops its own paused run before another node parks it; the answer continues it on that node', async () => {
    const s = await newSession();
    const q = await questionOnB(s);
    const beat = b.app.get(FaultPoints).pause('node.heartbeat');
    await beat.reached;
    // B cannot renew: it must give the run up itself, before the takeover deadline.
    await waitFor(() => Promise.resolve(!b.app.get(LiveRuns).isLive(s.sessionId)), 15_000);
    const [row] = await db.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [
      q.runId,
    ]);
    expect(row.status).toBe('awaiting_input');
    // A's takeover parks it (it waits on a question): nothing ends it, the question stays open.
    await waitFor(
      async () =>
        (await db.query('SELECT 1 FROM runs WHERE id = $1 AND parked_at IS NOT NULL', [q.runId]))
          .length > 0,
      20_000,
    );
    beat.release();
    const answered = await a.http.post(
      `/sessions/${s.sessionId}/interactions/${q.interactionId}`,
      { response: { approved: true } },
      s.token,
    );
    expect(answered.status).toBe(200);
    // A adopts it and the same run completes there; B, renewing again, writes nothing of it.
    const log = await settled(db, s.sessionId, 20_000);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(log.filter((e) => e.type === 'task_started')).toHaveLength(1);
    expect(log[log.length - 1]).toMatchObject({ type: 'task_completed', runId: q.runId });
    expect(b.app.get(LiveRuns).isLive(s.sessionId)).toBe(false);
  });

  it('a remote cancel whose node is slow to answer: one closing event, and it is task_cancelled', async () => {
    const s = await newSession();
    const gate = b.app.get(FaultPoints).pause('run.reply-started');
    const sent = await b.http.post(
      `/sessions/${s.sessionId}/messages`,
      { content: 'hello' },
      s.token,
    );
    expect(sent.status).toBe(202);
    await gate.reached;
    // B is stuck mid-run: A's cancel ends the run in the database after its wait.
    const cancel = await a.http.post(`/sessions/${s.sessionId}/cancel`, {}, s.token);
    gate.release();
    expect(cancel.status).toBe(202);
    const log = await settled(db, s.sessionId);
    await waitFor(() => Promise.resolve(!b.app.get(LiveRuns).isLive(s.sessionId)));
    const final = await storedLog(db, s.sessionId);
    expect(lifecycleProblems(final)).toEqual([]);
    const closing = final.filter((e) => e.runId === sent.body.runId && e.type.startsWith('task_'));
    expect(closing.map((e) => e.type)).toEqual(['task_started', 'task_cancelled']);
    expect(log.length).toBeLessThanOrEqual(final.length);
  });

  it('a close on one node stops the run executing on the other at once: nothing of it follows session_closed', async () => {
    const s = await newSession();
    // No heartbeat on B: it would find the run ended too; only the close's message may stop it.
    const beat = b.app.get(FaultPoints).pause('node.heartbeat');
    const reply = b.app.get(FaultPoints).pause('run.reply-started');
    try {
      const sent = await b.http.post(
        `/sessions/${s.sessionId}/messages`,
        { content: 'count to 50' },
        s.token,
      );
      expect(sent.status).toBe(202);
      await reply.reached;
      expect(
        (await a.http.request('DELETE', `/sessions/${s.sessionId}`, { token: s.token })).status,
      ).toBe(204);
      // The close committed without waiting for B; its `abandon` message stops B's execution.
      const onB = () =>
        b.app
          .get(LiveRuns)
          .live()
          .find((r) => r.spec.runId === sent.body.runId);
      const why = await waitFor(() => Promise.resolve(onB()?.signal.reason as Error | undefined));
      // Not B's own fencing (it gives up a run it could not renew, later): the close's message.
      expect(why.message).toBe('run superseded (session closed)');
      reply.release();
      await waitFor(() => Promise.resolve(!b.app.get(LiveRuns).isLive(s.sessionId)));
    } finally {
      reply.release();
      beat.release();
    }
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(log.slice(-2).map((e) => e.type)).toEqual(['task_cancelled', 'session_closed']);
  });

  it('two nodes receiving message:send for one session at the same instant: one run', async () => {
    const s = await newSession();
    const [x, y] = await Promise.all([
      a.http.post(`/sessions/${s.sessionId}/messages`, { content: 'search one' }, s.token),
      b.http.post(`/sessions/${s.sessionId}/messages`, { content: 'search two' }, s.token),
    ]);
    const statuses = [x.status, y.status].sort();
    expect(statuses).toEqual([202, 409]);
    const busy = x.status === 409 ? x : y;
    expect(busy.body.code).toBe('SESSION_BUSY');
    await a.http.post(`/sessions/${s.sessionId}/cancel`, {}, s.token);
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(log.filter((e) => e.type === 'user_message')).toHaveLength(1);
  });

  it('two nodes freeing a session at the same moment start each queued intent exactly once', async () => {
    const s = await newSession();
    const send = (node: typeof a, content: string, ifBusy?: string) =>
      node.http.post(`/sessions/${s.sessionId}/messages`, { content, ifBusy }, s.token);
    // A's run ends while it holds the session lock at the queue's start; B tries to start the
    // same queue meanwhile (what its sweep or its own ending run does).
    const gate = a.app.get(FaultPoints).pause('queue.starting');
    const running = await send(a, 'count to 30');
    expect(running.status).toBe(202);
    const q1 = await send(b, 'what is 1 + 1', 'enqueue');
    const q2 = await send(b, 'what is 2 + 2', 'enqueue');
    expect([q1.body.position, q2.body.position]).toEqual([1, 2]);
    await gate.reached;
    const fromB = b.app.get(SessionQueue).startNext(s.sessionId);
    gate.release();
    await fromB;
    await waitFor(async () =>
      (await storedLog(db, s.sessionId)).some(
        (e) => e.type === 'task_completed' && e.intentId === q2.body.intentId,
      ),
    );
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(queueProblems(log)).toEqual([]);
    const starts = log.filter((e) => e.type === 'task_started').map((e) => e.intentId);
    expect(starts).toEqual([running.body.intentId, q1.body.intentId, q2.body.intentId]);
  });
});
