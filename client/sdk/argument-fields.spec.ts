import { argumentFields, argumentsOf, initialValues } from './argument-fields.js';

const schema = {
  type: 'object',
  properties: {
    query: { type: 'string', description: 'what to look for' },
    limit: { type: 'integer' },
    exact: { type: 'boolean' },
    mode: { type: 'string', enum: ['fast', 'full'] },
    filter: { type: 'object' },
  },
  required: ['query'],
};

describe('argument fields from a tool schema', () => {
  it('makes one input per parameter, in schema order, then the arguments the schema lacks', () => {
    const fields = argumentFields(schema, { query: 'replay', extra: [1] });
    expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['query', 'text', true],
      ['limit', 'number', false],
      ['exact', 'boolean', false],
      ['mode', 'choice', false],
      ['filter', 'json', false],
      ['extra', 'json', false],
    ]);
    expect(fields[0].description).toBe('what to look for');
    expect(fields[3].choices).toEqual(['fast', 'full']);
  });

  it('falls back to the arguments themselves without a schema', () => {
    const fields = argumentFields(null, { q: 'x', n: 2, b: true });
    expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['q', 'text', false],
      ['n', 'number', false],
      ['b', 'boolean', false],
    ]);
  });

  it('round-trips the asked arguments, and leaves blank optional ones out', () => {
    const args = { query: 'replay', limit: 5, exact: true, filter: { a: 1 } };
    const fields = argumentFields(schema, args);
    const values = initialValues(fields, args);
    expect(values).toEqual({
      query: 'replay',
      limit: '5',
      exact: true,
      mode: '',
      filter: '{"a":1}',
    });
    expect(argumentsOf(fields, values, args)).toEqual({ args, problems: {} });
    const unticked = { ...values, exact: false };
    expect(argumentsOf(fields, unticked, args).args.exact).toBe(false);
    expect(argumentsOf(fields, unticked, { query: 'replay' }).args).not.toHaveProperty('exact');
  });

  it('sends a blank required text and a non-number as typed, for the service to name', () => {
    const fields = argumentFields(schema, {});
    const values = { ...initialValues(fields, {}), query: '  ', limit: 'ten' };
    expect(argumentsOf(fields, values).args).toEqual({ query: '  ', limit: 'ten' });
  });

  it('names JSON that does not parse, which only the page can see', () => {
    const fields = argumentFields(schema, {});
    const values = { ...initialValues(fields, {}), query: 'q', filter: '{nope' };
    expect(argumentsOf(fields, values).problems).toEqual({ filter: 'is not valid JSON' });
  });
});
