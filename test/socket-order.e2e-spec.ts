import { ChatGateway } from '../src/chat/chat.gateway.js';
import { SessionFanoutService } from '../src/chat/session-fanout.service.js';
import type { NewEvent } from '../src/contracts/events.js';
import { Database } from '../src/database/database.js';
import { RedisConnections } from '../src/cluster/redis-connections.js';
import { EventBus } from '../src/history/event-bus.js';
import { HistoryRepository } from '../src/history/history.repository.js';
import { HistoryService } from '../src/history/history.service.js';
import { PresenceService } from '../src/sessions/presence.service.js';
import { SessionsService } from '../src/sessions/sessions.service.js';
import { describeEachDatabase } from './support/databases.js';
import { Http } from './support/http.js';
import { ask, EventLog } from './support/socket.js';
import { SseClient } from './support/sse.js';
import { type AppUnderTest, useTestApp } from './support/use-test-app.js';
import { serviceUrl } from './support/services.js';

const step = (n: number): NewEvent => ({
  type: 'thinking',
  data: { step: 'intent_recognition', status: 'started', detail: `e${n}` },
});

const seqsOf = (log: EventLog, sessionId: string): number[] =>
  log.of(sessionId).map((e: { seq: number }) => e.seq);

/** Appends through the log of `app`: committed, then published to that node's EventBus. */
const append = (app: AppUnderTest, sessionId: string, n: number): Promise<unknown> =>
  app.app.get(HistoryService).append(sessionId, [step(n)]);

/** Commits an event without publishing it anywhere: another node's event whose relay was lost. */
const appendUnannounced = (app: AppUnderTest, sessionId: string, n: number): Promise<unknown> =>
  app.app
    .get(HistoryRepository)
    .appendBatch([{ ord: 0, group: 0, sessionId, event: step(n), touch: true, fenced: false }]);

describeEachDatabase('per-socket seq order', (kind) => {
  const t = useTestApp(kind, { RATE_LIMIT_MESSAGES_PER_MINUTE: '1000' });

  const joined = async (sessions: string[], token: string) => {
    const socket = await t.socket(token);
    const log = new EventLog(socket);
    for (const sessionId of sessions) {
      const r = await ask(socket, 'session:join', { sessionId });
      expect(r.ok).toBe(true);
    }
    return { socket, log };
  };

  const newSession = async (token: string): Promise<string> =>
    (await t.http.post('/sessions', {}, token)).body.id as string;

  it('a seq that never arrived live is read from the log and delivered before the next one', async () => {
    const u = await t.http.register();
    const s = await newSession(u.accessToken);
    const { log } = await joined([s], u.accessToken);
    await append(t, s, 1);
    await appendUnannounced(t, s, 2);
    await append(t, s, 3);
    await log.until(() => log.of(s).length === 3);
    expect(seqsOf(log, s)).toEqual([1, 2, 3]);
    expect(log.of(s)[1].data.detail).toBe('e2');
  });

  it('a late joiner starts at the log end: no live flood of old events, then every new one', async () => {
    const u = await t.http.register();
    const s = await newSession(u.accessToken);
    for (let i = 1; i <= 40; i++) await append(t, s, i);
    const socket = await t.socket(u.accessToken);
    const log = new EventLog(socket);
    const ack = await ask(socket, 'session:join', { sessionId: s, afterSeq: 40 });
    expect(ack).toMatchObject({ ok: true, events: [], hasMore: false });
    await append(t, s, 41);
    await log.until(() => log.of(s).length > 0);
    expect(seqsOf(log, s)).toEqual([41]);
  });

  it('a session has one sequencer per node while sockets watch it, none after the last leaves', async () => {
    const u = await t.http.register();
    const s = await newSession(u.accessToken);
    const fanout = t.app.get(SessionFanoutService);
    const bus = t.app.get(EventBus);
    const before = fanout.watchedSessions;
    const one = await joined([s], u.accessToken);
    const two = await joined([s], u.accessToken);
    expect(fanout.watchedSessions).toBe(before + 1);
    expect(bus.listenerCount(s)).toBe(1);
    await append(t, s, 1);
    await one.log.until(() => one.log.of(s).length === 1);
    await two.log.until(() => two.log.of(s).length === 1);
    expect((await ask(one.socket, 'session:leave', { sessionId: s })).ok).toBe(true);
    expect(fanout.watchedSessions).toBe(before + 1);
    const gone = new Promise((r) => two.socket.once('disconnect', r));
    two.socket.close();
    await gone;
    await until(() => fanout.watchedSessions === before);
    expect(bus.listenerCount(s)).toBe(0);
    expect(t.app.get(PresenceService).isWatched(s)).toBe(false);
  });

  it('a socket in two sessions that leaves one keeps the other; leaving twice or rejoining is clean', async () => {
    const u = await t.http.register();
    const s1 = await newSession(u.accessToken);
    const s2 = await newSession(u.accessToken);
    const fanout = t.app.get(SessionFanoutService);
    const presence = t.app.get(PresenceService);
    const before = fanout.watchedSessions;
    const { socket, log } = await joined([s1, s2], u.accessToken);
    // Joining a session twice holds it once.
    expect((await ask(socket, 'session:join', { sessionId: s1 })).ok).toBe(true);
    expect(fanout.watchedSessions).toBe(before + 2);
    expect((await ask(socket, 'session:leave', { sessionId: s1 })).ok).toBe(true);
    expect((await ask(socket, 'session:leave', { sessionId: s1 })).ok).toBe(true);
    expect(fanout.watchedSessions).toBe(before + 1);
    expect(presence.isWatched(s1)).toBe(false);
    expect(presence.isWatched(s2)).toBe(true);
    await append(t, s1, 1);
    await append(t, s2, 1);
    await log.until(() => log.of(s2).length === 1);
    expect(log.of(s1)).toEqual([]);
    expect((await ask(socket, 'session:join', { sessionId: s1 })).ok).toBe(true);
    expect(presence.isWatched(s1)).toBe(true);
    await append(t, s1, 2);
    await log.until(() => log.of(s1).length === 1);
    expect(seqsOf(log, s1)).toEqual([2]);
    const gone = new Promise((r) => socket.once('disconnect', r));
    socket.close();
    await gone;
    await until(() => fanout.watchedSessions === before);
    expect(presence.isWatched(s1) || presence.isWatched(s2)).toBe(false);
  });

  it('a join that fails after entering the room leaves it and releases the watch', async () => {
    const u = await t.http.register();
    const s1 = await newSession(u.accessToken);
    const s2 = await newSession(u.accessToken);
    const socket = await t.socket(u.accessToken);
    const log = new EventLog(socket);
    const db = t.app.get(Database);
    // The replay read fails: the log's table is briefly missing.
    await db.query('ALTER TABLE chat_history RENAME TO chat_history_away');
    let failed: { ok: boolean; error: { code: string } };
    try {
      failed = await ask(socket, 'session:join', { sessionId: s1 });
    } finally {
      await db.query('ALTER TABLE chat_history_away RENAME TO chat_history');
    }
    expect(failed).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(t.app.get(PresenceService).isWatched(s1)).toBe(false);
    expect(t.app.get(EventBus).listenerCount(s1)).toBe(0);
    expect(t.app.get(ChatGateway).connectedCount).toBeGreaterThan(0);
    // Same node, same socket: had it stayed in s1's room, s1's event would arrive before s2's.
    expect((await ask(socket, 'session:join', { sessionId: s2 })).ok).toBe(true);
    await append(t, s1, 1);
    await append(t, s2, 1);
    await log.until(() => log.of(s2).length === 1);
    expect(log.of(s1)).toEqual([]);
  });

  it('leave then join, sent back to back, end joined even when the leave is slower to read', async () => {
    const u = await t.http.register();
    const s = await newSession(u.accessToken);
    const { socket, log } = await joined([s], u.accessToken);
    const sessionsService = t.app.get(SessionsService);
    const requireOwned = sessionsService.requireOwned.bind(sessionsService);
    let open!: () => void;
    const joinRead = new Promise<void>((r) => (open = r));
    let calls = 0;
    // The leave's read of the session finishes only after the join's (or after 1 s, when the
    // join waits for the leave): a join overtaking the leave would be undone by it.
    sessionsService.requireOwned = async (...args) => {
      calls += 1;
      if (calls === 1) {
        await Promise.race([joinRead, new Promise((r) => setTimeout(r, 1_000))]);
        return requireOwned(...args);
      }
      const row = await requireOwned(...args);
      open();
      return row;
    };
    let acks: { ok: boolean }[];
    try {
      acks = await Promise.all([
        ask(socket, 'session:leave', { sessionId: s }),
        ask(socket, 'session:join', { sessionId: s }),
      ]);
    } finally {
      sessionsService.requireOwned = requireOwned;
    }
    expect(acks.map((a) => a.ok)).toEqual([true, true]);
    await append(t, s, 1);
    await log.until(() => log.of(s).length === 1);
    expect(t.app.get(PresenceService).isWatched(s)).toBe(true);
  });

  it('a failed join does not undo a join of the same session retried meanwhile', async () => {
    const u = await t.http.register();
    const s = await newSession(u.accessToken);
    const socket = await t.socket(u.accessToken);
    const log = new EventLog(socket);
    const sessionsService = t.app.get(SessionsService);
    const page = sessionsService.page.bind(sessionsService);
    let calls = 0;
    // The first join's replay read fails; the second one (a client retrying) goes through.
    sessionsService.page = (...args) =>
      (calls += 1) === 1 ? Promise.reject(new Error('replay read failed')) : page(...args);
    let acks: { ok: boolean }[];
    try {
      acks = await Promise.all([
        ask(socket, 'session:join', { sessionId: s }),
        ask(socket, 'session:join', { sessionId: s }),
      ]);
    } finally {
      sessionsService.page = page;
    }
    expect(acks.map((a) => a.ok).sort()).toEqual([false, true]);
    await append(t, s, 1);
    await log.until(() => log.of(s).length === 1);
    expect(t.app.get(PresenceService).isWatched(s)).toBe(true);
  });
});

const until = async (pred: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const redisUrl = serviceUrl('TEST_REDIS_URL');

describe('per-socket seq order across two nodes', () => {
  const env = { REDIS_URL: redisUrl, JWT_SECRET: 'socket-order-test-secret-of-both-nodes' };
  const a = useTestApp('postgres', env);
  const b = a.node(env);

  const joinedOn = async (app: AppUnderTest, token: string, sessionId: string) => {
    const socket = await app.socket(token);
    const log = new EventLog(socket);
    expect((await ask(socket, 'session:join', { sessionId })).ok).toBe(true);
    return log;
  };

  it('an event of another node relayed late still reaches the socket before the later local one', async () => {
    const http = new Http(a.baseUrl);
    const u = await http.register();
    const s = (await http.post('/sessions', {}, u.accessToken)).body.id as string;
    const onA = await joinedOn(a, u.accessToken, s);
    const onB = await joinedOn(b, u.accessToken, s);
    await append(b, s, 1);
    await onA.until(() => onA.of(s).length === 1);
    // Node A reads nothing from Redis for a while: whatever B publishes waits on the wire.
    const redis = a.app.get(RedisConnections);
    const streams = [redis.subscriber, redis.adapterSub].map(
      (c) => (c as unknown as { stream: NodeJS.ReadableStream }).stream,
    );
    for (const st of streams) st.pause();
    try {
      await append(b, s, 2);
      await append(a, s, 3);
      await onA.until(() => onA.of(s).length >= 3);
    } finally {
      for (const st of streams) st.resume();
    }
    await append(a, s, 4);
    await onA.until(() => onA.of(s).length >= 4);
    await onB.until(() => onB.of(s).length >= 4);
    expect(seqsOf(onA, s)).toEqual([1, 2, 3, 4]);
    expect(seqsOf(onB, s)).toEqual([1, 2, 3, 4]);
  });

  it('a relay lost while the bus was away (nothing after it) is read from the log once it is back', async () => {
    const http = new Http(a.baseUrl);
    const u = await http.register();
    const s = (await http.post('/sessions', {}, u.accessToken)).body.id as string;
    const onA = await joinedOn(a, u.accessToken, s);
    await append(b, s, 1);
    await onA.until(() => onA.of(s).length === 1);
    // B's next event is committed, and its relay never reaches A; then A's bus reconnects.
    await appendUnannounced(b, s, 2);
    a.app.get(RedisConnections).subscriber!.disconnect(true);
    await onA.until(() => onA.of(s).length === 2, 20_000);
    expect(seqsOf(onA, s)).toEqual([1, 2]);
  });

  it('an SSE stream gets a relay lost while the bus was away once it is back', async () => {
    const http = new Http(a.baseUrl);
    const u = await http.register();
    const s = (await http.post('/sessions', {}, u.accessToken)).body.id as string;
    const sse = await SseClient.open(`${a.baseUrl}/sessions/${s}/stream`, {
      authorization: `Bearer ${u.accessToken}`,
    });
    try {
      await append(b, s, 1);
      await sse.waitFor(() => sse.events().length === 1);
      await appendUnannounced(b, s, 2);
      a.app.get(RedisConnections).subscriber!.disconnect(true);
      await sse.waitFor(() => sse.events().length === 2);
      expect(sse.events().map((e) => e.seq)).toEqual([1, 2]);
    } finally {
      sse.close();
    }
  });

  it('each socket gets each event once, wherever it was committed', async () => {
    const http = new Http(b.baseUrl);
    const u = await http.register();
    const s = (await http.post('/sessions', {}, u.accessToken)).body.id as string;
    const logs = [
      await joinedOn(a, u.accessToken, s),
      await joinedOn(a, u.accessToken, s),
      await joinedOn(b, u.accessToken, s),
    ];
    await Promise.all(Array.from({ length: 30 }, (_, i) => append(i % 2 === 0 ? a : b, s, i + 1)));
    for (const log of logs) await log.until(() => log.of(s).length >= 30);
    // A last event, so that a duplicate of any earlier one would have arrived before it.
    await append(a, s, 31);
    for (const log of logs) await log.until(() => log.of(s).some((e) => e.seq === 31));
    for (const log of logs)
      expect(seqsOf(log, s)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
  });
});
