import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatTab } from './support/chat.js';
import { Http } from './support/http.js';
import { ask, connect } from './support/socket.js';
import { ThrowawayPostgres } from './support/services.js';
import { SessionFanoutService } from '../src/chat/session-fanout.service.js';
import { PresenceService } from '../src/sessions/presence.service.js';
import { startTestApp, type TestApp } from './support/test-app.js';

async function until(pred: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const counting = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i + 1));

/** The generating text of the run whose user_message has `seq`, from a full log. */
function streamed(events: any[], fromSeq: number): string[] {
  return events
    .filter((e) => e.seq > fromSeq && e.type === 'generating')
    .map((e) => e.data.delta as string)
    .join('')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
}

describe('PostgreSQL stopped and started during a chat', () => {
  let pg: ThrowawayPostgres;
  const dirs: string[] = [];
  const apps: TestApp[] = [];

  beforeAll(async () => {
    pg = await ThrowawayPostgres.create();
  });

  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    pg?.remove();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string>): Promise<TestApp> => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pg-outage-app-'));
    dirs.push(dataDir);
    const app = await startTestApp(
      { kind: 'postgres', url: pg.url, dataDir, drop: () => Promise.resolve() },
      { RATE_LIMIT_MESSAGES_PER_MINUTE: '1000', ...env },
    );
    apps.push(app);
    return app;
  };

  const readiness = async (http: Http): Promise<number> => (await http.get('/health/ready')).status;

  it('answers 503 UNAVAILABLE to valid tokens, and a short outage loses no streamed text', async () => {
    const t = await start({ BUILTIN_TOKEN_DELAY_MS: '10', HISTORY_OUTAGE_WAIT_MS: '30000' });
    const http = new Http(t.baseUrl);
    const u = await ChatTab.user(http);
    const c = await ChatTab.open(t.baseUrl, u.token);
    const ack = await c.send('count to 300');
    expect(ack.ok).toBe(true);
    await c.next('generating', ack.seq);

    pg.stop();
    try {
      const me = await http.get('/auth/me', u.token);
      expect(me.status).toBe(503);
      expect(me.body).toMatchObject({ code: 'UNAVAILABLE' });
      expect(me.body.retryAfterMs).toBeGreaterThan(0);
      expect(Number(me.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await http.post('/sessions', {}, u.token)).status).toBe(503);
      expect(await readiness(http)).toBe(503);
      const refused = await connect(t.baseUrl, u.token).then(
        (s) => (s.close(), undefined),
        (err: Error & { data?: any }) => err,
      );
      expect(refused?.message).toBe('UNAVAILABLE');
      expect(refused?.data?.retryAfterMs).toBeGreaterThan(0);
      const busy = await ask(c.socket, 'session:create', {});
      expect(busy.error.code).toBe('UNAVAILABLE');
      await pause(1500);
    } finally {
      pg.start();
    }
    await until(async () => (await readiness(http)) === 200);
    const end = await c.end(ack.seq, 30_000);
    expect(end.type).toBe('task_completed');
    const page = await http.get(`/sessions/${c.sessionId}/events?limit=1000`, u.token);
    expect(page.status).toBe(200);
    const seqs = page.body.items.map((e: any) => e.seq);
    expect(seqs).toEqual(seqs.map((_: number, i: number) => i + 1));
    expect(streamed(page.body.items, ack.seq)).toEqual(counting(300));
    // The acknowledged message is in the log.
    expect(page.body.items.find((e: any) => e.seq === ack.seq).type).toBe('user_message');
    c.close();
  });

  it('a tab that leaves while the database is down is answered and lets go of the session', async () => {
    const t = await start({ HISTORY_OUTAGE_WAIT_MS: '800' });
    const http = new Http(t.baseUrl);
    const u = await ChatTab.user(http);
    const c = await ChatTab.open(t.baseUrl, u.token);
    const fanout = t.app.get(SessionFanoutService);
    const presence = t.app.get(PresenceService);
    expect(presence.isWatched(c.sessionId)).toBe(true);
    const before = fanout.watchedSessions;

    pg.stop();
    try {
      // The socket joined this session after its owner was checked: leaving needs no database.
      const left = await ask(c.socket, 'session:leave', { sessionId: c.sessionId.toUpperCase() });
      expect(left).toEqual({ ok: true });
      expect(fanout.watchedSessions).toBe(before - 1);
      expect(presence.isWatched(c.sessionId)).toBe(false);
      // A session this socket does not hold still needs the check, and says why it failed.
      const other = await ask(c.socket, 'session:leave', { sessionId: randomUUID() });
      expect(other.error.code).toBe('UNAVAILABLE');
    } finally {
      pg.start();
    }
    await until(async () => (await readiness(http)) === 200);
    const unknown = await ask(c.socket, 'session:leave', { sessionId: randomUUID() });
    expect(unknown.error.code).toBe('NOT_FOUND');
    c.close();
  });

  it('a long outage stops the run; once the database is back a retry is offered and the session is usable', async () => {
    const t = await start({
      BUILTIN_TOKEN_DELAY_MS: '5',
      HISTORY_OUTAGE_WAIT_MS: '800',
      RUN_STALE_AFTER_MS: '3000',
    });
    const http = new Http(t.baseUrl);
    const u = await ChatTab.user(http);
    const c = await ChatTab.open(t.baseUrl, u.token);
    const ack = await c.send('count to 3000');
    expect(ack.ok).toBe(true);
    await c.next('generating', ack.seq);

    pg.stop();
    try {
      await pause(3000);
      expect(await readiness(http)).toBe(503);
    } finally {
      pg.start();
    }
    await until(async () => (await readiness(http)) === 200);
    // Recovered without a restart: the same app serves the same token.
    expect((await http.get('/auth/me', u.token)).status).toBe(200);
    // The run never stays `running`: it fails itself, or the takeover (RUN_STALE_AFTER_MS) ends it.
    const end = await c.end(ack.seq, 30_000);
    expect(end).toMatchObject({ type: 'task_failed', data: { canRetry: true } });
    const after: any[] = (await http.get(`/sessions/${c.sessionId}/events?limit=1000`, u.token))
      .body.items;
    const seqs = after.map((e: any) => e.seq);
    expect(seqs).toEqual(seqs.map((_: number, i: number) => i + 1));
    // What was stored is a gap-free beginning of the stream, and nothing of it follows its end.
    const words = streamed(after, ack.seq);
    expect(words).toEqual(counting(words.length));
    expect(words.length).toBeLessThan(3000);
    expect(after.filter((e: any) => e.seq > end.seq && e.type === 'generating')).toEqual([]);
    expect(after.find((e: any) => e.seq === ack.seq).type).toBe('user_message');

    const next = await c.send('hello again');
    expect(next.ok).toBe(true);
    expect((await c.end(next.seq, 30_000)).type).toBe('task_completed');
    c.close();
  });
});
