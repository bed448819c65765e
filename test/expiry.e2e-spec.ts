import { randomUUID } from 'node:crypto';
import { Database } from '../src/database/database.js';
import { HistoryService } from '../src/history/history.service.js';
import { SessionExpiryService } from '../src/sessions/session-expiry.service.js';
import { createTestDatabase, describeEachDatabase } from './support/databases.js';
import { Http } from './support/http.js';
import { SseClient } from './support/sse.js';
import { startTestApp } from './support/test-app.js';
import { useTestApp } from './support/use-test-app.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeEachDatabase('idle session expiry', (kind) => {
  // A long sweep interval: the test drives sweeps itself, so timing cannot make it flaky.
  const t = useTestApp(kind, {
    SESSION_IDLE_TIMEOUT_MS: '300',
    SESSION_SWEEP_INTERVAL_MS: '3600000',
  });

  let user: { accessToken: string; user: { id: string } };
  let db: Database;

  beforeAll(async () => {
    user = await t.http.register();
    db = t.app.get(Database);
  });

  /** A session whose run is waiting on a confirmation, as the agent would leave it. */
  async function sessionAwaitingConfirmation(): Promise<{
    sessionId: string;
    runId: string;
    intentId: string;
    interactionId: string;
  }> {
    const sessionId = (await t.http.post('/sessions', {}, user.accessToken)).body.id;
    const intentId = randomUUID();
    const runId = randomUUID();
    const interactionId = randomUUID();
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO intents (id, session_id, user_id, content) VALUES ($1, $2, $3, 'search x')`,
        [intentId, sessionId, user.user.id],
      );
      await tx.query(
        `INSERT INTO runs (id, intent_id, session_id, user_id, attempt, status, node_id) VALUES ($1, $2, $3, $4, 1, 'awaiting_input', 'test')`,
        [runId, intentId, sessionId, user.user.id],
      );
      await tx.query(
        `INSERT INTO interactions (id, run_id, intent_id, session_id, kind, payload, expires_at)
         VALUES ($1, $2, $3, $4, 'confirm', '{"tool":"search_docs"}', now() + interval '1 hour')`,
        [interactionId, runId, intentId, sessionId],
      );
    });
    await t.app.get(HistoryService).append(sessionId, [
      {
        type: 'user_message',
        data: { content: 'search x', clientMessageId: 'c1', parentIntentId: null },
        intentId,
      },
      { type: 'task_started', data: { attempt: 1 }, runId, intentId },
    ]);
    return { sessionId, runId, intentId, interactionId };
  }

  it('cancels the run (reason expired), abandons the intent, writes session_expired once, keeps the session usable', async () => {
    const s = await sessionAwaitingConfirmation();
    const state = await t.http.get(`/sessions/${s.sessionId}`, user.accessToken);
    expect(state.body.state.run).toMatchObject({
      id: s.runId,
      status: 'awaiting_input',
      attempt: 1,
    });
    expect(state.body.state.pendingInteraction).toMatchObject({
      id: s.interactionId,
      kind: 'confirm',
    });

    const expiry = t.app.get(SessionExpiryService);
    expect(await expiry.sweep()).toBe(0); // not idle yet
    await sleep(400);
    expect(await expiry.sweep()).toBeGreaterThanOrEqual(1);

    const events = (await t.http.get(`/sessions/${s.sessionId}/events`, user.accessToken)).body
      .items;
    expect(events.map((e: { type: string }) => e.type)).toEqual([
      'user_message',
      'task_started',
      'interaction_resolved',
      'task_cancelled',
      'session_expired',
    ]);
    expect(events[2].data).toEqual({ interactionId: s.interactionId, outcome: 'cancelled' });
    expect(events[3]).toMatchObject({ runId: s.runId, data: { reason: 'expired' } });
    expect(events[4].data.idleMs).toBeGreaterThanOrEqual(300);

    const [run] = await db.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [
      s.runId,
    ]);
    const [intent] = await db.query<{ status: string }>(
      'SELECT status FROM intents WHERE id = $1',
      [s.intentId],
    );
    expect(run.status).toBe('cancelled');
    expect(intent.status).toBe('abandoned');

    const after = await t.http.get(`/sessions/${s.sessionId}`, user.accessToken);
    expect(after.body.status).toBe('active');
    expect(after.body.state).toEqual({
      run: null,
      pendingInteraction: null,
      headIntentId: null,
      queue: [],
    });

    // Still idle, but already expired for this idle spell: nothing more is written.
    await sleep(400);
    await expiry.sweep();
    expect(
      (await t.http.get(`/sessions/${s.sessionId}/events`, user.accessToken)).body.items,
    ).toHaveLength(5);
  });

  it('does not expire a session someone is watching', async () => {
    const s = await sessionAwaitingConfirmation();
    const c = await SseClient.open(`${t.baseUrl}/sessions/${s.sessionId}/stream`, {
      authorization: `Bearer ${user.accessToken}`,
    });
    try {
      await c.waitFor(() => c.events().length === 2);
      await sleep(400);
      await t.app.get(SessionExpiryService).sweep();
      const events = (await t.http.get(`/sessions/${s.sessionId}/events`, user.accessToken)).body
        .items;
      expect(events.map((e: { type: string }) => e.type)).toEqual(['user_message', 'task_started']);
    } finally {
      c.close();
    }
  });

  it('drops the queue (intent_dequeued expired) and moves a head among it back, before session_expired', async () => {
    const sessionId = (await t.http.post('/sessions', {}, user.accessToken)).body.id;
    const path = `/sessions/${sessionId}/messages`;
    const asked = await t.http.post(path, { content: 'search x' }, user.accessToken);
    expect(asked.status).toBe(202);
    const q1 = await t.http.post(path, { content: 'one', ifBusy: 'enqueue' }, user.accessToken);
    const q2 = await t.http.post(path, { content: 'two', ifBusy: 'enqueue' }, user.accessToken);
    expect([q1.body.position, q2.body.position]).toEqual([1, 2]);
    await sleep(400);
    await t.app.get(SessionExpiryService).sweep();
    const events = (await t.http.get(`/sessions/${sessionId}/events`, user.accessToken)).body
      .items as { type: string; data: any }[];
    const tail = events.slice(events.findIndex((e) => e.type === 'intent_dequeued'));
    expect(tail.map((e) => [e.type, e.data.reason ?? e.data.intentId ?? e.data.outcome])).toEqual([
      ['intent_dequeued', 'expired'],
      ['intent_dequeued', 'expired'],
      ['head_changed', asked.body.intentId],
      ['interaction_resolved', 'cancelled'],
      ['task_cancelled', 'expired'],
      ['session_expired', undefined],
    ]);
    const state = (await t.http.get(`/sessions/${sessionId}`, user.accessToken)).body.state;
    expect(state).toMatchObject({ queue: [], headIntentId: asked.body.intentId, run: null });
  });

  it('expires again after new activity goes idle', async () => {
    const sessionId = (await t.http.post('/sessions', {}, user.accessToken)).body.id;
    const history = t.app.get(HistoryService);
    const expiry = t.app.get(SessionExpiryService);
    await history.append(sessionId, [{ type: 'response', data: { content: 'a' } }]);
    await sleep(400);
    await expiry.sweep();
    await history.append(sessionId, [{ type: 'response', data: { content: 'b' } }]);
    await sleep(400);
    await expiry.sweep();
    const types = (
      await t.http.get(`/sessions/${sessionId}/events`, user.accessToken)
    ).body.items.map((e: { type: string }) => e.type);
    expect(types).toEqual(['response', 'session_expired', 'response', 'session_expired']);
  });
});

describe('idle session expiry on its own timer', () => {
  it('sweeps every SESSION_SWEEP_INTERVAL_MS', async () => {
    const target = await createTestDatabase('pglite');
    const t = await startTestApp(target, {
      SESSION_IDLE_TIMEOUT_MS: '200',
      SESSION_SWEEP_INTERVAL_MS: '100',
    });
    try {
      const http = new Http(t.baseUrl);
      const u = await http.register();
      const s = (await http.post('/sessions', {}, u.accessToken)).body.id;
      await t.app.get(HistoryService).append(s, [{ type: 'response', data: { content: 'a' } }]);
      const deadline = Date.now() + 5000;
      let types: string[] = [];
      while (Date.now() < deadline) {
        types = (await http.get(`/sessions/${s}/events`, u.accessToken)).body.items.map(
          (e: { type: string }) => e.type,
        );
        if (types.includes('session_expired')) break;
        await sleep(50);
      }
      expect(types).toEqual(['response', 'session_expired']);
    } finally {
      await t.close();
      await target.drop();
    }
  });
});
