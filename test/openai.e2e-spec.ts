import { UsageService } from '../src/quotas/usage.service.js';
import { describeEachDatabase } from './support/databases.js';
import { ChatTab } from './support/chat.js';
import { FakeOpenAi } from './support/fake-openai.js';
import { ask } from './support/socket.js';
import { useTestApp } from './support/use-test-app.js';

describeEachDatabase('OpenAI-compatible provider (against a fake server)', (kind) => {
  // Started before the app, which is told its address; stopped after the app is closed.
  const fake = new FakeOpenAi();
  beforeAll(() => fake.start());
  const t = useTestApp(kind, () => ({
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test-key',
    LLM_MODEL: 'fake-model',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  }));
  afterAll(() => fake.stop());

  const open = async (): Promise<ChatTab & { userId: string }> => {
    const u = await t.user();
    const c = await t.tab(u.token);
    return Object.assign(c, { userId: u.userId });
  };

  it('streams text deltas and takes usage from the provider', async () => {
    fake.script([
      { chunk: FakeOpenAi.text('Hello') },
      { chunk: FakeOpenAi.text(', ') },
      { chunk: FakeOpenAi.text('world') },
      { chunk: FakeOpenAi.usage(11, 7) },
    ]);
    const c = await open();
    await c.send('Say hello');
    const done = await c.end();
    expect(done).toMatchObject({
      type: 'task_completed',
      data: { usage: { promptTokens: 11, completionTokens: 7 } },
    });
    expect(c.events().find((e) => e.type === 'response').data.content).toBe('Hello, world');
    const req = fake.requests[fake.requests.length - 1];
    expect(req).toMatchObject({
      model: 'fake-model',
      stream: true,
      messages: [
        { role: 'system', content: expect.stringContaining('You are Relay') },
        { role: 'user', content: 'Say hello' },
      ],
    });
    expect(req.tools.map((x: any) => x.function.name).sort()).toEqual([
      'calculator',
      'create_reminder',
      'search_docs',
    ]);
    const usage = await t.app.get(UsageService).report({ userId: c.userId });
    expect(usage[0]).toMatchObject({ messages: 1, runs: 1, promptTokens: 11, completionTokens: 7 });
  });

  it('runs a streamed tool call and sends its result back to the model', async () => {
    fake.script(
      [
        { chunk: FakeOpenAi.toolCall(0, { id: 'call_1', name: 'calculator', args: '{"expres' }) },
        { chunk: FakeOpenAi.toolCall(0, { args: 'sion":"6*7"}' }) },
        { chunk: FakeOpenAi.usage(20, 5) },
      ],
      [{ chunk: FakeOpenAi.text('It is 42.') }, { chunk: FakeOpenAi.usage(30, 4) }],
    );
    const c = await open();
    const before = fake.requests.length;
    await c.send('what is six times seven?');
    const done = await c.end();
    expect(done.data.usage).toEqual({ promptTokens: 50, completionTokens: 9 });
    expect(c.events().find((e) => e.type === 'response').data.content).toBe('It is 42.');
    const second = fake.requests[before + 1];
    const toolMsg = second.messages.find((m: any) => m.role === 'tool');
    expect(toolMsg.tool_call_id).toBe('call_1');
    expect(JSON.parse(toolMsg.content)).toEqual({ expression: '6*7', result: '42' });
    expect(second.messages.find((m: any) => m.role === 'assistant').tool_calls[0].function).toEqual(
      {
        name: 'calculator',
        arguments: '{"expression":"6*7"}',
      },
    );
  });

  it('an error mid-stream fails the attempt with a retry offer, keeping what streamed', async () => {
    fake.script([
      { chunk: FakeOpenAi.text('Partial ') },
      { delayMs: 60 },
      { dropConnection: true },
    ]);
    const c = await open();
    await c.send('tell me a story');
    const failed = await c.end();
    expect(failed).toMatchObject({
      type: 'task_failed',
      data: { canRetry: true, attempt: 1, error: expect.stringMatching(/agent failed/i) },
    });
    expect(
      c
        .events()
        .filter((e) => e.type === 'generating')
        .map((e) => e.data.delta)
        .join(''),
    ).toBe('Partial ');
    fake.script([{ chunk: FakeOpenAi.text('Once upon a time.') }]);
    await c.respond(failed.data.interactionId, { retry: true });
    expect((await c.end(failed.seq)).type).toBe('task_completed');
  });

  it('cancel aborts the HTTP request of a slow stream within 500 ms', async () => {
    fake.script([
      { chunk: FakeOpenAi.text('slow ') },
      ...Array.from({ length: 50 }, () => [
        { delayMs: 100 },
        { chunk: FakeOpenAi.text('token ') },
      ]).flat(),
    ]);
    const c = await open();
    const index = fake.requests.length;
    await c.send('go slowly');
    await c.next('generating');
    const started = Date.now();
    const r = await ask(c.socket, 'run:cancel', { sessionId: c.sessionId });
    expect(r.ok).toBe(true);
    const end = await c.end();
    expect(Date.now() - started).toBeLessThan(500);
    expect(end.data.reason).toBe('user');
    await new Promise((res) => setTimeout(res, 150));
    expect(fake.aborted).toContain(index);
  });

  it('regenerate: the model of a later message sees the regenerated answer, once, not the first', async () => {
    const c = await open();
    fake.script([{ chunk: FakeOpenAi.text('first answer') }]);
    const a = await c.send('Tell me a fact');
    await c.end();
    fake.script([{ chunk: FakeOpenAi.text('second answer') }]);
    const again = await ask(c.socket, 'intent:regenerate', {
      sessionId: c.sessionId,
      intentId: a.intentId,
    });
    expect(again.ok).toBe(true);
    await c.log.until(() => c.types().filter((x) => x === 'task_completed').length === 2);
    // The regenerate starts over from the message: the first answer is not in its input.
    const regenerated = fake.requests[fake.requests.length - 1];
    expect(JSON.stringify(regenerated.messages)).not.toContain('first answer');
    fake.script([{ chunk: FakeOpenAi.text('ok') }]);
    await c.send('And another');
    await c.log.until(() => c.types().filter((x) => x === 'task_completed').length === 3);
    const later = fake.requests[fake.requests.length - 1].messages.slice(1);
    expect(later).toEqual([
      { role: 'user', content: 'Tell me a fact' },
      { role: 'assistant', content: 'second answer' },
      { role: 'user', content: 'And another' },
    ]);
  });
});
