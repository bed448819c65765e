import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { LiveRuns } from '../src/runs/live-runs.js';
import { ClusterBus } from '../src/cluster/cluster-bus.js';
import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { HistoryService } from '../src/history/history.service.js';
import { RunLifecycle } from '../src/runs/run-lifecycle.service.js';
import { describeEachDatabase } from './support/databases.js';
import { lifecycleProblems, settled, waitFor } from './support/lifecycle.js';
import { serviceUrl } from './support/services.js';
import { type AppUnderTest, useTestApp } from './support/use-test-app.js';

const redisUrl = serviceUrl('TEST_REDIS_URL');

/** Shared by the nodes of one test: generating text stays buffered until the next append. */
const fenceEnv = {
  REDIS_URL: redisUrl,
  JWT_SECRET: 'run-fence-test-secret-shared-by-all-nodes',
  BUILTIN_TOKEN_DELAY_MS: '2',
  GENERATING_COALESCE_MS: '5000',
  RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  CONFIRMATION_TIMEOUT_MS: '120000',
  // No heartbeat during a test: a run ended behind its node's back keeps streaming there.
  RUN_STALE_AFTER_MS: '600000',
};

/**
 * Holds a run's execution before its first text chunk, lets `end` end the run elsewhere, then
 * has the execution buffer that chunk while a new send holds the session lock (after it settled
 * the session's appends): the send's transaction is the next write of the session.
 */
async function textAfterEnd(
  node: AppUnderTest,
  send: (content: string) => Promise<{ status: number; body: any }>,
  end: () => Promise<void>,
): Promise<{ runId: string; next: { status: number; body: any } }> {
  const faults = node.app.get(FaultPoints);
  const replying = faults.pause('run.reply-started');
  const sent = await send('count to 200');
  expect(sent.status).toBe(202);
  await replying.reached;
  await end();
  const locked = faults.pause('send.locked');
  const sending = send('hello');
  await locked.reached;
  replying.release();
  // Armed in the same tick as the release, before the execution can buffer its text.
  const buffered = faults.pause('run.streamed');
  await buffered.reached;
  locked.release();
  const next = await sending;
  buffered.release();
  return { runId: sent.body.runId as string, next };
}

/** Records the app's appendDelta calls: the run, and the code the call was refused with. */
function deltaCalls(node: AppUnderTest): { runId: string | undefined; threw?: string }[] {
  const history = node.app.get(HistoryService);
  const calls: { runId: string | undefined; threw?: string }[] = [];
  const original = history.appendDelta.bind(history);
  history.appendDelta = (sessionId, ids, delta) => {
    try {
      original(sessionId, ids, delta);
      calls.push({ runId: ids.runId });
    } catch (err) {
      calls.push({ runId: ids.runId, threw: (err as { code?: string }).code });
      throw err;
    }
  };
  return calls;
}

/** The defects of issue 23 about fencing a run's writes and remote cancels, on one node. */
describeEachDatabase('run fencing (one node)', (kind) => {
  const t = useTestApp(kind, fenceEnv);

  let db: Database;

  beforeAll(() => {
    db = t.app.get(Database);
  });

  afterEach(() => t.app.get(FaultPoints).disarm());

  const newSession = () => t.session('fence');

  it('text a run buffered after another writer ended it is not written by the next transaction', async () => {
    const s = await newSession();
    const send = (content: string) =>
      t.http.post(`/sessions/${s.sessionId}/messages`, { content }, s.token);
    const calls = deltaCalls(t);
    // The transaction another node runs when the executing node does not answer its cancel.
    const { runId, next } = await textAfterEnd(t, send, async () => {
      expect(await t.app.get(RunLifecycle).cancelSession(s.sessionId, 'user')).toBeDefined();
    });
    expect(next.status).toBe(202);
    // The fenced run is told at its next chunk, and stops: it does not stream the rest.
    const mine = () => calls.filter((c) => c.runId === runId);
    await waitFor(() => Promise.resolve(mine().some((c) => c.threw) || mine().length > 50));
    expect(mine().map((c) => c.threw)).toEqual([undefined, 'CONFLICT']);
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    const closing = log.findIndex((e) => e.runId === runId && e.type === 'task_cancelled');
    expect(log[closing + 1]).toMatchObject({ type: 'user_message' });
  });

  it('a remote cancel ignores the won:false of a node holding a stale execution', async () => {
    const s = await newSession();
    const send = (content: string) =>
      t.http.post(`/sessions/${s.sessionId}/messages`, { content }, s.token);
    const first = await send('hello');
    await settled(db, s.sessionId);
    // PGlite is one process's database, so no second node can share it: the stale node is
    // played over the real Redis by a client speaking the cluster protocol. It answers every
    // cancel of the session at once with won:false about the session's previous run.
    const peer = new Redis(redisUrl);
    const listener = new Redis(redisUrl);
    try {
      await listener.subscribe('hitl:cluster');
      listener.on('message', (_channel: string, raw: string) => {
        const { message: m } = JSON.parse(raw);
        if (m.kind !== 'cancel' || m.sessionId !== s.sessionId) return;
        const reply = { kind: 'cancelled', requestId: m.requestId, runId: first.body.runId };
        void peer.publish(
          'hitl:cluster',
          JSON.stringify({ from: 'stale-node', message: { ...reply, won: false } }),
        );
      });
      // The run is committed and owned by a node that does not answer (not launched here yet).
      const launch = t.app.get(FaultPoints).pause('run.before-launch');
      const sending = send('search replay');
      await launch.reached;
      const cancel = await t.http.post(`/sessions/${s.sessionId}/cancel`, {}, s.token);
      launch.release();
      const sent = await sending;
      expect(cancel.status).toBe(202);
      expect(cancel.body).toEqual({ runId: sent.body.runId });
      const log = await settled(db, s.sessionId);
      expect(lifecycleProblems(log)).toEqual([]);
      const closing = log.filter((e) => e.runId === sent.body.runId && e.type.startsWith('task_'));
      expect(closing.map((e) => e.type)).toEqual(['task_cancelled']);
    } finally {
      listener.disconnect();
      peer.disconnect();
    }
  });
});

/**
 * The same defects with real nodes (one PostgreSQL, one Redis; PGlite cannot be shared). Node A
 * takes the client's cancel; B and C execute runs.
 */
describe('run fencing (several nodes)', () => {
  const a = useTestApp('postgres', fenceEnv);
  const b = a.node(fenceEnv, 'b');
  const c = a.node(fenceEnv, 'c');
  let db: Database;

  beforeAll(() => {
    db = a.app.get(Database);
  });

  afterEach(() => {
    for (const node of [a, b, c]) node.app.get(FaultPoints).disarm();
  });

  const newSession = () => a.session('fence-nodes');

  it('a remote cancel that ended the run in the database: the executing node writes none of its text after task_cancelled', async () => {
    const s = await newSession();
    const sendOnB = (content: string) =>
      b.http.post(`/sessions/${s.sessionId}/messages`, { content }, s.token);
    // B never hears of the cancel, nor of the stop A sends after ending the run as stored: only
    // the fence keeps B's text out.
    b.app.get(FaultPoints).arm('cluster.cancel', () => {
      throw new Error('cancel lost (fault point)');
    });
    b.app.get(FaultPoints).arm('cluster.abandon', () => {
      throw new Error('stop lost (fault point)');
    });
    const { runId, next } = await textAfterEnd(b, sendOnB, async () => {
      const cancel = await a.http.post(`/sessions/${s.sessionId}/cancel`, {}, s.token);
      expect(cancel.status).toBe(202);
    });
    expect(next.status).toBe(202);
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    const closing = log.findIndex((e) => e.runId === runId && e.type === 'task_cancelled');
    expect(log[closing + 1]).toMatchObject({ type: 'user_message' });
  });

  it('a stale execution answering won:false first does not turn a cancel the owner made into CONFLICT', async () => {
    const s = await newSession();
    const send = (node: AppUnderTest, content: string) =>
      node.http.post(`/sessions/${s.sessionId}/messages`, { content }, s.token);
    // B's execution of the first run has closed it but not let go yet.
    const stale = b.app.get(FaultPoints).pause('run.closed');
    expect((await send(b, 'hello')).status).toBe(202);
    await stale.reached;
    // The session's run now executes on C, waiting on its question.
    const owned = await send(c, 'search replay');
    expect(owned.status).toBe(202);
    await waitFor(async () => (await settledLog()).some((e) => e.type === 'request_confirmation'));
    // C cancels when asked, but its reply comes only after B's.
    const closing = c.app.get(FaultPoints).pause('run.closing');
    const cancelling = a.http.post(`/sessions/${s.sessionId}/cancel`, {}, s.token);
    await closing.reached;
    stale.release();
    await waitFor(() => Promise.resolve(!liveOn(b, s.sessionId)));
    await afterEverythingBPublished();
    closing.release();
    const cancel = await cancelling;
    expect(cancel.status).toBe(202);
    expect(cancel.body).toEqual({ runId: owned.body.runId });
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    const ended = log.filter((e) => e.runId === owned.body.runId && e.type.startsWith('task_'));
    expect(ended.map((e) => e.type)).toEqual(['task_started', 'task_cancelled']);

    function settledLog() {
      return db
        .query<{ message_type: string }>(
          'SELECT message_type FROM chat_history WHERE session_id = $1',
          [s.sessionId],
        )
        .then((rows) => rows.map((r) => ({ type: r.message_type })));
    }
  });

  function liveOn(node: AppUnderTest, sessionId: string): boolean {
    return node.app.get(LiveRuns).isLive(sessionId);
  }

  /**
   * Resolves once every cluster message B published so far has reached Redis's subscribers: a
   * marker published after them on B's connection is seen by a listener of our own (Redis keeps
   * one connection's messages in order), so any later message reaches node A after them.
   */
  async function afterEverythingBPublished(): Promise<void> {
    const listener = new Redis(redisUrl);
    try {
      await listener.subscribe('hitl:cluster');
      const marker = randomUUID();
      const seen = new Promise<void>((resolve) =>
        listener.on('message', (_channel: string, raw: string) => {
          if (raw.includes(marker)) resolve();
        }),
      );
      b.app.get(ClusterBus).publish({ kind: 'answer', interactionId: marker, outcome: 'marker' });
      await seen;
    } finally {
      listener.disconnect();
    }
  }
});
