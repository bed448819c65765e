import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { LiveRuns } from '../src/runs/live-runs.js';
import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { lifecycleProblems, settled, storedLog, waitFor } from './support/lifecycle.js';
import { serviceUrl } from './support/services.js';
import { type AppUnderTest, useTestApp } from './support/use-test-app.js';

const redisUrl = serviceUrl('TEST_REDIS_URL');

const env = {
  REDIS_URL: redisUrl,
  JWT_SECRET: 'remote-cancel-test-secret-shared-by-all-nodes',
  BUILTIN_TOKEN_DELAY_MS: '2',
  RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  CONFIRMATION_TIMEOUT_MS: '120000',
  RUN_STALE_AFTER_MS: '600000',
};

type Message = { kind: string; requestId?: string; sessionId?: string; runId?: string } & Record<
  string,
  unknown
>;

/**
 * A remote cancel over real nodes (one PostgreSQL, one Redis; PGlite cannot be shared): node A
 * takes the client's cancel, node C executes the session's runs. A client on the same Redis
 * speaking the cluster protocol listens, and plays a stale node where a test needs one.
 */
describe('remote cancel', () => {
  const a = useTestApp('postgres', env);
  const c = a.node(env, 'c');
  let db: Database;
  let listener: Redis;
  let peer: Redis;
  const heard: Message[] = [];
  let onMessage: ((m: Message) => void) | undefined;

  beforeAll(async () => {
    db = a.app.get(Database);
    peer = new Redis(redisUrl);
    listener = new Redis(redisUrl);
    await listener.subscribe('hitl:cluster');
    listener.on('message', (_channel: string, raw: string) => {
      const m = (JSON.parse(raw) as { message: Message }).message;
      heard.push(m);
      onMessage?.(m);
    });
  });

  afterEach(() => {
    onMessage = undefined;
    heard.length = 0;
    for (const node of [a, c]) node.app.get(FaultPoints).disarm();
  });

  afterAll(() => {
    listener?.disconnect();
    peer?.disconnect();
  });

  async function newSession() {
    const token = (await a.http.register('remote-cancel')).accessToken;
    const sessionId = (await a.http.post('/sessions', {}, token)).body.id as string;
    const send = (node: AppUnderTest, content: string) =>
      node.http.post(`/sessions/${sessionId}/messages`, { content }, token);
    const cancel = () => a.http.post(`/sessions/${sessionId}/cancel`, {}, token);
    return { token, sessionId, send, cancel };
  }

  /** Sends a run to C that waits there on its confirmation. */
  async function waitingOnC(s: Awaited<ReturnType<typeof newSession>>): Promise<string> {
    const sent = await s.send(c, 'search replay');
    expect(sent.status).toBe(202);
    await waitFor(async () =>
      (await storedLog(db, s.sessionId)).some((e) => e.type === 'request_confirmation'),
    );
    return sent.body.runId as string;
  }

  const runStatus = async (runId: string) =>
    (await db.query<{ status: string }>(`SELECT status FROM runs WHERE id = $1`, [runId]))[0]
      ?.status;

  it('a cancel the owner made whose reply was lost is acked, not CONFLICT', async () => {
    const s = await newSession();
    const runId = await waitingOnC(s);
    // Every reply to A is lost; C cancels the run when asked.
    a.app.get(FaultPoints).arm('cluster.cancelled', () => {
      throw new Error('reply lost (fault point)');
    });
    const fallback = a.app.get(FaultPoints).pause('cancel.not-live');
    const cancelling = s.cancel();
    await fallback.reached;
    // C's cancel committed before A's own, as stored, looks.
    await waitFor(async () => (await runStatus(runId)) === 'cancelled');
    fallback.release();
    const cancel = await cancelling;
    expect(cancel.status).toBe(202);
    expect(cancel.body).toEqual({ runId });
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
    expect(log.filter((e) => e.type === 'task_cancelled')).toHaveLength(1);
  });

  it('a stale responder answering won:false first, every round, does not turn the owner’s cancel into CONFLICT', async () => {
    const s = await newSession();
    const first = await s.send(c, 'hello');
    await settled(db, s.sessionId);
    const runId = await waitingOnC(s);
    const faults = { a: a.app.get(FaultPoints), c: c.app.get(FaultPoints) };
    // C acts on the cancel only once the stale reply is out, so that reply reaches A first.
    const asked = faults.c.pause('cluster.cancel');
    const closed = faults.c.pause('run.closed');
    onMessage = (m) => {
      if (m.kind === 'cancel' && m.sessionId === s.sessionId) {
        const stale = { kind: 'cancelled', requestId: m.requestId, runId: first.body.runId };
        void peer.publish(
          'hitl:cluster',
          JSON.stringify({ from: 'stale-node', message: { ...stale, won: false } }),
        );
      } else if (m.kind === 'cancelled' && m.runId === first.body.runId) {
        asked.release();
      }
    };
    // A takes the stale reply in only once C's cancel has committed; C's own reply, held until
    // then, comes after it.
    let replies = 0;
    faults.a.arm('cluster.cancelled', async () => {
      if (replies++ > 0) return;
      await closed.reached;
      closed.release();
    });
    const cancel = await s.cancel();
    expect(cancel.status).toBe(202);
    expect(cancel.body).toEqual({ runId });
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
  });

  it('a node executing another run of the session does not act on a cancel of a run it does not execute, and says so', async () => {
    const s = await newSession();
    // C's execution of this run has completed it but not let go: a stale execution.
    const stale = c.app.get(FaultPoints).pause('run.closed');
    const sent = await s.send(c, 'hello');
    await stale.reached;
    try {
      const requestId = randomUUID();
      const other = randomUUID();
      await peer.publish(
        'hitl:cluster',
        JSON.stringify({
          from: 'canceller',
          message: {
            kind: 'cancel',
            requestId,
            sessionId: s.sessionId,
            reason: 'user',
            runId: other,
          },
        }),
      );
      const reply = await waitFor(() =>
        Promise.resolve(heard.find((m) => m.requestId === requestId && m.kind !== 'cancel')),
      );
      expect(reply).toEqual({
        kind: 'not-executing',
        requestId,
        runId: other,
        executing: sent.body.runId,
      });
      expect(c.app.get(LiveRuns).isLive(s.sessionId)).toBe(true);
    } finally {
      stale.release();
    }
  });

  it('a run that ended and was followed by another on the same node before the cancel arrived: the new one is cancelled by its node at once', async () => {
    const s = await newSession();
    const faults = { a: a.app.get(FaultPoints), c: c.app.get(FaultPoints) };
    const replying = faults.c.pause('run.reply-started');
    const first = await s.send(c, 'hello');
    await replying.reached;
    let storedCancel = false;
    faults.a.arm('cancel.not-live', () => {
      storedCancel = true;
    });
    // A has read the first run as active and asked; C hears of it only after that run completed
    // and a second one started there.
    const asked = faults.c.pause('cluster.cancel');
    const cancelling = s.cancel();
    await asked.reached;
    replying.release();
    await waitFor(async () => (await runStatus(first.body.runId)) === 'completed');
    await waitFor(() => Promise.resolve(!c.app.get(LiveRuns).isLive(s.sessionId)));
    const second = await waitingOnC(s);
    asked.release();
    const cancel = await cancelling;
    expect(cancel.status).toBe(202);
    expect(cancel.body).toEqual({ runId: second });
    // C cancelled it itself: A never ended it as stored behind C's back.
    expect(storedCancel).toBe(false);
    const log = await settled(db, s.sessionId);
    expect(lifecycleProblems(log)).toEqual([]);
  });

  it('a won:false about a run that completed first, with a newer run started since: the newer run is asked and cancelled', async () => {
    const s = await newSession();
    const faults = { a: a.app.get(FaultPoints), c: c.app.get(FaultPoints) };
    // The first run's completion is under way on C when the cancel arrives there: it loses.
    const closing = faults.c.pause('run.closing');
    const first = await s.send(c, 'hello');
    await closing.reached;
    const asked = faults.c.pause('cluster.cancel');
    const replied = faults.a.pause('cluster.cancelled');
    const cancelling = s.cancel();
    await asked.reached;
    asked.release();
    closing.release();
    // C's won:false reaches A only once a second run waits on C.
    await replied.reached;
    expect(await runStatus(first.body.runId)).toBe('completed');
    await waitFor(() => Promise.resolve(!c.app.get(LiveRuns).isLive(s.sessionId)));
    const second = await waitingOnC(s);
    replied.release();
    const cancel = await cancelling;
    expect(cancel.status).toBe(202);
    expect(cancel.body).toEqual({ runId: second });
    expect(await runStatus(second)).toBe('cancelled');
    expect(lifecycleProblems(await settled(db, s.sessionId))).toEqual([]);
  });
});
