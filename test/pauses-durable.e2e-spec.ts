import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from './support/databases.js';
import { FakeOpenAi } from './support/fake-openai.js';
import { Http } from './support/http.js';
import { lifecycleProblems, waitFor, type LogRow } from './support/lifecycle.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { serviceUrl } from './support/services.js';

type Event = LogRow & { data: any };

/** A user's session on whichever node is up: sends, reads the log, answers questions. */
class Chat {
  constructor(
    private http: Http,
    readonly token: string,
    readonly sessionId: string,
  ) {}

  static async open(node: ServerProcess, name: string): Promise<Chat> {
    const http = new Http(node.baseUrl);
    const token = (await http.register(name)).accessToken;
    const sessionId = (await http.post('/sessions', {}, token)).body.id as string;
    return new Chat(http, token, sessionId);
  }

  on(node: ServerProcess): this {
    this.http = new Http(node.baseUrl);
    return this;
  }

  async send(content: string): Promise<string> {
    const r = await this.http.post(`/sessions/${this.sessionId}/messages`, { content }, this.token);
    expect(r.status).toBe(202);
    return r.body.runId as string;
  }

  async log(): Promise<Event[]> {
    const r = await this.http.get(`/sessions/${this.sessionId}/events?limit=1000`, this.token);
    return r.body.items.map((e: any) => ({
      ...e,
      runId: e.runId ?? null,
      intentId: e.intentId ?? null,
    }));
  }

  /** Waits for the first event of `type` (after `afterSeq`). */
  event(type: string, afterSeq = 0, timeoutMs = 30_000): Promise<Event> {
    return waitFor(
      async () => (await this.log()).find((e) => e.type === type && e.seq > afterSeq),
      timeoutMs,
    );
  }

  state(): Promise<any> {
    return this.http
      .get(`/sessions/${this.sessionId}`, this.token)
      .then((r) => r.body.state as unknown);
  }

  async reminders(): Promise<any[]> {
    return (await this.http.get('/reminders', this.token)).body.items;
  }

  respond(interactionId: string, response: unknown) {
    return this.http.post(
      `/sessions/${this.sessionId}/interactions/${interactionId}`,
      { response },
      this.token,
    );
  }
}

/** The run's events between its question and its end: no restart shows in them. */
function continuedOnce(log: Event[], runId: string, question: Event): void {
  const ofRun = log.filter((e) => e.runId === runId);
  expect(ofRun.filter((e) => e.type === 'task_started')).toHaveLength(1);
  const after = log.filter((e) => e.seq > question.seq);
  expect(after.map((e) => e.type)).not.toContain('task_started');
  expect(after.map((e) => e.type)).not.toContain('task_cancelled');
  expect(after.map((e) => e.type)).not.toContain('task_failed');
  expect(ofRun.at(-1)?.type).toBe('task_completed');
  expect(lifecycleProblems(log)).toEqual([]);
}

/**
 * Pauses outlive their process (docs/protocol.md "Pauses are durable"): a run waiting on a
 * question survives the stop or death of its node, keeps its question (same id and deadline),
 * and goes on from the answer as the same run. Runs the built service (`npm run build` first).
 */
describeEachDatabase('pauses that outlive their process', (kind) => {
  let target: TestDatabase;
  let env: Record<string, string>;
  const nodes: ServerProcess[] = [];
  const start = async (extra: Record<string, string> = {}): Promise<ServerProcess> => {
    const node = await startServerProcess({ ...env, ...extra });
    nodes.push(node);
    return node;
  };

  beforeAll(async () => {
    target = await createTestDatabase(kind);
    env = {
      DATA_DIR: target.dataDir,
      ...(target.url ? { DATABASE_URL: target.url } : {}),
      BUILTIN_TOKEN_DELAY_MS: '1',
      LOG_LEVEL: 'warn',
      CONFIRMATION_TIMEOUT_MS: '120000',
      FORM_TIMEOUT_MS: '120000',
    };
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGKILL')));
  });
  afterAll(async () => target?.drop());

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`a question open when the node gets ${signal} is still open after the restart, and its answer continues the same run`, async () => {
      const first = await start();
      const chat = await Chat.open(first, `pause-${signal}`);
      const runId = await chat.send('search idle expiry');
      const question = await chat.event('request_confirmation');
      await first.stop(signal);

      const second = await start();
      chat.on(second);
      const state = await chat.state();
      expect(state.run).toMatchObject({ id: runId, status: 'awaiting_input' });
      expect(state.pendingInteraction).toMatchObject({
        id: question.data.interactionId,
        data: { expiresAt: question.data.expiresAt },
      });
      expect((await chat.respond(question.data.interactionId, { approved: true })).status).toBe(
        200,
      );
      const done = await chat.event('task_completed', question.seq);
      expect(done.runId).toBe(runId);
      const log = await chat.log();
      continuedOnce(log, runId, question);
      expect(log.find((e) => e.type === 'response')?.data.content).toMatch(/expir/i);
      // The tool ran once, after the answer; the model was not asked again for the call.
      expect(
        log.filter((e) => e.type === 'thinking' && e.data.step === 'tool_execution'),
      ).toHaveLength(2);
      expect(
        log.filter((e) => e.type === 'thinking' && e.data.step === 'intent_recognition'),
      ).toHaveLength(2);
    }, 120_000);
  }

  it('the model is not asked again: after a restart the paused round goes on with the call as edited, and the usage so far counts', async () => {
    const fake = new FakeOpenAi();
    await fake.start();
    try {
      fake.script(
        [
          {
            chunk: FakeOpenAi.toolCall(0, {
              id: 'c1',
              name: 'calculator',
              args: '{"expression":"6*7"}',
            }),
          },
          {
            chunk: FakeOpenAi.toolCall(1, {
              id: 'c2',
              name: 'search_docs',
              args: '{"query":"replay"}',
            }),
          },
          { chunk: FakeOpenAi.usage(20, 5) },
        ],
        [{ chunk: FakeOpenAi.text('Done.') }, { chunk: FakeOpenAi.usage(30, 4) }],
      );
      const openai = {
        LLM_PROVIDER: 'openai',
        OPENAI_BASE_URL: fake.baseUrl,
        OPENAI_API_KEY: 'test-key',
        LLM_MODEL: 'fake-model',
      };
      const first = await start(openai);
      const chat = await Chat.open(first, 'pause-model');
      const runId = await chat.send('six times seven, then search');
      const question = await chat.event('request_confirmation');
      expect(question.data.arguments).toEqual({ query: 'replay' });
      await first.stop('SIGTERM');

      chat.on(await start(openai));
      const answer = { approved: true, arguments: { query: 'idle expiry' } };
      expect((await chat.respond(question.data.interactionId, answer)).status).toBe(200);
      const done = await chat.event('task_completed', question.seq);
      expect(done.runId).toBe(runId);
      expect(done.data.usage).toEqual({ promptTokens: 50, completionTokens: 9 });
      const log = await chat.log();
      continuedOnce(log, runId, question);
      // Two model calls in all: the one before the pause, the one after both tools ran.
      expect(fake.requests).toHaveLength(2);
      const second = fake.requests[1].messages;
      const calls = second.find((m: any) => m.role === 'assistant').tool_calls;
      expect(calls.map((c: any) => c.function)).toEqual([
        { name: 'calculator', arguments: '{"expression":"6*7"}' },
        { name: 'search_docs', arguments: '{"query":"idle expiry"}' },
      ]);
      expect(second.filter((m: any) => m.role === 'tool').map((m: any) => m.tool_call_id)).toEqual([
        'c1',
        'c2',
      ]);
      // The calculator ran once, before the stop; search_docs once, after the answer.
      const executions = log.filter(
        (e) =>
          e.type === 'thinking' && e.data.step === 'tool_execution' && e.data.status === 'started',
      );
      expect(executions.map((e) => e.data.detail)).toEqual(['calculator', 'search_docs']);
      expect(executions[1].seq).toBeGreaterThan(question.seq);
    } finally {
      await fake.stop();
    }
  }, 120_000);

  it('a question whose deadline passed while no node was up resolves timeout at start, and the run goes on', async () => {
    const first = await start({ CONFIRMATION_TIMEOUT_MS: '1500' });
    const chat = await Chat.open(first, 'pause-deadline');
    const runId = await chat.send('search replay');
    const question = await chat.event('request_confirmation');
    await first.stop('SIGTERM');
    await new Promise((r) =>
      setTimeout(r, Math.max(0, Date.parse(question.data.expiresAt) - Date.now() + 200)),
    );

    chat.on(await start());
    const resolved = await chat.event('interaction_resolved', question.seq);
    expect(resolved.data).toMatchObject({
      interactionId: question.data.interactionId,
      outcome: 'timeout',
    });
    const done = await chat.event('task_completed', question.seq);
    expect(done.runId).toBe(runId);
    const log = await chat.log();
    continuedOnce(log, runId, question);
    expect(log.some((e) => e.type === 'thinking' && e.data.step === 'tool_execution')).toBe(false);
  }, 120_000);

  it('a form answered after a restart is checked, and its values go on into the same run', async () => {
    const first = await start();
    const chat = await Chat.open(first, 'pause-form');
    const runId = await chat.send('remind me to water the plants');
    const form = await chat.event('component');
    await first.stop('SIGTERM');

    chat.on(await start());
    const bad = await chat.respond(form.data.interactionId, { values: { time: '' } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect((await chat.state()).pendingInteraction?.id).toBe(form.data.interactionId);
    const good = await chat.respond(form.data.interactionId, { values: { time: 'tomorrow 9:00' } });
    expect(good.status).toBe(200);
    const done = await chat.event('task_completed', form.seq);
    expect(done.runId).toBe(runId);
    const log = await chat.log();
    continuedOnce(log, runId, form);
    expect(log.find((e) => e.type === 'response')?.data.content).toMatch(/water the plants/);
    expect((await chat.reminders()).map((r: any) => r.label)).toEqual(['water the plants']);
  }, 120_000);
});

describe('pauses across two nodes (PostgreSQL and Redis)', () => {
  let target: TestDatabase;
  let env: Record<string, string>;
  const nodes: ServerProcess[] = [];
  const start = async (name: string): Promise<ServerProcess> => {
    const node = await startServerProcess({ ...env, DATA_DIR: `${target.dataDir}-${name}` });
    nodes.push(node);
    return node;
  };

  beforeAll(async () => {
    target = await createTestDatabase('postgres');
    env = {
      DATABASE_URL: target.url!,
      REDIS_URL: serviceUrl('TEST_REDIS_URL'),
      JWT_SECRET: 'durable-pauses-secret-of-both-nodes',
      BUILTIN_TOKEN_DELAY_MS: '1',
      LOG_LEVEL: 'warn',
      CONFIRMATION_TIMEOUT_MS: '120000',
      RUN_STALE_AFTER_MS: '2000',
    };
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGKILL')));
  });
  afterAll(async () => target?.drop());

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`the node running a paused run gets ${signal}; the answer on the other node continues the same run there`, async () => {
      const a = await start('a');
      const b = await start('b');
      const chat = await Chat.open(a, `pause-2n-${signal}`);
      const runId = await chat.send('search sessions');
      const question = await chat.event('request_confirmation');
      await a.stop(signal);
      chat.on(b);
      expect((await chat.respond(question.data.interactionId, { approved: true })).status).toBe(
        200,
      );
      const done = await chat.event('task_completed', question.seq);
      expect(done.runId).toBe(runId);
      continuedOnce(await chat.log(), runId, question);
    }, 120_000);
  }
});
