import { describeEachDatabase } from './support/databases.js';
import { ChatTab } from './support/chat.js';
import { FakeOpenAi } from './support/fake-openai.js';
import { useTestApp } from './support/use-test-app.js';

describeEachDatabase('conversation memory', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '1',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  });

  const BUDGET = 400;
  const fake = new FakeOpenAi();
  beforeAll(() => fake.start());
  // A second service, speaking to the fake OpenAI-compatible server.
  const openai = useTestApp(kind, () => ({
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.baseUrl,
    LLM_MODEL: 'fake-model',
    CONTEXT_MAX_TOKENS: String(BUDGET),
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  }));
  afterAll(() => fake.stop());

  const say = async (c: ChatTab, content: string): Promise<string> => {
    const from = c.events().length ? c.events()[c.events().length - 1].seq : 0;
    const ack = await c.send(content);
    expect(ack.ok).toBe(true);
    const end = await c.end(from, 20_000);
    expect(end.type).toBe('task_completed');
    return c.events().find((e) => e.seq > from && e.type === 'response').data.content;
  };

  it('the built-in agent recaps the earlier messages of this session only, oldest first', async () => {
    const u = await t.user('memory');
    const a = await t.tab(u.token);
    const b = await t.tab(u.token);

    expect(await say(a, 'recap')).toBe('You have not said anything earlier in this session.');
    expect(await say(a, 'what is 2 + 3')).toMatch(/5/);
    expect(await say(b, 'count to 2')).toBe('1 2');
    expect(await say(a, 'count to 3')).toBe('1 2 3');
    expect(await say(a, 'hello there')).toMatch(/built-in/);

    expect(await say(a, 'recap')).toBe(
      'Earlier in this session you said (oldest first):\n' +
        '1. recap\n2. what is 2 + 3\n3. count to 3\n4. hello there',
    );
    expect(await say(b, 'recap')).toBe(
      'Earlier in this session you said (oldest first):\n1. count to 2',
    );
  });

  it('the OpenAI provider gets the system prompt and earlier turns; the budget drops the oldest whole turns', async () => {
    const u = await openai.user('memory-openai');
    const c = await openai.tab(u.token);
    // Each earlier turn is exactly 100 estimated tokens: 200 + 200 characters at 4 a token.
    const turns = ['a', 'b', 'c', 'd'].map((x) => ({
      user: x.repeat(199) + '?',
      answer: x.toUpperCase().repeat(199) + '.',
    }));
    for (const turn of turns) {
      fake.script([{ chunk: FakeOpenAi.text(turn.answer) }, { chunk: FakeOpenAi.usage(1, 1) }]);
      expect(await say(c, turn.user)).toBe(turn.answer);
    }

    const second = fake.requests[fake.requests.length - 3];
    expect(second.messages.slice(1)).toEqual([
      { role: 'user', content: turns[0].user },
      { role: 'assistant', content: turns[0].answer },
      { role: 'user', content: turns[1].user },
    ]);

    fake.script([{ chunk: FakeOpenAi.text('ok') }, { chunk: FakeOpenAi.usage(1, 1) }]);
    await say(c, 'and now?');
    const last = fake.requests[fake.requests.length - 1];
    const [system, ...rest] = last.messages;
    expect(system.role).toBe('system');
    expect(system.content).toMatch(/You are Relay/);
    expect(system.content).toMatch(/create_reminder/);
    expect(system.content).toContain(new Date().toISOString().slice(0, 10));

    const budget = BUDGET - Math.ceil(system.content.length / 4) - Math.ceil('and now?'.length / 4);
    const fitting = Math.floor(budget / 100);
    expect(fitting).toBeGreaterThanOrEqual(1);
    expect(fitting).toBeLessThan(turns.length);
    expect(rest).toEqual([
      ...turns.slice(turns.length - fitting).flatMap((x) => [
        { role: 'user', content: x.user },
        { role: 'assistant', content: x.answer },
      ]),
      { role: 'user', content: 'and now?' },
    ]);
  });
  it('the budget holds on every model call of a run: a tool round that grew the transcript drops older turns', async () => {
    const u = await openai.user('memory-rounds');
    const c = await openai.tab(u.token);
    for (const x of ['e', 'f', 'g', 'h']) {
      const answer = x.toUpperCase().repeat(199) + '.';
      fake.script([{ chunk: FakeOpenAi.text(answer) }, { chunk: FakeOpenAi.usage(1, 1) }]);
      await say(c, x.repeat(199) + '?');
    }
    // The first call of the run says 100 tokens along with its tool call; the second must fit too.
    fake.script(
      [
        { chunk: FakeOpenAi.text('x'.repeat(400)) },
        {
          chunk: FakeOpenAi.toolCall(0, {
            id: 'call_1',
            name: 'calculator',
            args: '{"expression":"2+2"}',
          }),
        },
        { chunk: FakeOpenAi.usage(1, 1) },
      ],
      [{ chunk: FakeOpenAi.text('ok') }, { chunk: FakeOpenAi.usage(1, 1) }],
    );
    await say(c, 'go?');
    const tokens = (r: any): number =>
      r.messages.reduce(
        (n: number, m: any) => n + Math.ceil(((m.content as string | null) ?? '').length / 4),
        0,
      );
    const [first, second] = fake.requests.slice(-2);
    expect(tokens(first)).toBeLessThanOrEqual(BUDGET);
    expect(tokens(second)).toBeLessThanOrEqual(BUDGET);
    expect(second.messages.length).toBeLessThan(first.messages.length + 2);
  });
});
