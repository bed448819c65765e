import type { Tool } from './tool.js';
import { ToolArguments } from './tool-arguments.js';

function tool(parameters: Record<string, unknown>, required: string[] = []): Tool {
  return {
    name: 't',
    description: 'a test tool',
    parameters,
    needsConfirmation: true,
    required,
    formFields: [],
    execute: () => Promise.resolve({ content: '{}', summary: '' }),
  };
}

describe('ToolArguments', () => {
  const checker = new ToolArguments();

  it('names every bad argument at once, nested ones by their dotted path', () => {
    const t = tool({
      type: 'object',
      properties: {
        n: { type: 'integer', minimum: 1 },
        where: {
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
        },
      },
      required: ['n', 'where'],
      additionalProperties: false,
    });
    expect(checker.problems(t, { n: 0, where: {}, x: true }, 'response.arguments')).toEqual([
      { field: 'response.arguments.x', problems: ['is not a parameter of this tool'] },
      { field: 'response.arguments.n', problems: ['must be >= 1'] },
      { field: 'response.arguments.where.city', problems: ['is required'] },
    ]);
    expect(checker.problems(t, { n: 2, where: { city: 'Oslo' } }, 'r')).toEqual([]);
  });

  it('caps edited arguments like form values: each text at 500 characters, all of them at 16 KiB of JSON', () => {
    const t = tool({
      type: 'object',
      properties: { q: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
    });
    expect(checker.problems(t, { q: 'x'.repeat(500), tags: ['y'.repeat(500)] }, 'a')).toEqual([]);
    expect(
      checker.problems(t, { q: 'x'.repeat(900_000), tags: ['ok', 'y'.repeat(501)] }, 'a'),
    ).toEqual([
      { field: 'a.q', problems: ['must be at most 500 characters'] },
      { field: 'a.tags.1', problems: ['must be at most 500 characters'] },
    ]);
    const many = Array.from({ length: 40 }, () => 'z'.repeat(500));
    expect(checker.problems(t, { tags: many }, 'a')).toEqual([
      { field: 'a', problems: ['must be at most 16384 bytes as JSON'] },
    ]);
  });

  it('refuses a required argument left blank, and one the tool cannot use', () => {
    const t = tool({ type: 'object', properties: { q: { type: 'string' } } }, ['q']);
    expect(checker.problems(t, { q: '  ' }, 'a')).toEqual([
      { field: 'a.q', problems: ['must not be blank'] },
    ]);
    const picky = { ...t, invalidArguments: () => ['q'] };
    expect(checker.problems(picky, { q: 'x' }, 'a')).toEqual([
      { field: 'a.q', problems: ['cannot be used as given'] },
    ]);
  });

  it('takes schemas with keywords it does not know (they only describe)', () => {
    const t = tool({ type: 'object', 'x-ui': { widget: 'text' }, properties: {} });
    expect(checker.problems(t, {}, 'a')).toEqual([]);
  });

  it('refuses arguments nested past 32 levels (a ~1 MB payload can nest 200,000) without a stack overflow', () => {
    const t = tool({ type: 'object', properties: { q: { type: 'string' } } });
    const depth = 200_000;
    const deep = JSON.parse(
      '{"q":"a","x":' + '['.repeat(depth) + ']'.repeat(depth) + '}',
    ) as Record<string, unknown>;
    expect(checker.problems(t, deep, 'a')).toEqual([
      { field: 'a.x', problems: ['must nest at most 32 levels deep'] },
    ]);
    const ok = JSON.parse('{"x":' + '['.repeat(31) + ']'.repeat(31) + '}') as Record<
      string,
      unknown
    >;
    expect(checker.problems(t, ok, 'a')).toEqual([]);
  });

  it('caps the keys of nested objects like texts', () => {
    const t = tool({ type: 'object', properties: { o: { type: 'object' } } });
    expect(checker.problems(t, { o: { ['k'.repeat(501)]: 1 } }, 'a')).toEqual([
      { field: 'a.o', problems: ['must have keys of at most 500 characters'] },
    ]);
  });
});
