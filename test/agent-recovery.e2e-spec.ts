import { SessionExpiryService } from '../src/sessions/session-expiry.service.js';
import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from './support/databases.js';
import { ChatTab } from './support/chat.js';
import { Http } from './support/http.js';
import { ask } from './support/socket.js';
import { startServerProcess } from './support/server-process.js';
import { startTestApp } from './support/test-app.js';
import { useTestApp } from './support/use-test-app.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeEachDatabase('retry, expiry, quota, crash recovery', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '2',
    AGENT_FAIL_FIRST_ATTEMPTS: '1',
    MAX_RETRIES: '2',
    RETRY_TIMEOUT_MS: '800',
    SESSION_IDLE_TIMEOUT_MS: '300',
    SESSION_SWEEP_INTERVAL_MS: '3600000',
    CONFIRMATION_TIMEOUT_MS: '20000',
    // Each model call's prompt includes the system prompt (about 80 words).
    DAILY_TOKEN_QUOTA: '500',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  });

  it('a failed attempt offers a retry; retry: true runs attempt 2 of the same intent', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const ack = await c.send('what is 6 * 7');
    const failed = await c.end();
    expect(failed).toMatchObject({
      type: 'task_failed',
      data: { attempt: 1, canRetry: true, interactionId: expect.any(String) },
    });
    const state = (await t.http.get(`/sessions/${c.sessionId}`, u.token)).body.state;
    expect(state.run).toBeNull();
    expect(state.pendingInteraction).toMatchObject({
      kind: 'retry',
      data: failed.data,
      intentId: ack.intentId,
    });
    expect((await c.respond(failed.data.interactionId, { retry: true })).ok).toBe(true);
    const done = await c.end(failed.seq);
    expect(done.type).toBe('task_completed');
    const started = c.events().filter((e) => e.type === 'task_started');
    expect(started.map((e) => e.data.attempt)).toEqual([1, 2]);
    expect(
      new Set(
        c
          .events()
          .filter((e) => e.intentId)
          .map((e) => e.intentId),
      ),
    ).toEqual(new Set([ack.intentId]));
    expect(c.events().find((e) => e.type === 'response').data.content).toContain('42');
  });

  it('retry: false ends the intent failed; a new message works', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('what is 1 + 1');
    const failed = await c.end();
    expect((await c.respond(failed.data.interactionId, { retry: false })).ok).toBe(true);
    await c.next('interaction_resolved', failed.seq);
    expect(c.events().find((e) => e.type === 'interaction_resolved').data.outcome).toBe('no_retry');
    const state = (await t.http.get(`/sessions/${c.sessionId}`, u.token)).body.state;
    expect(state).toEqual({
      run: null,
      pendingInteraction: null,
      headIntentId: expect.any(String),
      queue: [],
    });
  });

  it('an unanswered retry offer times out and the intent fails', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const ack = await c.send('what is 2 + 2');
    const failed = await c.end();
    const resolved = await c.next('interaction_resolved', failed.seq, 5000);
    expect(resolved.data).toEqual({ interactionId: failed.data.interactionId, outcome: 'timeout' });
    const resume = await ask(c.socket, 'intent:resume', {
      sessionId: c.sessionId,
      intentId: ack.intentId,
    });
    expect(resume.error.code).toBe('CONFLICT');
  });

  it('a new message while a retry is on offer declines it (no_retry) and starts a new intent', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const first = await c.send('what is 3 + 3');
    const failed = await c.end();
    const second = await c.send('what is 4 + 4');
    expect(second.intentId).not.toBe(first.intentId);
    const declined = c.events().find((e) => e.type === 'interaction_resolved');
    expect(declined.data).toMatchObject({
      interactionId: failed.data.interactionId,
      outcome: 'no_retry',
    });
    expect(declined.seq).toBeLessThan(second.seq);
  });

  it('gives up after MAX_RETRIES: the last failure has canRetry false', async () => {
    const strict = await startTestApp(await createTestDatabase(kind), {
      BUILTIN_TOKEN_DELAY_MS: '1',
      AGENT_FAIL_FIRST_ATTEMPTS: '5',
      MAX_RETRIES: '1',
    });
    try {
      const h = new Http(strict.baseUrl);
      const u = await ChatTab.user(h);
      const c = await ChatTab.open(strict.baseUrl, u.token);
      t.closeAfter(c);
      await c.send('what is 1');
      const f1 = await c.end();
      expect(f1.data.canRetry).toBe(true);
      await c.respond(f1.data.interactionId, { retry: true });
      const f2 = await c.end(f1.seq);
      expect(f2.data).toMatchObject({ attempt: 2, canRetry: false });
      expect(f2.data.interactionId).toBeUndefined();
    } finally {
      await strict.close();
    }
  });

  it('expiry during a pending confirmation cancels (expired); intent:resume asks again', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const ack = await c.send('search sessions');
    // Attempt 1 fails by configuration; retry so the run reaches the confirmation.
    const failed = await c.end();
    await c.respond(failed.data.interactionId, { retry: true });
    const q = await c.next('request_confirmation', failed.seq);
    c.close();
    // Idle timeout 300 ms, plus the watch lease the closed socket left (3 × 150 ms at most).
    await sleep(800);
    await t.app.get(SessionExpiryService).sweep();
    const events = (await t.http.get(`/sessions/${c.sessionId}/events?limit=1000`, u.token)).body
      .items;
    const tail = events.slice(-3).map((e: any) => [e.type, e.data.reason ?? e.data.outcome ?? '']);
    expect(tail).toEqual([
      ['interaction_resolved', 'cancelled'],
      ['task_cancelled', 'expired'],
      ['session_expired', ''],
    ]);
    const again = await t.tab(u.token, c.sessionId);
    const lastSeq = events[events.length - 1].seq;
    const resumed = await ask(again.socket, 'intent:resume', {
      sessionId: c.sessionId,
      intentId: ack.intentId,
    });
    expect(resumed).toMatchObject({ ok: true, runId: expect.any(String) });
    const q2 = await again.next('request_confirmation', lastSeq);
    expect(q2.data.interactionId).not.toBe(q.data.interactionId);
    expect(q2.data.arguments).toEqual({ query: 'sessions' });
    const started = again.events().find((e) => e.seq > lastSeq && e.type === 'task_started');
    expect(started.data.attempt).toBe(3);
    await again.respond(q2.data.interactionId, { approved: true });
    expect((await again.end(lastSeq)).type).toBe('task_completed');
  });

  it('QUOTA_EXCEEDED once the day’s tokens are used, before any run starts', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    let last = 0;
    let refused: any;
    for (let i = 0; i < 10 && !refused; i++) {
      const r = await c.send('count to 30');
      if (!r.ok) {
        refused = r;
        break;
      }
      const f = await c.end(last);
      last = f.seq;
      if (f.type === 'task_failed') {
        await c.respond(f.data.interactionId, { retry: true }).catch(() => undefined);
        last = (await c.end(f.seq)).seq;
      }
    }
    expect(refused.error.code).toBe('QUOTA_EXCEEDED');
    const rest = await t.http.post(`/sessions/${c.sessionId}/messages`, { content: 'hi' }, u.token);
    expect(rest.status).toBe(429);
    expect(rest.body.code).toBe('QUOTA_EXCEEDED');
  });
});

describeEachDatabase('crash recovery (SIGKILL)', (kind) => {
  let target: TestDatabase;
  beforeAll(async () => {
    target = await createTestDatabase(kind);
  });
  afterAll(async () => target?.drop());

  // Two process starts and a 10 s run: minutes on a loaded machine, more than the default minute.
  it('a run killed mid-way is interrupted at restart, with a retry that works', async () => {
    const env = {
      DATA_DIR: target.dataDir,
      ...(target.url ? { DATABASE_URL: target.url } : {}),
      BUILTIN_TOKEN_DELAY_MS: '5',
      LOG_LEVEL: 'warn',
    };
    const first = await startServerProcess(env);
    const http1 = new Http(first.baseUrl);
    const u = await http1.register('crash');
    const sessionId = (await http1.post('/sessions', {}, u.accessToken)).body.id;
    const sent = await http1.post(
      `/sessions/${sessionId}/messages`,
      { content: 'count to 2000' },
      u.accessToken,
    );
    expect(sent.status).toBe(202);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const ev = await http1.get(`/sessions/${sessionId}/events`, u.accessToken);
      if (ev.body.items.some((e: any) => e.type === 'generating')) break;
      await sleep(20);
    }
    await first.stop('SIGKILL');

    const second = await startServerProcess(env);
    try {
      const http2 = new Http(second.baseUrl);
      const session = await http2.get(`/sessions/${sessionId}`, u.accessToken);
      expect(session.body.state.run).toBeNull();
      expect(session.body.state.pendingInteraction).toMatchObject({
        kind: 'retry',
        runId: sent.body.runId,
      });
      const events = (await http2.get(`/sessions/${sessionId}/events?limit=1000`, u.accessToken))
        .body.items;
      const failed = events[events.length - 1];
      expect(failed).toMatchObject({
        type: 'task_failed',
        runId: sent.body.runId,
        data: { canRetry: true, attempt: 1 },
      });
      expect(events.map((e: any) => e.seq)).toEqual(events.map((_: unknown, i: number) => i + 1));

      const c = await ChatTab.open(second.baseUrl, u.accessToken, sessionId);
      try {
        expect((await c.respond(failed.data.interactionId, { retry: true })).ok).toBe(true);
        const done = await c.end(failed.seq, 30_000);
        expect(done.type).toBe('task_completed');
        expect(
          c.events().find((e) => e.type === 'task_started' && e.seq > failed.seq).data.attempt,
        ).toBe(2);
      } finally {
        c.close();
      }
    } finally {
      await second.stop();
    }
  }, 180_000);
});
