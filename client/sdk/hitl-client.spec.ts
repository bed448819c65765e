import type { SessionEvent } from '@hitl/contracts';
import type { ChatSocketLike } from './chat-socket.js';
import { backoffDelay } from './chat-socket.js';
import { HitlClient } from './hitl-client.js';

type Handler = (...args: any[]) => void;

/** A stand-in for one Socket.IO connection, driven by the test as the server would. */
class FakeSocket implements ChatSocketLike {
  connected = false;
  readonly handlers = new Map<string, Handler[]>();
  readonly emitted: { event: string; payload: any; ack: Handler }[] = [];
  constructor(readonly token: string) {}
  on(event: string, fn: Handler): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
  }
  emit(event: string, payload: any, ack: Handler): void {
    this.emitted.push({ event, payload, ack });
  }
  disconnect(): void {
    this.drop('io client disconnect');
  }
  fire(event: string, ...args: unknown[]): void {
    for (const h of this.handlers.get(event) ?? []) h(...args);
  }
  open(): void {
    this.connected = true;
    this.fire('connect');
  }
  drop(reason = 'transport close'): void {
    if (!this.connected) return;
    this.connected = false;
    this.fire('disconnect', reason);
  }
  last(event: string) {
    return this.emitted.filter((e) => e.event === event).at(-1);
  }
}

const session = {
  id: 's1',
  title: null,
  status: 'active',
  createdAt: '',
  lastActivityAt: '',
  lastSeq: 0,
};
const noState = { run: null, pendingInteraction: null };
const ev = (seq: number): SessionEvent => ({
  sessionId: 's1',
  seq,
  type: 'response',
  createdAt: '',
  data: { content: `r${seq}` },
});

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !pred(); i++) await tick(2);
  if (!pred()) throw new Error('condition not reached');
}

function makeClient() {
  const sockets: FakeSocket[] = [];
  const fetchImpl = (url: string): Promise<Response> =>
    Promise.resolve(
      new Response(
        JSON.stringify(
          url.includes('/auth/')
            ? { user: { id: 'u' }, accessToken: 'tok', refreshToken: 'r', expiresIn: 900 }
            : { items: [], hasMore: false },
        ),
        { status: 200 },
      ),
    );
  const client = new HitlClient({
    fetch: fetchImpl,
    socketFactory: (_url, token) => {
      const s = new FakeSocket(token);
      sockets.push(s);
      return s;
    },
    eventSource: null,
    reconnectBaseMs: 1,
    reconnectMaxMs: 4,
    gapDelayMs: 5,
  });
  return { client, sockets };
}

async function connectAndJoin(client: HitlClient, sockets: FakeSocket[]) {
  await client.auth.login('a@b.c', 'password123');
  client.connect();
  await until(() => sockets.length === 1);
  sockets[0].open();
  const joining = client.join('s1');
  await until(() => sockets[0].last('session:join') !== undefined);
  sockets[0]
    .last('session:join')!
    .ack({ ok: true, session, state: noState, events: [ev(1), ev(2)], hasMore: false });
  return joining;
}

describe('HitlClient', () => {
  it('rejoins after a reconnect from the last seq it saw, without duplicates', async () => {
    const { client, sockets } = makeClient();
    const room = await connectAndJoin(client, sockets);
    sockets[0].fire('session:event', ev(3));
    sockets[0].fire('session:event', ev(3));
    expect(room.events.map((e) => e.seq)).toEqual([1, 2, 3]);

    sockets[0].drop();
    expect(client.connection.status).toBe('reconnecting');
    await until(() => sockets.length === 2);
    sockets[1].open();
    await until(() => sockets[1].last('session:join') !== undefined);
    expect(sockets[1].last('session:join')!.payload).toEqual({ sessionId: 's1', afterSeq: 3 });
    // A live event may beat the join ack; the replay then repeats it.
    sockets[1].fire('session:event', ev(5));
    sockets[1]
      .last('session:join')!
      .ack({ ok: true, session, state: noState, events: [ev(4), ev(5)], hasMore: false });
    await until(() => room.events.length === 5);
    expect(room.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(client.connection).toMatchObject({ status: 'connected', transport: 'websocket' });
    client.disconnect();
  });

  it('passes each sessions event to its listeners until they unsubscribe', async () => {
    const { client, sockets } = makeClient();
    await connectAndJoin(client, sockets);
    const heard: unknown[] = [];
    const stop = client.onSessions((change) => heard.push(change));
    const created = { action: 'created', session };
    sockets[0].fire('sessions', created);
    stop();
    sockets[0].fire('sessions', { action: 'closed', session: { ...session, status: 'closed' } });
    expect(heard).toEqual([created]);
    client.disconnect();
  });

  it('sends an unacknowledged message again, same clientMessageId, after reconnecting', async () => {
    const { client, sockets } = makeClient();
    const room = await connectAndJoin(client, sockets);
    const sending = room.send('hello');
    await until(() => sockets[0].last('message:send') !== undefined);
    const first = sockets[0].last('message:send')!;
    expect(first.payload).toMatchObject({ sessionId: 's1', content: 'hello' });
    sockets[0].drop(); // the ack is lost with the connection
    expect(room.unacknowledged).toBe(1);

    await until(() => sockets.length === 2);
    sockets[1].open();
    await until(() => sockets[1].last('session:join') !== undefined);
    expect(sockets[1].last('message:send')).toBeUndefined(); // not before the rejoin
    sockets[1]
      .last('session:join')!
      .ack({ ok: true, session, state: noState, events: [], hasMore: false });
    await until(() => sockets[1].last('message:send') !== undefined);
    const again = sockets[1].last('message:send')!;
    expect(again.payload.clientMessageId).toBe(first.payload.clientMessageId);
    again.ack({ ok: true, intentId: 'i', runId: 'r', seq: 3 });
    await expect(sending).resolves.toEqual({ intentId: 'i', runId: 'r', seq: 3 });
    expect(room.unacknowledged).toBe(0);
    first.ack({ ok: true, intentId: 'i', runId: 'r', seq: 3 }); // a late ack changes nothing
    client.disconnect();
  });

  it('rejects a send the server refuses, and does not send it again', async () => {
    const { client, sockets } = makeClient();
    const room = await connectAndJoin(client, sockets);
    const sending = room.send('busy');
    await until(() => sockets[0].last('message:send') !== undefined);
    sockets[0]
      .last('message:send')!
      .ack({ ok: false, error: { code: 'SESSION_BUSY', message: 'busy' } });
    await expect(sending).rejects.toMatchObject({ code: 'SESSION_BUSY' });
    expect(room.unacknowledged).toBe(0);
    client.disconnect();
  });

  it('sends steering requests with their options and passes a queued ack through', async () => {
    const { client, sockets } = makeClient();
    const room = await connectAndJoin(client, sockets);
    const s = sockets[0];
    s.fire('session:event', {
      ...ev(3),
      type: 'user_message',
      intentId: 'a',
      data: { content: 'hi', clientMessageId: 'c', parentIntentId: 'root' },
    });
    expect(room.headIntentId).toBe('a');

    const queued = room.send('later', { ifBusy: 'enqueue' });
    await until(() => s.last('message:send') !== undefined);
    expect(s.last('message:send')!.payload).toMatchObject({ content: 'later', ifBusy: 'enqueue' });
    expect(s.last('message:send')!.payload).not.toHaveProperty('parentIntentId');
    s.last('message:send')!.ack({
      ok: true,
      intentId: 'q',
      runId: null,
      seq: 4,
      queued: true,
      position: 1,
    });
    await expect(queued).resolves.toEqual({
      intentId: 'q',
      runId: null,
      seq: 4,
      queued: true,
      position: 1,
    });

    const edited = room.edit('a', 'hello', { ifBusy: 'interrupt' });
    await until(() => s.last('message:send')!.payload.content === 'hello');
    expect(s.last('message:send')!.payload).toMatchObject({
      parentIntentId: 'root',
      ifBusy: 'interrupt',
    });
    s.last('message:send')!.ack({ ok: true, intentId: 'a2', runId: 'r2', seq: 5 });
    await edited;
    await expect(room.edit('nope', 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    // [event, the call, the intent it names, its ack, what the call resolves to]
    const calls: [string, Promise<unknown>, string, object, unknown][] = [
      ['intent:cancel', room.cancelQueued('q'), 'q', {}, undefined],
      ['intent:regenerate', room.regenerate(), 'a', { runId: 'r3' }, { runId: 'r3' }],
      ['session:checkout', room.checkout('a'), 'a', { headIntentId: 'a' }, { headIntentId: 'a' }],
    ];
    for (const [event, done, intentId, ack, result] of calls) {
      expect(s.last(event)!.payload).toEqual({ sessionId: 's1', intentId });
      s.last(event)!.ack({ ok: true, ...ack });
      await expect(done).resolves.toEqual(result);
    }
    client.disconnect();
  });

  it('ends a for-await loop over room.stream() when the room is left', async () => {
    const { client, sockets } = makeClient();
    const room = await connectAndJoin(client, sockets);
    const seen: number[] = [];
    const loop = (async () => {
      for await (const e of room.stream()) seen.push(e.seq);
    })();
    sockets[0].fire('session:event', ev(3));
    await until(() => seen.length === 1);
    client.leave('s1');
    await expect(loop).resolves.toBeUndefined();
    expect(seen).toEqual([3]);
    client.disconnect();
  });

  it('opens no socket when disconnect() comes while the token is being refreshed', async () => {
    let release: () => void = () => undefined;
    const refreshGate = new Promise<void>((r) => (release = r));
    const sockets: FakeSocket[] = [];
    const client = new HitlClient({
      fetch: async (url) => {
        if (url.endsWith('/auth/refresh')) await refreshGate;
        // A short-lived token, so connecting must refresh it first.
        const body = { user: { id: 'u' }, accessToken: 'tok', refreshToken: 'r', expiresIn: 5 };
        return new Response(JSON.stringify(body), { status: 200 });
      },
      socketFactory: (_url, token) => {
        const s = new FakeSocket(token);
        sockets.push(s);
        return s;
      },
      eventSource: null,
    });
    await client.auth.login('a@b.c', 'password123');
    client.connect();
    client.disconnect();
    release();
    await client.auth.accessToken(); // the same shared refresh, now done
    await tick(5);
    expect(sockets).toHaveLength(0);
    expect(client.connection.status).toBe('idle');
  });

  it("clears the inbox on sign-out, so the next user never sees the previous user's questions", async () => {
    let user = 'A';
    const fetchImpl = (url: string): Promise<Response> => {
      const body = url.includes('/auth/')
        ? { user: { id: user }, accessToken: `tok-${user}`, refreshToken: 'r', expiresIn: 900 }
        : {
            items: [{ interactionId: `${user}1`, sessionId: 's', sessionTitle: `${user} title` }],
            nextCursor: null,
          };
      return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
    };
    const client = new HitlClient({ fetch: fetchImpl, eventSource: null });
    await client.auth.login('a@b.c', 'password123');
    const off = client.inbox.onChange(() => undefined);
    await until(() => client.inbox.items.length === 1);
    off(); // the page unmounts on sign-out
    await client.auth.logout();
    expect(client.inbox.items).toEqual([]);
    user = 'B';
    await client.auth.login('b@b.c', 'password123');
    const seen: string[][] = [];
    client.inbox.onChange((items) => seen.push(items.map((i) => i.interactionId)));
    await until(() => seen.length === 1);
    expect(seen).toEqual([['B1']]);
  });

  it('backs off exponentially with jitter, within bounds', () => {
    expect(backoffDelay(1, 500, 15_000, () => 0)).toBe(250);
    expect(backoffDelay(1, 500, 15_000, () => 1)).toBe(500);
    expect(backoffDelay(4, 500, 15_000, () => 0.5)).toBe(3000);
    expect(backoffDelay(20, 500, 15_000, () => 1)).toBe(15_000);
  });
});
