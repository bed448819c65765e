import { randomUUID } from 'node:crypto';
import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { LiveRuns } from '../src/runs/live-runs.js';
import { createTestDatabase } from './support/databases.js';
import { ChatTab } from './support/chat.js';
import { Http } from './support/http.js';
import { settled, waitFor } from './support/lifecycle.js';
import { ask } from './support/socket.js';
import { SseClient } from './support/sse.js';
import { startTestApp } from './support/test-app.js';
import { useTestApp } from './support/use-test-app.js';
import { serviceUrl } from './support/services.js';

const redisUrl = serviceUrl('TEST_REDIS_URL');

describe('two nodes on one PostgreSQL and Redis', () => {
  const env = {
    REDIS_URL: redisUrl,
    JWT_SECRET: 'cluster-test-secret-shared-by-both-nodes',
    BUILTIN_TOKEN_DELAY_MS: '3',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  };
  const a = useTestApp('postgres', env);
  const b = a.node(env);

  it('reports Redis in readiness', async () => {
    const r = await a.http.get('/health/ready');
    expect(r.status).toBe(200);
    expect(r.body.details.redis).toEqual({ status: 'up', configured: true });
  });

  it('a socket on node A gets every event of a run started on node B', async () => {
    const u = await a.user();
    const c = await a.tab(u.token);
    const sent = await b.http.post(
      `/sessions/${c.sessionId}/messages`,
      { content: 'what is 20 + 22' },
      u.token,
    );
    expect(sent.status).toBe(202);
    const done = await c.end();
    expect(done.type).toBe('task_completed');
    expect(c.events().map((e) => e.seq)).toEqual(c.events().map((_, i) => i + 1));
    // The closing event can reach the socket before the executing node has let go of the run.
    await waitFor(
      () =>
        Promise.resolve(
          !b.app.get(LiveRuns).isLive(c.sessionId) && !a.app.get(LiveRuns).isLive(c.sessionId),
        ),
      5_000,
    );
  });

  it('an answer sent to node A reaches the run waiting on node B', async () => {
    const u = await a.user();
    const c = await a.tab(u.token);
    await b.http.post(`/sessions/${c.sessionId}/messages`, { content: 'search replay' }, u.token);
    const q = await c.next('request_confirmation');
    expect(b.app.get(LiveRuns).isLive(c.sessionId)).toBe(true);
    expect((await c.respond(q.data.interactionId, { approved: true })).ok).toBe(true);
    const done = await c.end();
    expect(done.type).toBe('task_completed');
    expect(
      c
        .events()
        .some(
          (e) =>
            e.type === 'thinking' &&
            e.data.step === 'tool_execution' &&
            e.data.status === 'completed',
        ),
    ).toBe(true);
  });

  it('a cancel sent to node A stops the run on node B within 500 ms', async () => {
    const u = await a.user();
    const c = await a.tab(u.token);
    const sent = await b.http.post(
      `/sessions/${c.sessionId}/messages`,
      { content: 'count to 5000' },
      u.token,
    );
    await c.next('generating');
    const started = Date.now();
    const r = await ask(c.socket, 'run:cancel', { sessionId: c.sessionId });
    expect(r).toEqual({ ok: true, runId: sent.body.runId });
    const end = await c.end();
    expect(Date.now() - started).toBeLessThan(500);
    expect(end.data.reason).toBe('user');
  });

  it('an SSE stream on node B sees events written on node A', async () => {
    const u = await a.user();
    const s = (await a.http.post('/sessions', {}, u.token)).body.id;
    const sse = await SseClient.open(`${b.baseUrl}/sessions/${s}/stream`, {
      authorization: `Bearer ${u.token}`,
    });
    try {
      await a.http.post(`/sessions/${s}/messages`, { content: 'count to 20' }, u.token);
      await sse.waitFor(() => sse.events().some((e) => e.type === 'task_completed'));
      const seqs = sse.events().map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    } finally {
      sse.close();
    }
  });

  it('the rate limit is one budget across nodes', async () => {
    // The concurrent-runs cap (checked before the rate limit) is out of the way.
    const limited = {
      ...env,
      RATE_LIMIT_MESSAGES_PER_MINUTE: '3',
      MAX_CONCURRENT_RUNS_PER_USER: '10',
    };
    const c1 = await startTestApp(a.database, { ...limited, DATA_DIR: `${a.database.dataDir}-c1` });
    const c2 = await startTestApp(a.database, { ...limited, DATA_DIR: `${a.database.dataDir}-c2` });
    try {
      const h1 = new Http(c1.baseUrl);
      const h2 = new Http(c2.baseUrl);
      const u = await h1.register();
      const sessions = await Promise.all(
        [0, 1, 2, 3].map(async () => (await h1.post('/sessions', {}, u.accessToken)).body.id),
      );
      expect(
        (await h1.post(`/sessions/${sessions[0]}/messages`, { content: 'hi' }, u.accessToken))
          .status,
      ).toBe(202);
      expect(
        (await h2.post(`/sessions/${sessions[1]}/messages`, { content: 'hi' }, u.accessToken))
          .status,
      ).toBe(202);
      expect(
        (await h1.post(`/sessions/${sessions[2]}/messages`, { content: 'hi' }, u.accessToken))
          .status,
      ).toBe(202);
      // Settled first: at MAX_CONCURRENT_RUNS_PER_USER a send is QUOTA_EXCEEDED, checked before
      // the rate limit (a refused send does not use the budget).
      for (const id of sessions.slice(0, 3)) await settled(c1.app.get(Database), id);
      const fourth = await h2.post(
        `/sessions/${sessions[3]}/messages`,
        { content: 'hi' },
        u.accessToken,
      );
      expect(fourth.status).toBe(429);
      expect(fourth.body).toMatchObject({
        code: 'RATE_LIMITED',
        retryAfterMs: expect.any(Number),
      });
      // The block is shared too: the other node refuses before it locks the session.
      let locked = 0;
      c1.app.get(FaultPoints).arm('send.locked', () => void locked++);
      const fifth = await h1.post(
        `/sessions/${sessions[3]}/messages`,
        { content: 'hi' },
        u.accessToken,
      );
      expect(fifth.body.code).toBe('RATE_LIMITED');
      expect(locked).toBe(0);
    } finally {
      await c2.close();
      await c1.close();
    }
  });

  it('a node shutting down disconnects its own sockets only, not those of the other nodes', async () => {
    const c4 = await startTestApp(a.database, { ...env, DATA_DIR: `${a.database.dataDir}-c4` });
    const u = await a.user();
    const onB = await ChatTab.open(b.baseUrl, u.token);
    a.closeAfter(onB);
    const onC4 = await ChatTab.open(c4.baseUrl, u.token, onB.sessionId);
    const reasons: string[] = [];
    onB.socket.on('disconnect', (reason) => reasons.push(reason));
    const c4Gone = new Promise((r) => onC4.socket.once('disconnect', r));
    await c4.close();
    await c4Gone;
    // Whatever the closing node broadcast has reached B by now: B's socket still works.
    const ack = await ask(onB.socket, 'session:join', { sessionId: onB.sessionId }, 10_000);
    expect(ack.ok).toBe(true);
    expect(onB.socket.connected).toBe(true);
    expect(reasons).toEqual([]);
    onC4.close();
  });

  it('disabling a user on node A disconnects their socket on node B', async () => {
    const adminEnv = {
      ...env,
      ADMIN_EMAIL: 'cluster-admin@example.com',
      ADMIN_PASSWORD: 'clusterpassword',
    };
    const c3 = await startTestApp(a.database, {
      ...adminEnv,
      DATA_DIR: `${a.database.dataDir}-c3`,
    });
    try {
      const admin = (
        await a.http.post('/auth/login', {
          email: 'cluster-admin@example.com',
          password: 'clusterpassword',
        })
      ).body.accessToken;
      const u = await a.http.register();
      const onB = await ChatTab.open(b.baseUrl, u.accessToken);
      a.closeAfter(onB);
      const gone = new Promise((r) => onB.socket.once('disconnect', r));
      expect(
        (await a.http.patch(`/admin/users/${u.user.id}`, { disabled: true }, admin)).status,
      ).toBe(200);
      await gone;
    } finally {
      await c3.close();
    }
  });

  it('runs of a node that stopped heart-beating are marked interrupted by the others', async () => {
    const u = await a.user();
    const c = await a.tab(u.token);
    const db = a.app.get(Database);
    const intentId = randomUUID();
    const runId = randomUUID();
    await db.query(
      `INSERT INTO intents (id, session_id, user_id, content) VALUES ($1, $2, $3, 'count to 5')`,
      [intentId, c.sessionId, u.userId],
    );
    await db.query(
      `INSERT INTO runs (id, intent_id, session_id, user_id, attempt, status, node_id, heartbeat_at, checkpoint)
       VALUES ($1, $2, $3, $4, 1, 'running', 'a-dead-node', now() - interval '1 minute', $5::jsonb)`,
      [
        runId,
        intentId,
        c.sessionId,
        u.userId,
        JSON.stringify({ transcript: [{ role: 'user', content: 'count to 5' }] }),
      ],
    );
    const failed = await c.next('task_failed', 0, 15_000);
    expect(failed).toMatchObject({ runId, data: { canRetry: true, attempt: 1 } });
    const [run] = await db.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [
      runId,
    ]);
    expect(run.status).toBe('interrupted');
    expect((await c.respond(failed.data.interactionId, { retry: true })).ok).toBe(true);
    expect((await c.end(failed.seq)).type).toBe('task_completed');
  }, 30_000);
});

describe('Redis down', () => {
  it('readiness is 503 when REDIS_URL cannot be reached (the service still starts)', async () => {
    const target = await createTestDatabase('pglite');
    const t = await startTestApp(target, { REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const r = await new Http(t.baseUrl).get('/health/ready');
      expect(r.status).toBe(503);
      expect(r.body.error.redis).toMatchObject({ status: 'down', configured: true });
      expect(r.body.info.database.status).toBe('up');
    } finally {
      await t.close();
      await target.drop();
    }
  });
});
