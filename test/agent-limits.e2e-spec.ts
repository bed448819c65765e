import { FaultPoints } from '../src/common/fault-points.js';
import { UsageService } from '../src/quotas/usage.service.js';
import { describeEachDatabase } from './support/databases.js';
import { ChatTab } from './support/chat.js';
import { FakeOpenAi, type Step } from './support/fake-openai.js';
import { useTestApp } from './support/use-test-app.js';

const toolRound = (n: number, usage = FakeOpenAi.usage(10, 2)): Step[] => [
  {
    chunk: FakeOpenAi.toolCall(0, {
      id: `call_${n}`,
      name: 'calculator',
      args: '{"expression":"1+1"}',
    }),
  },
  { chunk: usage },
];

describeEachDatabase('agent limits: tool rounds and the daily quota', (kind) => {
  // Started before the app, which is told its address; stopped after the app is closed.
  const fake = new FakeOpenAi();
  beforeAll(() => fake.start());
  const t = useTestApp(kind, () => ({
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.baseUrl,
    LLM_MODEL: 'gpt-4o-mini',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    MAX_RETRIES: '0',
    DAILY_TOKEN_QUOTA: '1000',
  }));
  afterAll(() => fake.stop());

  const open = async (): Promise<ChatTab & { userId: string }> => {
    const u = await t.user();
    const c = await t.tab(u.token);
    return Object.assign(c, { userId: u.userId });
  };

  it('out of tool rounds, the model answers once more without tools', async () => {
    fake.script(toolRound(1), toolRound(2), toolRound(3), toolRound(4), [
      { chunk: FakeOpenAi.text('It is 2, every time.') },
      { chunk: FakeOpenAi.usage(10, 5) },
    ]);
    const c = await open();
    const before = fake.requests.length;
    await c.send('keep adding');
    expect((await c.end()).type).toBe('task_completed');
    expect(c.events().find((e) => e.type === 'response').data.content).toBe('It is 2, every time.');
    const calls = fake.requests.slice(before);
    expect(calls).toHaveLength(5);
    expect(calls.slice(0, 4).every((r) => r.tools?.length === 3)).toBe(true);
    expect(calls[4].tools).toBeUndefined();
    expect(calls[4].messages.filter((m: any) => m.role === 'tool')).toHaveLength(4);
  });

  it('an empty final answer fails the attempt instead of completing with an empty response', async () => {
    fake.script(toolRound(1), toolRound(2), toolRound(3), toolRound(4), [
      { chunk: FakeOpenAi.usage(10, 0) },
    ]);
    const c = await open();
    await c.send('keep adding');
    const end = await c.end();
    expect(end).toMatchObject({ type: 'task_failed', data: { canRetry: false } });
    expect(end.data.error).toMatch(/no answer/);
    expect(c.types()).not.toContain('response');
    expect(c.types()).not.toContain('task_completed');
  });

  it('the daily quota is checked before each model call, and the used tokens are recorded', async () => {
    fake.script(toolRound(1, FakeOpenAi.usage(1500, 3)));
    const c = await open();
    const before = fake.requests.length;
    // Held after the closing commit: the run is counted by then, not after (it raced the report).
    const held = t.app.get(FaultPoints).pause('run.closed');
    await c.send('add a lot');
    const end = await c.end();
    expect(end).toMatchObject({ type: 'task_failed', data: { canRetry: false } });
    expect(end.data.error).toMatch(/Daily token quota of 1000/);
    expect(fake.requests.length - before).toBe(1);
    await held.reached;
    const [day] = await t.app.get(UsageService).report({ userId: c.userId });
    held.release();
    expect(day).toMatchObject({ runs: 1, promptTokens: 1500, completionTokens: 3 });
    const next = await c.send('and now?');
    expect(next.error.code).toBe('QUOTA_EXCEEDED');
  });
});
