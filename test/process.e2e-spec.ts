import { join } from 'node:path';
import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from './support/databases.js';
import { ChatTab } from './support/chat.js';
import { Http, postInTwoSteps } from './support/http.js';
import { DIST, MAIN, runNode, startServerProcess } from './support/server-process.js';

const MIGRATE = join(DIST, 'src', 'database', 'migrate.cli.js');

const dbEnv = (db: TestDatabase): Record<string, string> => ({
  DATA_DIR: db.dataDir,
  ...(db.url ? { DATABASE_URL: db.url } : {}),
});

describe('the service process', () => {
  it('refuses to start on a bad configuration, naming each bad variable', async () => {
    const r = await runNode(MAIN, [], {
      PORT: 'eighty',
      LLM_PROVIDER: 'magic',
      DATA_DIR: '/tmp/unused-cfg',
    });
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/Invalid configuration/);
    expect(r.output).toMatch(/PORT/);
    expect(r.output).toMatch(/LLM_PROVIDER/);
  });
});

describeEachDatabase('the service process', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => db?.drop());

  it('keeps users and accepts old tokens after a restart (JWT secret kept in DATA_DIR)', async () => {
    const first = await startServerProcess(dbEnv(db));
    const http1 = new Http(first.baseUrl);
    expect((await http1.get('/health/live')).status).toBe(200);
    expect((await http1.get('/health/ready')).status).toBe(200);
    expect((await http1.get('/docs')).status).toBe(200);
    const u = await http1.register('restart');
    expect((await first.stop()).code).toBe(0);

    const second = await startServerProcess(dbEnv(db));
    try {
      const http2 = new Http(second.baseUrl);
      const me = await http2.get('/auth/me', u.accessToken);
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(u.user.id);
      const login = await http2.post('/auth/login', {
        email: u.user.email,
        password: 'password123',
      });
      expect(login.status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('finishes an in-flight request on SIGTERM and exits within 10 s', async () => {
    const server = await startServerProcess(dbEnv(db));
    // The signal goes once the server holds the request (its headers parsed); the body follows,
    // and registration then hashes it with argon2 while the shutdown is under way.
    const register = postInTwoSteps(`${server.baseUrl}/auth/register`, {
      email: `sigterm-${Date.now()}@example.com`,
      password: 'password123',
    });
    await register.inFlight;
    const stopping = server.stop('SIGTERM');
    expect(await register.send()).toBe(201);
    const { code, ms } = await stopping;
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(server.output()).not.toMatch(/password123/);
  });

  it('runs and reverts migrations from the command line', async () => {
    const revert = await runNode(MIGRATE, ['revert'], dbEnv(db));
    expect(revert.output).toMatch(/reverted/);
    expect(revert.code).toBe(0);
    const status = await runNode(MIGRATE, ['status'], dbEnv(db));
    expect(status.output).toMatch(/pending/);
    const run = await runNode(MIGRATE, ['run'], dbEnv(db));
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/applied: /);
    expect((await runNode(MIGRATE, ['status'], dbEnv(db))).output).toMatch(/up to date/);
  });

  it('on SIGTERM ends live runs (task_cancelled shutdown, seen live), disconnects sockets, and the intent resumes after restart', async () => {
    const env = { ...dbEnv(db), BUILTIN_TOKEN_DELAY_MS: '5', LOG_LEVEL: 'warn' };
    const server = await startServerProcess(env);
    const http = new Http(server.baseUrl);
    const u = await http.register('shutdown');
    const c = await ChatTab.open(server.baseUrl, u.accessToken);
    const ack = await c.send('count to 3000');
    await c.next('generating');
    const disconnected = new Promise<string>((r) => c.socket.once('disconnect', r));
    const { code, ms } = await server.stop('SIGTERM');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(await disconnected).toBe('io server disconnect');
    const cancelled = c.events().find((e) => e.type === 'task_cancelled');
    expect(cancelled).toMatchObject({ runId: ack.runId, data: { reason: 'shutdown' } });
    c.close();

    const again = await startServerProcess(env);
    try {
      const http2 = new Http(again.baseUrl);
      const resumed = await http2.post(
        `/sessions/${c.sessionId}/intents/${ack.intentId}/resume`,
        {},
        u.accessToken,
      );
      expect(resumed.status).toBe(202);
      let started: any;
      for (let i = 0; i < 100 && !started; i++) {
        const events = (
          await http2.get(
            `/sessions/${c.sessionId}/events?afterSeq=${cancelled.seq}`,
            u.accessToken,
          )
        ).body.items;
        started = events.find((e: any) => e.type === 'task_started');
        if (!started) await new Promise((r) => setTimeout(r, 50));
      }
      expect(started).toMatchObject({ runId: resumed.body.runId, data: { attempt: 2 } });
      expect((await http2.post(`/sessions/${c.sessionId}/cancel`, {}, u.accessToken)).status).toBe(
        202,
      );
    } finally {
      await again.stop();
    }
  });

  if (kind === 'pglite') {
    it('a second process on the same DATA_DIR fails with a clear message', async () => {
      const server = await startServerProcess(dbEnv(db));
      try {
        const second = await runNode(MAIN, [], { ...dbEnv(db), PORT: '0', HOST: '127.0.0.1' });
        expect(second.code).not.toBe(0);
        expect(second.output).toMatch(/DATA_DIR .* is in use by process \d+/);
        expect((await new Http(server.baseUrl).get('/health/ready')).status).toBe(200);
      } finally {
        await server.stop();
      }
    });
  }
});
