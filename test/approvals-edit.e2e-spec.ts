import { jest } from '@jest/globals';
import { describeEachDatabase } from './support/databases.js';
import { FakeOpenAi } from './support/fake-openai.js';
import { settled, storedLog, waitFor } from './support/lifecycle.js';
import { serviceUrl } from './support/services.js';
import { useTestApp } from './support/use-test-app.js';
import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { ToolRegistry } from '../src/agent/tools/tool-registry.js';

/** The fields a refused answer names, in order. */
const fields = (refused: any): string[] => refused.error.details.map((d: any) => d.field);

describeEachDatabase('approve with edited arguments (built-in agent)', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '2',
    CONFIRMATION_TIMEOUT_MS: '20000',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  });

  it('bad arguments are VALIDATION_FAILED naming each field; the question stays open', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('search replay');
    const q = await c.next('request_confirmation');
    expect(q.data).toMatchObject({ tool: 'search_docs', arguments: { query: 'replay' } });
    const cases: [unknown, string[]][] = [
      [{ approved: true, arguments: { query: 7 } }, ['response.arguments.query']],
      [{ approved: true, arguments: {} }, ['response.arguments.query']],
      [{ approved: true, arguments: { query: '   ' } }, ['response.arguments.query']],
      [{ approved: true, arguments: { query: 'x', extra: 1 } }, ['response.arguments.extra']],
      [
        { approved: true, arguments: { query: 7, extra: 1 } },
        ['response.arguments.query', 'response.arguments.extra'],
      ],
      [{ approved: true, arguments: { query: 'x'.repeat(501) } }, ['response.arguments.query']],
      [{ approved: true, arguments: 'query=x' }, ['response.arguments']],
      [{ approved: true, arguments: ['x'] }, ['response.arguments']],
      [{ approved: false, arguments: { query: 'x' } }, ['response.arguments']],
      [{ approved: true, scope: 'forever' }, ['response.scope']],
    ];
    for (const [bad, expected] of cases) {
      const refused = await c.respond(q.data.interactionId, bad);
      expect(refused.error.code).toBe('VALIDATION_FAILED');
      expect(fields(refused).sort()).toEqual([...expected].sort());
      expect(refused.error.details.every((d: any) => d.problems.length > 0)).toBe(true);
    }
    // The REST twin refuses the same way.
    const rest = await t.http.post(
      `/sessions/${c.sessionId}/interactions/${q.data.interactionId}`,
      { response: { approved: true, arguments: { query: false } } },
      u.token,
    );
    expect(rest.status).toBe(400);
    expect(rest.body.code).toBe('VALIDATION_FAILED');
    expect(fields({ error: rest.body })).toEqual(['response.arguments.query']);
    // As long as a request body may be: refused by its size, named, not stored.
    const huge = await t.http.post(
      `/sessions/${c.sessionId}/interactions/${q.data.interactionId}`,
      { response: { approved: true, arguments: { query: 'x'.repeat(60_000) } } },
      u.token,
    );
    expect(huge.status).toBe(400);
    expect(huge.body.code).toBe('VALIDATION_FAILED');
    expect(huge.body.details).toEqual([
      { field: 'response.arguments.query', problems: ['must be at most 500 characters'] },
    ]);
    expect(c.types()).not.toContain('interaction_resolved');

    // Still open: a good answer after all that runs the tool with the edited arguments.
    const ok = await c.respond(q.data.interactionId, {
      approved: true,
      arguments: { query: 'zebra quartz' },
      scope: 'once',
    });
    expect(ok.ok).toBe(true);
    expect((await c.end()).type).toBe('task_completed');
    const resolved = c.events().find((e) => e.type === 'interaction_resolved');
    expect(resolved.data).toEqual({
      interactionId: q.data.interactionId,
      outcome: 'approved',
      connectionId: expect.any(String),
      arguments: { query: 'zebra quartz' },
      edited: true,
      scope: 'once',
    });
    const response = c.events().find((e) => e.type === 'response').data.content;
    expect(response).toContain('"zebra quartz"');
    expect(response).not.toContain('"replay"');
  });

  it('the arguments as asked, given back: they run, and edited is false', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('search replay');
    const q = await c.next('request_confirmation');
    const r = await t.http.post(
      `/sessions/${c.sessionId}/interactions/${q.data.interactionId}`,
      { response: { approved: true, arguments: { query: 'replay' } } },
      u.token,
    );
    expect(r.status).toBeLessThan(300);
    expect((await c.end()).type).toBe('task_completed');
    const resolved = c.events().find((e) => e.type === 'interaction_resolved');
    expect(resolved.data).toMatchObject({ arguments: { query: 'replay' }, edited: false });
  });

  it('edited arguments the running tool no longer takes (a rolling deploy changed its schema) skip it with an error the model sees', async () => {
    const registry = t.app.get(ToolRegistry);
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('search replay');
    const q = await c.next('request_confirmation');
    // The node that took the answer knew a newer schema (one with `limit`): its check passes.
    const check = jest.spyOn(registry, 'argumentProblems').mockReturnValueOnce([]);
    try {
      const ok = await c.respond(q.data.interactionId, {
        approved: true,
        arguments: { query: 'metrics', limit: 3 },
      });
      expect(ok.ok).toBe(true);
      expect((await c.end(q.seq)).type).toBe('task_completed');
    } finally {
      check.mockRestore();
    }
    const steps = c
      .events()
      .filter((e) => e.type === 'thinking' && e.data.step === 'tool_execution');
    expect(steps.map((e) => e.data.status)).toEqual(['failed']);
    expect(steps[0].data.detail).toContain('limit');
    const response = c.events().find((e) => e.type === 'response').data.content;
    expect(response).toMatch(/did not run search_docs/);
  });

  it('a plain approval carries neither arguments nor edited', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('search replay');
    const q = await c.next('request_confirmation');
    expect((await c.respond(q.data.interactionId, { approved: true })).ok).toBe(true);
    await c.end();
    const resolved = c.events().find((e) => e.type === 'interaction_resolved');
    expect(resolved.data).not.toHaveProperty('arguments');
    expect(resolved.data).not.toHaveProperty('edited');
  });
});

describeEachDatabase('approve with edited arguments (OpenAI-compatible model)', (kind) => {
  const fake = new FakeOpenAi();
  beforeAll(() => fake.start());
  const t = useTestApp(kind, () => ({
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test-key',
    LLM_MODEL: 'fake-model',
    CONFIRMATION_TIMEOUT_MS: '20000',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  }));
  afterAll(() => fake.stop());

  it('the next model call sees the call as it ran: the edited arguments', async () => {
    fake.script(
      [
        {
          chunk: FakeOpenAi.toolCall(0, {
            id: 'call_1',
            name: 'search_docs',
            args: '{"query":"replay"}',
          }),
        },
        { chunk: FakeOpenAi.usage(20, 5) },
      ],
      [{ chunk: FakeOpenAi.text('Found it.') }, { chunk: FakeOpenAi.usage(30, 4) }],
    );
    const u = await t.user();
    const c = await t.tab(u.token);
    const before = fake.requests.length;
    await c.send('look up replay in the docs');
    const q = await c.next('request_confirmation');
    const ok = await c.respond(q.data.interactionId, {
      approved: true,
      arguments: { query: 'metrics' },
    });
    expect(ok.ok).toBe(true);
    expect((await c.end()).type).toBe('task_completed');
    const second = fake.requests[before + 1];
    const assistant = second.messages.find((m: any) => m.role === 'assistant');
    expect(assistant.tool_calls).toEqual([
      {
        id: 'call_1',
        type: 'function',
        function: { name: 'search_docs', arguments: '{"query":"metrics"}' },
      },
    ]);
    const tool = second.messages.find((m: any) => m.role === 'tool');
    expect(JSON.parse(tool.content).query).toBe('metrics');
  });

  it('the attempt fails after the edited call ran, before its round was checkpointed: the retry reuses the result, and the model, asked only for the answer, sees the edited arguments', async () => {
    const faults = t.app.get(FaultPoints);
    const asked = [
      {
        chunk: FakeOpenAi.toolCall(0, {
          id: 'call_1',
          name: 'search_docs',
          args: '{"query":"replay"}',
        }),
      },
      { chunk: FakeOpenAi.usage(20, 5) },
    ];
    fake.script(asked, [
      { chunk: FakeOpenAi.text('Found it.') },
      { chunk: FakeOpenAi.usage(30, 4) },
    ]);
    const u = await t.user();
    const c = await t.tab(u.token);
    const before = fake.requests.length;
    faults.arm('tool.recorded', () => {
      faults.disarm('tool.recorded');
      throw new Error('the node died after the tool (fault point)');
    });
    await c.send('look up replay in the docs');
    const q = await c.next('request_confirmation');
    expect(
      (await c.respond(q.data.interactionId, { approved: true, arguments: { query: 'metrics' } }))
        .ok,
    ).toBe(true);
    const failed = await c.end();
    expect(failed.type).toBe('task_failed');
    expect((await c.respond(failed.data.interactionId, { retry: true })).ok).toBe(true);
    expect((await c.end(failed.seq)).type).toBe('task_completed');
    // The retry's call was completed under its key: not asked or run again. The retry goes on
    // from the checkpoint taken at the question (the round open in it), so the model is asked
    // only for the answer.
    expect(c.types(failed.seq)).not.toContain('request_confirmation');
    expect(fake.requests).toHaveLength(before + 2);
    const last = fake.requests[before + 1];
    const assistant = last.messages.find((m: any) => m.role === 'assistant');
    expect(assistant.tool_calls[0].function.arguments).toBe('{"query":"metrics"}');
    expect(JSON.parse(last.messages.find((m: any) => m.role === 'tool').content).query).toBe(
      'metrics',
    );
  });
});

/** The answer given on one node reaches the run on the other with its edited arguments. */
describe('approve with edited arguments across two nodes', () => {
  const env = {
    REDIS_URL: serviceUrl('TEST_REDIS_URL'),
    JWT_SECRET: 'approvals-edit-secret-shared-by-both-nodes',
    BUILTIN_TOKEN_DELAY_MS: '2',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    CONFIRMATION_TIMEOUT_MS: '120000',
  };
  const a = useTestApp('postgres', env);
  const b = a.node(env);

  afterEach(() => b.app.get(FaultPoints).disarm());

  for (const lost of [false, true]) {
    it(`answered on A, run on B${lost ? ' (the relayed answer lost: B reads the stored one)' : ''}`, async () => {
      const db = a.app.get(Database);
      const s = await a.session('edit2');
      const sent = await b.http.post(
        `/sessions/${s.sessionId}/messages`,
        { content: 'search replay' },
        s.token,
      );
      expect(sent.status).toBe(202);
      const question = await waitFor(async () =>
        (await storedLog(db, s.sessionId)).find((e) => e.type === 'request_confirmation'),
      );
      if (lost) {
        b.app.get(FaultPoints).arm('cluster.answer', () => {
          throw new Error('answer lost (fault point)');
        });
      }
      const r = await a.http.post(
        `/sessions/${s.sessionId}/interactions/${question.data.interactionId}`,
        { response: { approved: true, arguments: { query: 'zebra quartz' } } },
        s.token,
      );
      expect(r.status).toBeLessThan(300);
      const log = await settled(db, s.sessionId, 15_000);
      expect(log[log.length - 1].type).toBe('task_completed');
      const response = log.find((e) => e.type === 'response');
      expect(response?.data.content).toContain('"zebra quartz"');
    });
  }
});
