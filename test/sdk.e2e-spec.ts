import type { Socket } from 'socket.io-client';
import { HitlClient } from '../client/sdk/index.js';
import { socketIoFactory, type ChatSocketLike } from '../client/sdk/chat-socket.js';
import { HistoryService } from '../src/history/history.service.js';
import { createTestDatabase, describeEachDatabase } from './support/databases.js';
import { startTestApp } from './support/test-app.js';
import { useTestApp } from './support/use-test-app.js';

async function until(pred: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeEachDatabase('client SDK against the real service', (kind) => {
  const t = useTestApp(kind, { BUILTIN_TOKEN_DELAY_MS: '1' });
  const sockets: ChatSocketLike[] = [];

  const newClient = () =>
    new HitlClient({
      baseUrl: t.baseUrl,
      eventSource: null,
      reconnectBaseMs: 50,
      reconnectMaxMs: 200,
      socketFactory: (url, token) => {
        const s = socketIoFactory(url, token);
        sockets.push(s);
        return s;
      },
    });

  it('signs up, sends, and reduces the run to its answer', async () => {
    const client = newClient();
    await client.auth.register(`sdk-${Date.now()}@example.com`, 'password123');
    client.connect();
    const session = await client.api.createSession('sdk');
    const room = await client.join(session.id);
    const ack = await room.send('what is 2+3*4');
    expect(ack.seq).toBe(1);
    await until(() => room.state.runStatus === 'completed', 'the run to complete');
    const run = room.state.timeline.find((i) => i.kind === 'run');
    expect(run).toMatchObject({ kind: 'run', status: 'completed', final: true });
    expect(run?.kind === 'run' && run.text).toMatch(/\b14\b/);
    expect(room.state.timeline[0]).toMatchObject({ kind: 'user', content: 'what is 2+3*4' });
    const page = await client.api.listSessions({ limit: 1 });
    expect(page.items[0].id).toBe(session.id);
    client.disconnect();
  });

  it('resumes after a dropped connection with every event once, in order', async () => {
    const client = newClient();
    await client.auth.register(`sdk-${Date.now()}@example.com`, 'password123');
    client.connect();
    await until(() => client.connection.status === 'connected', 'the connection');
    const session = await client.api.createSession('resume');
    const room = await client.join(session.id);
    const history = t.app.get(HistoryService);
    const note = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        type: 'response' as const,
        data: { content: `n${i}` },
      }));
    await history.append(session.id, note(3));
    await until(() => room.lastSeq === 3, 'the first events');

    const live = sockets.at(-1) as unknown as Socket;
    live.io.engine.close(); // the network drops: not a client disconnect
    await until(() => client.connection.status !== 'connected', 'the drop to be noticed');
    await history.append(session.id, note(4)); // written while nobody listens
    await until(() => client.connection.status === 'connected', 'the reconnect');
    await history.append(session.id, note(2));
    await until(() => room.lastSeq === 9, 'all events after the reconnect');
    expect(room.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    client.disconnect();
  });

  it('comes back with a fresh token after the server ends a connection whose token expired', async () => {
    const db = await createTestDatabase(kind);
    const short = await startTestApp(db, { JWT_ACCESS_TTL_S: '2', BUILTIN_TOKEN_DELAY_MS: '1' });
    const client = new HitlClient({
      baseUrl: short.baseUrl,
      eventSource: null,
      reconnectBaseMs: 50,
      reconnectMaxMs: 200,
    });
    try {
      await client.auth.register(`exp-${Date.now()}@example.com`, 'password123');
      const statuses: string[] = [];
      client.onConnection((c) => statuses.push(c.status));
      client.connect();
      const session = await client.api.createSession('expiry');
      const room = await client.join(session.id);
      await until(() => client.connection.status === 'connected', 'the connection');
      const firstToken = client.auth.current!.accessToken;
      await until(() => statuses.includes('reconnecting'), 'auth_expired and the disconnect');
      await until(() => client.connection.status === 'connected', 'the reconnect');
      expect(client.auth.current!.accessToken).not.toBe(firstToken);
      await room.send('what is 6*7');
      await until(() => room.state.runStatus === 'completed', 'the answer');
      const run = room.state.timeline.find((x) => x.kind === 'run');
      expect(run?.kind === 'run' && run.text).toMatch(/\b42\b/);
    } finally {
      client.disconnect();
      await short.close();
      await db.drop();
    }
  });
});
