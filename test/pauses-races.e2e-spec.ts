import pg from 'pg';
import { LiveRuns } from '../src/runs/live-runs.js';
import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { lifecycleProblems, settled, storedLog, waitFor } from './support/lifecycle.js';
import { useTestApp, type AppUnderTest } from './support/use-test-app.js';
import { serviceUrl } from './support/services.js';
import { FakeOpenAi } from './support/fake-openai.js';
import { PausedRuns } from '../src/runs/paused-runs.js';

/**
 * Races at the edges of durable pauses (docs/architecture.md "Pauses outlive their process"):
 * a node stopping while it adopts, an answer arriving as its node stops, a cancel racing an
 * adoption, a refused launch. In-process nodes on one PostgreSQL and one Redis (each test stops
 * its own); a PostgreSQL lock held by the test stands in for a slow query, to hold a node at one
 * statement, and fault points hold the others.
 */
describe('durable pauses: races on several nodes', () => {
  const env = {
    REDIS_URL: serviceUrl('TEST_REDIS_URL'),
    JWT_SECRET: 'pauses-races-secret-shared-by-all-nodes',
    BUILTIN_TOKEN_DELAY_MS: '2',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    CONFIRMATION_TIMEOUT_MS: '120000',
    RUN_STALE_AFTER_MS: '60000',
  };
  const a = useTestApp('postgres', env);
  const b1 = a.node(env, 'b1');
  const c1 = a.node(env, 'c1');
  const b2 = a.node(env, 'b2');
  const b3 = a.node(env, 'b3');
  const c3 = a.node(env, 'c3');
  const b4 = a.node(env, 'b4');
  const c4 = a.node(env, 'c4');
  const b6 = a.node(env, 'b6');
  const b7 = a.node(env, 'b7');
  let db: Database;
  let locker: pg.Client;

  beforeAll(async () => {
    db = a.app.get(Database);
    locker = new pg.Client({ connectionString: a.database.url });
    // The block's teardown drops the database under it.
    locker.on('error', () => undefined);
    await locker.connect();
  });
  afterAll(async () => {
    await locker?.end();
  });
  afterEach(() => {
    a.app.get(FaultPoints).disarm();
  });

  async function questionOn(node: AppUnderTest, s: { token: string; sessionId: string }) {
    const sent = await node.http.post(
      `/sessions/${s.sessionId}/messages`,
      { content: 'search replay' },
      s.token,
    );
    expect(sent.status).toBe(202);
    const question = await waitFor(async () =>
      (await storedLog(db, s.sessionId)).find((e) => e.type === 'request_confirmation'),
    );
    return { runId: sent.body.runId as string, interactionId: question.data.interactionId };
  }

  const runRow = async (id: string) =>
    (
      await db.query<{ status: string; node_id: string; parked_at: Date | null }>(
        'SELECT status, node_id, parked_at FROM runs WHERE id = $1',
        [id],
      )
    )[0];

  /** Some backend waits on a lock while running a statement that matches `like`. */
  const blockedOn = (like: string) =>
    waitFor(
      async () =>
        (
          await locker.query(
            `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
            [like],
          )
        ).rowCount! > 0,
    );

  it('a node that stops while it replays a run it adopted parks it again (not task_cancelled shutdown)', async () => {
    const s = await a.session('pr-adopt-stop');
    const q = await questionOn(b1, s);
    await b1.close();
    expect((await runRow(q.runId)).parked_at).not.toBeNull();
    // A is kept from adopting; C adopts on the answer.
    const holdA = a.app.get(FaultPoints).pause('pause.adopting');
    const liveC = c1.app.get(LiveRuns);
    try {
      // C's replay reads the tool-call ledger first: held there (a slow query).
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE tool_calls IN ACCESS EXCLUSIVE MODE');
      const r = await c1.http.post(
        `/sessions/${s.sessionId}/interactions/${q.interactionId}`,
        { response: { approved: true } },
        s.token,
      );
      expect(r.status).toBe(200);
      await waitFor(async () => {
        const row = await runRow(q.runId);
        return row.node_id === liveC.nodeId && row.parked_at === null;
      });
      await blockedOn('%FROM tool_calls%');
      // C stops now (a rolling deploy reaches it while it adopts).
      const closing = c1.close();
      await waitFor(() => Promise.resolve(!liveC.accepting));
      await locker.query('COMMIT');
      await closing;
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      holdA.release();
    }
    const log = await storedLog(db, s.sessionId);
    // The contract: nothing ends a run waiting on a question; the answer continues it.
    expect(log.filter((e) => e.type === 'task_cancelled')).toEqual([]);
    const done = await settled(db, s.sessionId, 20_000);
    expect(lifecycleProblems(done)).toEqual([]);
    expect(done.at(-1)).toMatchObject({ type: 'task_completed', runId: q.runId });
  });

  it('an adoption whose launch is refused (the node began to stop) leaves the run parked, not held by the stopped node', async () => {
    const s = await a.session('pr-refused');
    const q = await questionOn(b3, s);
    await b3.close();
    // Every other node still up would adopt it in its sweep: held, so only C's adoption counts.
    const holdOthers = [a, b4, c4, b6, b7].map((n) =>
      n.app.get(FaultPoints).pause('pause.adopting'),
    );
    const holdA = { release: () => holdOthers.forEach((h) => h.release()) };
    const adopting = c3.app.get(FaultPoints).pause('pause.adopting');
    const liveC = c3.app.get(LiveRuns);
    let closing: Promise<void> | undefined;
    try {
      const r = await c3.http.post(
        `/sessions/${s.sessionId}/interactions/${q.interactionId}`,
        { response: { approved: true } },
        s.token,
      );
      expect(r.status).toBe(200);
      await adopting.reached;
      closing = c3.close();
      await waitFor(() => Promise.resolve(!liveC.accepting));
      adopting.release();
      await closing;
    } finally {
      adopting.release();
      await closing;
    }
    const row = await runRow(q.runId);
    const log = await storedLog(db, s.sessionId);
    holdA.release();
    expect(log.filter((e) => e.type === 'task_cancelled')).toEqual([]);
    // Expected: parked again (any node adopts it at once); found: held by the stopped node.
    expect({ status: row.status, parked: row.parked_at !== null }).toEqual({
      status: 'awaiting_input',
      parked: true,
    });
  });

  it('a cancel that found the run parked does not end it behind the back of the node that adopted it meanwhile', async () => {
    const s = await a.session('pr-cancel');
    const q = await questionOn(b4, s);
    await b4.close();
    const holdA = a.app.get(FaultPoints).pause('pause.adopting');
    const notLive = a.app.get(FaultPoints).pause('cancel.not-live');
    const executed = c4.app.get(FaultPoints).pause('tool.executed');
    // C's heartbeat would find the run ended too, later: only A's word may stop it here.
    const beat = c4.app.get(FaultPoints).pause('node.heartbeat');
    let cancel: Promise<{ status: number }> | undefined;
    try {
      // A's cancel reads the run parked (nobody to ask) and is about to end it as stored.
      cancel = a.http.post(`/sessions/${s.sessionId}/cancel`, {}, s.token);
      await notLive.reached;
      // Meanwhile C adopts it on the answer and runs the approved tool.
      const r = await c4.http.post(
        `/sessions/${s.sessionId}/interactions/${q.interactionId}`,
        { response: { approved: true } },
        s.token,
      );
      expect(r.status).toBe(200);
      await executed.reached;
      notLive.release();
      expect((await cancel).status).toBe(202);
      // A ended the run as stored; C, which adopted it meanwhile, is told to stop (its signal,
      // which reaches a tool in flight, is aborted) and writes nothing more.
      const liveC = c4.app.get(LiveRuns);
      await waitFor(() =>
        Promise.resolve(
          liveC.live().every((r) => r.spec.sessionId !== s.sessionId || r.signal.aborted),
        ),
      );
      executed.release();
      await waitFor(() => Promise.resolve(!liveC.isLive(s.sessionId)));
      const log = await storedLog(db, s.sessionId);
      const closing = log.filter((e) => e.runId === q.runId && e.type.startsWith('task_'));
      expect(closing.map((e) => e.type)).toEqual(['task_started', 'task_cancelled']);
      expect(log.at(-1)?.type).toBe('task_cancelled');
      expect(lifecycleProblems(log)).toEqual([]);
    } finally {
      notLive.release();
      executed.release();
      beat.release();
      holdA.release();
      await cancel;
    }
  });

  it('a parked run that ends is no longer marked parked (parked_at cleared)', async () => {
    const s = await a.session('pr-ended-parked');
    const q = await questionOn(b6, s);
    await b6.close();
    expect((await a.http.post(`/sessions/${s.sessionId}/cancel`, {}, s.token)).status).toBe(202);
    await settled(db, s.sessionId);
    const row = await runRow(q.runId);
    expect(row.status).toBe('cancelled');
    // Every sweep (each node, each second) walks runs_parked_idx oldest first: ended rows pile up there.
    expect(row.parked_at).toBeNull();
  });

  it('a node whose waiting run was parked by another node (a takeover it did not see yet) does not cancel it when it stops', async () => {
    const s = await a.session('pr-stop-parked');
    const q = await questionOn(b7, s);
    const liveB = b7.app.get(LiveRuns);
    // What A's takeover does to a run whose node looks dead (clock skew, a stalled fence):
    // parked while B's execution still waits on the question.
    expect(await a.app.get(PausedRuns).park(q.runId, { nodeId: liveB.nodeId })).toBe(true);
    expect(liveB.isLive(s.sessionId)).toBe(true);
    await b7.close();
    const log = await storedLog(db, s.sessionId);
    // B's shutdown could not park it (parked already) and fell back to an unfenced cancel.
    expect(log.filter((e) => e.type === 'task_cancelled')).toEqual([]);
    expect((await runRow(q.runId)).status).toBe('awaiting_input');
  });

  it('an answer that reaches the run while its node stops continues the run (not task_cancelled shutdown)', async () => {
    const s = await a.session('pr-answer-stop');
    const q = await questionOn(b2, s);
    const liveB = b2.app.get(LiveRuns);
    try {
      // The run's `awaiting_input → running` UPDATE is held (a slow query), after its answer.
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM runs WHERE id = $1 FOR NO KEY UPDATE', [q.runId]);
      const r = await b2.http.post(
        `/sessions/${s.sessionId}/interactions/${q.interactionId}`,
        { response: { approved: true } },
        s.token,
      );
      expect(r.status).toBe(200);
      await blockedOn('%UPDATE runs SET status%');
      const closing = b2.close();
      await waitFor(() => Promise.resolve(!liveB.accepting));
      await locker.query('COMMIT');
      await closing;
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
    }
    const log = await storedLog(db, s.sessionId);
    expect(log.filter((e) => e.type === 'task_cancelled')).toEqual([]);
    const done = await settled(db, s.sessionId, 20_000);
    expect(lifecycleProblems(done)).toEqual([]);
    expect(done.at(-1)).toMatchObject({ type: 'task_completed', runId: q.runId });
  });
});

/** A resume of a run cancelled (shutdown) inside a paused round: what the model is shown. */
describe('durable pauses: a round cut short, the last round', () => {
  const fake = new FakeOpenAi();
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  const env = () => ({
    REDIS_URL: serviceUrl('TEST_REDIS_URL'),
    JWT_SECRET: 'pauses-races-secret-shared-by-all-nodes',
    CONFIRMATION_TIMEOUT_MS: '120000',
    RUN_STALE_AFTER_MS: '60000',
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test-key',
    LLM_MODEL: 'fake-model',
  });
  const a = useTestApp('postgres', env);
  const b = a.node(env, 'b');
  const b5 = a.node(env, 'b5');

  it('the edited call of an open round is shown to the model as it ran, after a resume', async () => {
    const db = a.app.get(Database);
    fake.script(
      [
        {
          chunk: FakeOpenAi.toolCall(0, {
            id: 'c1',
            name: 'search_docs',
            args: '{"query":"replay"}',
          }),
        },
        { chunk: FakeOpenAi.usage(20, 5) },
      ],
      [{ chunk: FakeOpenAi.text('Done.') }],
    );
    const s = await a.session('pr-resume');
    const sent = await b.http.post(
      `/sessions/${s.sessionId}/messages`,
      { content: 'search' },
      s.token,
    );
    expect(sent.status).toBe(202);
    const question = await waitFor(async () =>
      (await storedLog(db, s.sessionId)).find((e) => e.type === 'request_confirmation'),
    );
    const executed = b.app.get(FaultPoints).pause('tool.executed');
    const r = await b.http.post(
      `/sessions/${s.sessionId}/interactions/${question.data.interactionId}`,
      { response: { approved: true, arguments: { query: 'idle expiry' } } },
      s.token,
    );
    expect(r.status).toBe(200);
    await executed.reached;
    // The node stops while the edited call's tool runs: task_cancelled shutdown (resumable).
    const closing = b.close();
    await waitFor(() => Promise.resolve(!b.app.get(LiveRuns).accepting)).catch(() => undefined);
    executed.release();
    await closing;
    const cancelled = (await storedLog(db, s.sessionId)).find((e) => e.type === 'task_cancelled');
    expect(cancelled?.data.reason).toBe('shutdown');

    const resumed = await a.http.post(
      `/sessions/${s.sessionId}/intents/${cancelled!.intentId}/resume`,
      {},
      s.token,
    );
    expect(resumed.status).toBe(202);
    const log = await settled(db, s.sessionId, 20_000);
    expect(log.at(-1)?.type).toBe('task_completed');
    expect(fake.requests).toHaveLength(2);
    const call = fake.requests[1].messages.find((m: any) => m.role === 'assistant').tool_calls[0];
    // The tool ran with the edited arguments; the model must see the call as it ran.
    expect(call.function).toEqual({ name: 'search_docs', arguments: '{"query":"idle expiry"}' });
  });

  it('a run paused in its last tool round still ends with the tool-less answer after an adoption', async () => {
    const db = a.app.get(Database);
    fake.requests.length = 0;
    const calc = (n: number) => [
      {
        chunk: FakeOpenAi.toolCall(0, {
          id: `k${n}`,
          name: 'calculator',
          args: `{"expression":"${n}*2"}`,
        }),
      },
    ];
    fake.script(
      calc(1),
      calc(2),
      calc(3),
      [{ chunk: FakeOpenAi.toolCall(0, { id: 's4', name: 'search_docs', args: '{"query":"x"}' }) }],
      [{ chunk: FakeOpenAi.text('Done.') }],
      [{ chunk: FakeOpenAi.text('Done again.') }],
    );
    const s = await a.session('pr-rounds');
    const sent = await b5.http.post(
      `/sessions/${s.sessionId}/messages`,
      { content: 'go' },
      s.token,
    );
    expect(sent.status).toBe(202);
    const question = await waitFor(async () =>
      (await storedLog(db, s.sessionId)).find((e) => e.type === 'request_confirmation'),
    );
    await b5.close();
    const r = await a.http.post(
      `/sessions/${s.sessionId}/interactions/${question.data.interactionId}`,
      { response: { approved: true } },
      s.token,
    );
    expect(r.status).toBe(200);
    const log = await settled(db, s.sessionId, 20_000);
    expect(log.at(-1)?.type).toBe('task_completed');
    // Without the restart the fifth call is the last one, offered no tools (MAX_TOOL_ROUNDS = 4).
    expect(fake.requests).toHaveLength(5);
    expect(fake.requests[4].tools).toBeUndefined();
  });
});
