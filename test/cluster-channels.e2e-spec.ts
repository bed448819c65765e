import { Redis } from 'ioredis';
import { SessionFanoutService } from '../src/chat/session-fanout.service.js';
import {
  ClusterBus,
  type ClusterMessage,
  MAX_WAITING_FOR_MODE,
} from '../src/cluster/cluster-bus.js';
import { RedisConnections } from '../src/cluster/redis-connections.js';
import { sessionChannel } from '../src/cluster/session-channels.js';
import { FaultPoints } from '../src/common/fault-points.js';
import { EventBus } from '../src/history/event-bus.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { ChatTab } from './support/chat.js';
import { Http } from './support/http.js';
import { serviceUrl, ThrowawayRedis } from './support/services.js';
import { SseClient } from './support/sse.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { useTestApp } from './support/use-test-app.js';

const redisUrl = serviceUrl('TEST_REDIS_URL');

const env = {
  REDIS_SHARDED_PUBSUB: 'auto',
  JWT_SECRET: 'channels-test-secret-shared-by-both-nodes',
  BUILTIN_TOKEN_DELAY_MS: '2',
  RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
};

async function until(pred: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How many connections Redis has subscribed to the session's channel (sharded or plain). */
async function subscribers(redis: Redis, sessionId: string, sharded = true): Promise<number> {
  const reply = (await redis.call(
    'PUBSUB',
    sharded ? 'SHARDNUMSUB' : 'NUMSUB',
    sessionChannel(sessionId),
  )) as [string, number];
  return Number(reply[1]);
}

const seqs = (tab: ChatTab): number[] => tab.events().map((e) => e.seq);
const contiguous = (s: number[]): boolean => s.every((v, i) => i === 0 || v === s[i - 1] + 1);

describe('per-session cluster channels, two nodes', () => {
  const a = useTestApp('postgres', { ...env, REDIS_URL: redisUrl });
  const b = a.node({ ...env, REDIS_URL: redisUrl });
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(redisUrl);
  });

  afterEach(async () => {
    a.app.get(FaultPoints).disarm();
    b.app.get(FaultPoints).disarm();
    // Each test starts with no watcher on either node.
    await until(
      () => a.app.get(EventBus).watchedSessions + b.app.get(EventBus).watchedSessions === 0,
    );
  });

  afterAll(() => {
    redis?.disconnect();
  });

  it('uses sharded pub/sub on this Redis', () => {
    expect(a.app.get(ClusterBus).pubSubMode).toBe('sharded');
    expect(b.app.get(ClusterBus).pubSubMode).toBe('sharded');
  });

  it('a node receives the events of the sessions it watches and none of the others', async () => {
    const u = await a.user();
    const onA = await a.tab(u.token);
    const watchedOnB = await b.tab(u.token);
    await until(async () => (await subscribers(redis, watchedOnB.sessionId)) === 1);
    expect(await subscribers(redis, onA.sessionId)).toBe(1);
    const bBefore = b.app.get(ClusterBus).stats;

    const sent = await onA.send('count to 30');
    expect((await onA.end(sent.seq)).type).toBe('task_completed');
    // The run wrote its events; B, which does not watch the session, got none of them.
    expect(seqs(onA).length).toBeGreaterThan(5);
    expect(b.app.get(ClusterBus).stats.sessionMessages).toBe(bBefore.sessionMessages);

    // A session B watches: its events, committed on A (the run runs where it was sent), reach B.
    const other = await a.http.post(
      `/sessions/${watchedOnB.sessionId}/messages`,
      { content: 'count to 10' },
      u.token,
    );
    expect(other.status).toBe(202);
    expect((await watchedOnB.end()).type).toBe('task_completed');
    expect(contiguous(seqs(watchedOnB))).toBe(true);
    const bAfter = b.app.get(ClusterBus).stats;
    expect(bAfter.remoteEvents - bBefore.remoteEvents).toBe(watchedOnB.events().length);
    expect(bAfter.sessionMessages - bBefore.sessionMessages).toBe(watchedOnB.events().length);
  });

  it('a socket on node B whose subscription is late gets what node A committed meanwhile, gap-free', async () => {
    const u = await a.user();
    const onA = await a.tab(u.token);
    const held = b.app.get(FaultPoints).pause('cluster.subscribe');
    const onB = await b.tab(u.token, onA.sessionId);
    await held.reached;

    const sent = await onA.send('count to 20');
    expect((await onA.end(sent.seq)).type).toBe('task_completed');
    // Everything was published while B was not subscribed yet: nothing arrived on B.
    expect(onB.events()).toEqual([]);

    held.release();
    expect((await onB.end(sent.seq, 20_000)).type).toBe('task_completed');
    await until(() => onB.events().length === onA.events().length);
    expect(seqs(onB)).toEqual(seqs(onA));
    expect(contiguous(seqs(onB))).toBe(true);
  });

  it('unsubscribes when the last watcher (socket or SSE stream) leaves', async () => {
    const u = await a.user();
    const tab = await b.tab(u.token);
    const sse = await SseClient.open(`${b.baseUrl}/sessions/${tab.sessionId}/stream`, {
      authorization: `Bearer ${u.token}`,
    });
    try {
      await until(async () => (await subscribers(redis, tab.sessionId)) === 1);
      tab.close();
      await until(() => b.app.get(SessionFanoutService).watchedSessions === 0);
      // The SSE stream still watches the session.
      expect(await subscribers(redis, tab.sessionId)).toBe(1);
      const sent = await a.http.post(
        `/sessions/${tab.sessionId}/messages`,
        { content: 'what is 2 + 3' },
        u.token,
      );
      expect(sent.status).toBe(202);
      await sse.waitFor(() => sse.events().some((e) => e.type === 'task_completed'), 20_000);
      const got = sse.events().map((e) => e.seq);
      expect(contiguous(got)).toBe(true);
    } finally {
      sse.close();
    }
    await until(async () => (await subscribers(redis, tab.sessionId)) === 0);
    expect(b.app.get(ClusterBus).stats.sessionChannels).toBe(0);
  });

  it('a watcher that leaves while its subscribe is pending leaves no subscription behind', async () => {
    const u = await a.user();
    const held = b.app.get(FaultPoints).pause('cluster.subscribe');
    const tab = await ChatTab.open(b.baseUrl, u.token);
    await held.reached;
    tab.close();
    await until(() => b.app.get(EventBus).watchedSessions === 0);
    expect(b.app.get(ClusterBus).stats.pendingChannels).toBe(1);
    held.release();
    // The subscribe goes through once released, and is undone as soon as Redis confirms it.
    await until(() => b.app.get(ClusterBus).stats.pendingChannels === 0);
    expect(b.app.get(ClusterBus).stats.sessionChannels).toBe(0);
    expect(await subscribers(redis, tab.sessionId)).toBe(0);
    // Watching again subscribes again.
    const again = await b.tab(u.token, tab.sessionId);
    await until(async () => (await subscribers(redis, again.sessionId)) === 1);
  });

  /** Publishes from B until A's handler got one of B's messages on the shared channel. */
  const sharedChannelWorks = async (): Promise<void> => {
    const got: ClusterMessage[] = [];
    const stop = a.app.get(ClusterBus).on((m) => got.push(m));
    try {
      await until(() => {
        b.app
          .get(ClusterBus)
          .publish({ kind: 'cancelled', requestId: 'probe', runId: 'r', won: false });
        return got.some((m) => m.kind === 'cancelled' && m.requestId === 'probe');
      }, 10_000);
    } finally {
      stop();
    }
  };

  it('sharded: the shared channel still delivers after a node dropped its last session channel', async () => {
    const u = await a.user();
    const tab = await a.tab(u.token);
    await until(async () => (await subscribers(redis, tab.sessionId)) === 1);
    tab.close();
    await until(async () => (await subscribers(redis, tab.sessionId)) === 0);
    expect(a.app.get(ClusterBus).stats.sessionChannels).toBe(0);
    await sharedChannelWorks();
  });

  it('a failed SUBSCRIBE of the shared channel is tried again', async () => {
    let failed = 0;
    a.app.get(FaultPoints).arm('cluster.shared-subscribe', () => {
      if (failed++ === 0) throw new Error('subscribe refused');
    });
    // A new subscriber connection subscribes again, and its first attempt fails.
    const sub = a.app.get(RedisConnections).subscriber;
    sub?.disconnect(true);
    await until(() => failed >= 2);
    await sharedChannelWorks();
  });

  it('falls back to plain PUBLISH/SUBSCRIBE per session (REDIS_SHARDED_PUBSUB=off)', async () => {
    const plain = { ...env, REDIS_URL: redisUrl, REDIS_SHARDED_PUBSUB: 'off' };
    const c1 = await startTestApp(a.database, { ...plain, DATA_DIR: `${a.database.dataDir}-c1` });
    const c2 = await startTestApp(a.database, { ...plain, DATA_DIR: `${a.database.dataDir}-c2` });
    try {
      expect(c1.app.get(ClusterBus).pubSubMode).toBe('classic');
      const u = await ChatTab.user(new Http(c1.baseUrl));
      const on1 = await ChatTab.open(c1.baseUrl, u.token);
      const on2 = await ChatTab.open(c2.baseUrl, u.token, on1.sessionId);
      a.closeAfter(on1, on2);
      await until(async () => (await subscribers(redis, on1.sessionId, false)) === 2);
      expect(await subscribers(redis, on1.sessionId, true)).toBe(0);
      const sent = await on1.send('count to 10');
      expect((await on2.end(sent.seq, 20_000)).type).toBe('task_completed');
      await until(() => on2.events().length === on1.events().length);
      expect(seqs(on2)).toEqual(seqs(on1));
      on1.close();
      on2.close();
      await until(async () => (await subscribers(redis, on1.sessionId, false)) === 0);
    } finally {
      await c2.close();
      await c1.close();
    }
  }, 60_000);
});

describe('per-session cluster channels across a Redis restart', () => {
  let target: TestDatabase;
  let server: ThrowawayRedis;
  let a: TestApp;
  let b: TestApp;
  const tabs: ChatTab[] = [];

  beforeAll(async () => {
    target = await createTestDatabase('postgres');
    server = await ThrowawayRedis.create();
    a = await startTestApp(target, { ...env, REDIS_URL: server.url });
    b = await startTestApp(target, {
      ...env,
      REDIS_URL: server.url,
      DATA_DIR: `${target.dataDir}-b`,
    });
  });

  afterAll(async () => {
    for (const c of tabs) c.close();
    server?.start();
    await b?.close();
    await a?.close();
    server?.remove();
    await target?.drop();
  });

  it('subscribes every watched session again when Redis is back, and reads what it missed from the log', async () => {
    const u = await ChatTab.user(new Http(a.baseUrl));
    const onA = await ChatTab.open(a.baseUrl, u.token);
    const onB = await ChatTab.open(b.baseUrl, u.token, onA.sessionId);
    tabs.push(onA, onB);
    const probe = (): Redis => new Redis(server.url, { maxRetriesPerRequest: 1 });
    let redis = probe();
    await until(async () => (await subscribers(redis, onA.sessionId)) === 2);
    redis.disconnect();

    server.stop();
    // Committed and delivered on A alone: no node can publish while Redis is away.
    const sent = await onA.send('count to 15');
    expect(sent.ok).toBe(true);
    expect((await onA.end(sent.seq, 20_000)).type).toBe('task_completed');
    expect(onB.events()).toEqual([]);

    server.start();
    // Nothing is published after the restart: B must notice the loss by itself.
    expect((await onB.end(sent.seq, 30_000)).type).toBe('task_completed');
    await until(() => onB.events().length === onA.events().length);
    expect(seqs(onB)).toEqual(seqs(onA));
    redis = probe();
    try {
      await until(async () => (await subscribers(redis, onA.sessionId)) === 2);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});

describe('a node that has not reached Redis yet', () => {
  // Nothing listens on port 1: the node never learns the pub/sub mode.
  const c = useTestApp('pglite', { ...env, REDIS_URL: 'redis://127.0.0.1:1' });

  it('holds a bounded number of events for relay and counts the ones it drops', () => {
    const bus = c.app.get(EventBus);
    for (let seq = 1; seq <= MAX_WAITING_FOR_MODE + 5; seq++)
      bus.publish({
        sessionId: '00000000-0000-4000-8000-000000000001',
        seq,
        type: 'response',
        createdAt: '',
        data: { content: 'x' },
      });
    const stats = c.app.get(ClusterBus).stats;
    expect(c.app.get(ClusterBus).pubSubMode).toBeUndefined();
    expect(stats.waitingForMode).toBe(MAX_WAITING_FOR_MODE);
    expect(stats.droppedBeforeMode).toBe(5);
  });
});

describe('a node that reaches Redis late', () => {
  let target: TestDatabase;
  let server: ThrowawayRedis;
  let c: TestApp;
  let probe: Redis | undefined;

  beforeAll(async () => {
    target = await createTestDatabase('pglite');
    server = await ThrowawayRedis.create();
    server.stop();
    c = await startTestApp(target, { ...env, REDIS_URL: server.url });
  });

  afterAll(async () => {
    probe?.disconnect();
    await c?.close();
    server?.start();
    server?.remove();
    await target?.drop();
  });

  it('relays the events it held, in commit order, once it knows the pub/sub mode', async () => {
    const sessionId = '00000000-0000-4000-8000-000000000002';
    const bus = c.app.get(EventBus);
    const event = (seq: number) => ({
      sessionId,
      seq,
      type: 'response' as const,
      createdAt: '',
      data: { content: String(seq) },
    });
    for (let seq = 1; seq <= 50; seq++) bus.publish(event(seq));
    expect(c.app.get(ClusterBus).stats.waitingForMode).toBe(50);

    const detecting = c.app.get(FaultPoints).pause('cluster.mode');
    server.start();
    await detecting.reached;
    // The node is connected but paused before it learns the mode: a listener can be in place.
    probe = new Redis(server.url);
    const got: number[] = [];
    probe.on('smessage', (_channel: string, raw: string) => {
      const body = raw.slice(raw.indexOf(' ') + 1);
      got.push((JSON.parse(body) as { seq: number }).seq);
    });
    await probe.ssubscribe(sessionChannel(sessionId));
    detecting.release();
    await until(() => c.app.get(ClusterBus).pubSubMode !== undefined);
    bus.publish(event(51));
    await until(() => got.length === 51);
    expect(got).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    expect(c.app.get(ClusterBus).stats.waitingForMode).toBe(0);
  }, 60_000);
});
