import { BuiltinProvider, parseReminder, route } from './builtin.provider.js';
import type { ProviderChunk } from './provider.js';

describe('built-in agent routing', () => {
  it('routes each kind of request', () => {
    expect(route('What is 2 + 2?').tool).toMatchObject({
      name: 'calculator',
      arguments: { expression: '2 + 2' },
    });
    expect(route('calculate 3*3').tool).toMatchObject({
      name: 'calculator',
      arguments: { expression: '3*3' },
    });
    expect(route('search replay guarantees').tool).toMatchObject({
      name: 'search_docs',
      arguments: { query: 'replay guarantees' },
    });
    expect(route('count to 3')).toEqual({ count: 3 });
    expect(route('count to 10001').reply).toMatch(/at most 10000/);
    expect(route('hello').reply).toMatch(/built-in/);
    expect(route('set a reminder for 9:00 to stretch').tool).toMatchObject({
      name: 'create_reminder',
      arguments: { time: '9:00', label: 'stretch' },
    });
  });

  it.each([
    ['remind me to call Ada at 17:30', { label: 'call Ada', time: '17:30' }],
    ['remind me at noon to eat', { time: 'noon', label: 'eat' }],
    ['remind me to stretch tomorrow morning', { label: 'stretch', time: 'tomorrow morning' }],
    ['remind me to buy milk', { label: 'buy milk' }],
    ['remind me at 5pm', { time: '5pm' }],
    ['remind me', {}],
    ['remind me in 2 seconds to stretch', { time: 'in 2 seconds', label: 'stretch' }],
    ['remind me to stretch in 10 minutes', { label: 'stretch', time: 'in 10 minutes' }],
  ])('parses %p', (text, expected) => {
    expect(parseReminder(text)).toEqual(expected);
  });

  it('streams word by word and counts words as tokens', async () => {
    const p = new BuiltinProvider(0);
    const chunks: ProviderChunk[] = [];
    for await (const c of p.stream({
      messages: [{ role: 'user', content: 'count to 3' }],
      tools: [],
      signal: new AbortController().signal,
    })) {
      chunks.push(c);
    }
    expect(chunks).toEqual([
      { type: 'text', text: '1 ' },
      { type: 'text', text: '2 ' },
      { type: 'text', text: '3' },
      { type: 'usage', promptTokens: 3, completionTokens: 3 },
    ]);
  });

  it('recaps the earlier user messages it was given, oldest first, and nothing else', async () => {
    expect(route('recap').reply).toBe('You have not said anything earlier in this session.');
    const p = new BuiltinProvider(0);
    let text = '';
    for await (const c of p.stream({
      system: 'You are Relay.',
      messages: [
        { role: 'user', content: 'what is 2 + 2' },
        { role: 'assistant', content: '2 + 2 = 4.' },
        { role: 'user', content: 'count to 2' },
        { role: 'user', content: 'Recap' },
      ],
      tools: [],
      signal: new AbortController().signal,
    })) {
      if (c.type === 'text') text += c.text;
    }
    expect(text).toBe(
      'Earlier in this session you said (oldest first):\n1. what is 2 + 2\n2. count to 2',
    );
  });

  it('stops when the signal aborts', async () => {
    const p = new BuiltinProvider(5);
    const ac = new AbortController();
    const seen: ProviderChunk[] = [];
    const run = (async () => {
      for await (const c of p.stream({
        messages: [{ role: 'user', content: 'count to 1000' }],
        tools: [],
        signal: ac.signal,
      }))
        seen.push(c);
    })();
    setTimeout(() => ac.abort(new Error('stop')), 30);
    await expect(run).rejects.toThrow('stop');
    expect(seen.length).toBeLessThan(1000);
  });
});
