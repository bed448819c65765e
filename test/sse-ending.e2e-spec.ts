import http from 'node:http';
import type { Socket } from 'node:net';
import { ClusterBus } from '../src/cluster/cluster-bus.js';
import { FaultPoints } from '../src/common/fault-points.js';
import { HistoryService } from '../src/history/history.service.js';
import { EventBus } from '../src/history/event-bus.js';
import { PresenceService } from '../src/sessions/presence.service.js';
import { describeEachDatabase } from './support/databases.js';
import { serviceUrl } from './support/services.js';
import { SseClient } from './support/sse.js';
import { useTestApp } from './support/use-test-app.js';

/**
 * docs/protocol.md "Server-Sent Events and stream tickets": an open stream ends when the session is
 * closed, however it was opened.
 */
describeEachDatabase('SSE streams of closed sessions', (kind) => {
  // With Redis: a stream that never ends would also hold its session's channel subscription.
  const t = useTestApp(kind, { REDIS_URL: serviceUrl('TEST_REDIS_URL') });
  let token: string;

  beforeAll(async () => {
    token = (await t.http.register('sse-end')).accessToken;
  });

  /** A closed session whose log is 1, 2 (responses), 3 (session_closed). */
  const closedSession = async (): Promise<string> => {
    const s = (await t.http.post('/sessions', {}, token)).body.id;
    await t.app.get(HistoryService).append(s, [
      { type: 'response', data: { content: 'a' } },
      { type: 'response', data: { content: 'b' } },
    ]);
    expect((await t.http.request('DELETE', `/sessions/${s}`, { token })).status).toBe(204);
    return s;
  };
  const open = (s: string, query = '', headers: Record<string, string> = {}): Promise<SseClient> =>
    SseClient.open(`${t.baseUrl}/sessions/${s}/stream${query}`, {
      authorization: `Bearer ${token}`,
      ...headers,
    });
  /** Nothing of the stream is left: no bus listener, no presence watch, no Redis channel. */
  const released = async (s: string): Promise<void> => {
    const bus = t.app.get(EventBus);
    const presence = t.app.get(PresenceService);
    const cluster = t.app.get(ClusterBus);
    const held = (): boolean =>
      bus.listenerCount(s) > 0 ||
      presence.isWatched(s) ||
      cluster.stats.sessionChannels > 0 ||
      cluster.stats.pendingChannels > 0;
    const deadline = Date.now() + 5000;
    while (held() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect({
      listeners: bus.listenerCount(s),
      watched: presence.isWatched(s),
      channels: cluster.stats.sessionChannels,
      pending: cluster.stats.pendingChannels,
    }).toEqual({ listeners: 0, watched: false, channels: 0, pending: 0 });
  };

  it('a stream resumed at session_closed (Last-Event-ID) is a 204 and holds nothing', async () => {
    const s = await closedSession();
    const c = await open(s, '', { 'last-event-id': '3' });
    // 204: EventSource stops reconnecting (200-and-end would have it come back every 2 s).
    expect(c.status).toBe(204);
    await c.waitFor(() => c.closed, 5000);
    expect(c.closed).toBe(true);
    expect(c.events()).toEqual([]);
    await released(s);
  });

  it('a stream resumed after session_closed by ?afterSeq= is a 204', async () => {
    const s = await closedSession();
    const c = await open(s, '?afterSeq=7');
    expect(c.status).toBe(204);
    await c.waitFor(() => c.closed, 5000);
    expect(c.closed).toBe(true);
    expect(c.events()).toEqual([]);
    await released(s);
  });

  it('a stream opened on a closed session replays the log and ends', async () => {
    const s = await closedSession();
    const c = await open(s);
    await c.waitFor(() => c.closed, 5000);
    expect(c.closed).toBe(true);
    expect(c.events().map((e) => [e.seq, e.type])).toEqual([
      [1, 'response'],
      [2, 'response'],
      [3, 'session_closed'],
    ]);
    await released(s);
  });

  it('what a log holds after session_closed is sent, then the stream ends', async () => {
    const s = await closedSession();
    // A log written before closed sessions were kept quiet (a reminder fired after the close).
    await t.app.get(HistoryService).append(s, [{ type: 'response', data: { content: 'late' } }]);
    const c = await open(s, '', { 'last-event-id': '3' });
    await c.waitFor(() => c.closed, 5000);
    expect(c.closed).toBe(true);
    expect(c.events().map((e) => e.seq)).toEqual([4]);
    await released(s);
  });

  it('a stream past the log of an open session ends when the session closes', async () => {
    const s = (await t.http.post('/sessions', {}, token)).body.id;
    // A Last-Event-ID beyond the log: session_closed (seq 1) is at or before the position.
    const read = t.app.get(FaultPoints).pause('stream.status-read');
    const c = await open(s, '', { 'last-event-id': '5' });
    // The stream has read the status (active) before the close, which it then only sees on the bus.
    await read.reached;
    read.release();
    expect((await t.http.request('DELETE', `/sessions/${s}`, { token })).status).toBe(204);
    await c.waitFor(() => c.closed, 5000);
    expect(c.closed).toBe(true);
    expect(c.events()).toEqual([]);
    await released(s);
  });

  it('a stream past the log whose session_closed is lost on the bus ends on the next re-read', async () => {
    const s = (await t.http.post('/sessions', {}, token)).body.id;
    const read = t.app.get(FaultPoints).pause('stream.status-read');
    const c = await open(s, '', { 'last-event-id': '5' });
    await read.reached;
    read.release();
    // Redis lost it: session_closed never reaches this node's bus.
    const bus = t.app.get(EventBus);
    const publish = bus.publish.bind(bus);
    bus.publish = (e, origin) => (e.type === 'session_closed' ? undefined : publish(e, origin));
    try {
      expect((await t.http.request('DELETE', `/sessions/${s}`, { token })).status).toBe(204);
    } finally {
      bus.publish = publish;
    }
    expect(c.closed).toBe(false);
    // The channel's subscription is confirmed again (Redis came back): the stream re-reads.
    const cluster: unknown = t.app.get(ClusterBus);
    const live = (cluster as { live: Map<string, Set<() => void>> }).live;
    for (const handler of live.get(s) ?? []) handler();
    await c.waitFor(() => c.closed, 5000);
    expect(c.closed).toBe(true);
    expect(c.events()).toEqual([]);
    await released(s);
  });

  it('a client that leaves before its stream starts leaves nothing open', async () => {
    const s = (await t.http.post('/sessions', {}, token)).body.id;
    const server: http.Server = t.app.getHttpServer();
    const sockets: Socket[] = [];
    const onConnection = (k: Socket): void => void sockets.push(k);
    server.on('connection', onConnection);
    const hold = t.app.get(FaultPoints).pause('stream.authorized');
    const req = http.get(`${t.baseUrl}/sessions/${s}/stream`, {
      headers: { authorization: `Bearer ${token}` },
      agent: false, // a connection of its own, seen by the listener above
    });
    req.on('error', () => undefined);
    try {
      // Its checks have read the database; it is held before the stream starts.
      await hold.reached;
      const mine = sockets.find((k) => k.remotePort === req.socket?.localPort);
      expect(mine).toBeDefined();
      const gone = new Promise((r) => mine?.once('close', r));
      req.destroy();
      await gone;
    } finally {
      server.off('connection', onConnection);
      hold.release();
    }
    // The held request goes on in this turn's microtasks: let them run before looking.
    await new Promise((r) => setImmediate(r));
    await released(s);
  });
});
