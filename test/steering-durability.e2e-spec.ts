import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from './support/databases.js';
import { Http } from './support/http.js';
import { startServerProcess } from './support/server-process.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The queue is rows, not memory: intents queued when the node stops start after it comes back,
 * in order, each after the closing event in front of it.
 */
describeEachDatabase('the queue across a restart', (kind) => {
  let target: TestDatabase;
  beforeAll(async () => {
    target = await createTestDatabase(kind);
  });
  afterAll(async () => target?.drop());

  it('two intents queued behind a run when the node stops start after the restart, in order', async () => {
    const env = {
      DATA_DIR: target.dataDir,
      ...(target.url ? { DATABASE_URL: target.url } : {}),
      BUILTIN_TOKEN_DELAY_MS: '5',
      LOG_LEVEL: 'warn',
    };
    const first = await startServerProcess(env);
    const http1 = new Http(first.baseUrl);
    const u = await http1.register('queue-restart');
    const sessionId = (await http1.post('/sessions', {}, u.accessToken)).body.id as string;
    const path = `/sessions/${sessionId}/messages`;
    const running = await http1.post(path, { content: 'count to 5000' }, u.accessToken);
    expect(running.status).toBe(202);
    const q1 = await http1.post(
      path,
      { content: 'what is 2 + 2', ifBusy: 'enqueue' },
      u.accessToken,
    );
    const q2 = await http1.post(path, { content: 'recap', ifBusy: 'enqueue' }, u.accessToken);
    expect([q1.body.position, q2.body.position]).toEqual([1, 2]);
    await first.stop('SIGTERM');

    const second = await startServerProcess(env);
    try {
      const http2 = new Http(second.baseUrl);
      let events: any[] = [];
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        events = (await http2.get(`/sessions/${sessionId}/events?limit=1000`, u.accessToken)).body
          .items;
        if (events.some((e) => e.type === 'task_completed' && e.intentId === q2.body.intentId))
          break;
        await sleep(100);
      }
      const at = (type: string, intentId: string): number[] =>
        events.filter((e) => e.type === type && e.intentId === intentId).map((e) => e.seq);
      // The run the stop cut off ended (resumable); nothing started twice.
      expect(
        events.find((e) => e.runId === running.body.runId && e.type === 'task_cancelled'),
      ).toMatchObject({ data: { reason: 'shutdown' } });
      expect(at('task_started', q1.body.intentId)).toHaveLength(1);
      expect(at('task_started', q2.body.intentId)).toHaveLength(1);
      expect(at('task_started', q2.body.intentId)[0]).toBeGreaterThan(
        at('task_completed', q1.body.intentId)[0],
      );
      const recap = events.find((e) => e.type === 'response' && e.intentId === q2.body.intentId);
      expect(recap.data.content).toContain('what is 2 + 2');
      const state = (await http2.get(`/sessions/${sessionId}`, u.accessToken)).body.state;
      expect(state.queue).toEqual([]);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    } finally {
      await second.stop();
    }
  }, 120_000);
});
