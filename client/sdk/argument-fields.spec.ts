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

  it('keeps the arguments nobody touched as asked: nullable unions, "" and null', () => {
    const unions = {
      type: 'object',
      properties: {
        q: { type: ['string', 'null'] },
        code: { type: ['string', 'null'] },
        n: { type: 'integer' },
        s: { type: 'string' },
        k: { type: 'number' },
      },
      required: ['q', 'n'],
    };
    const asked = { q: 'replay', code: '42', n: 1, s: '', k: null };
    const fields = argumentFields(unions, asked);
    const values = initialValues(fields, asked);
    expect(values.q).toBe('"replay"'); // JSON text: the box shows a string as a string
    expect(argumentsOf(fields, { ...values, n: '2' }, asked)).toEqual({
      args: { q: 'replay', code: '42', n: 2, s: '', k: null },
      problems: {},
    });
    // With the touched names given, only those are read back from the inputs.
    expect(argumentsOf(fields, { ...values, n: '3', s: 'x' }, asked, ['n']).args).toEqual({
      ...asked,
      n: 3,
    });
    // A touched optional input left blank is left out.
    expect(argumentsOf(fields, { ...values, s: '  ' }, { ...asked, s: 'a' }, ['s']).args).toEqual({
      q: 'replay',
      code: '42',
      n: 1,
      k: null,
    });
  });

  it('reads a number box only as a finite decimal, and sends any other text as typed', () => {
    const fields = argumentFields(schema, {});
    const limitOf = (text: string) =>
      argumentsOf(fields, { ...initialValues(fields, {}), query: 'q', limit: text }).args.limit;
    expect(['-1.5', '2e3', '10', ' 7 '].map(limitOf)).toEqual([-1.5, 2000, 10, 7]);
    for (const text of ['Infinity', '0x10', '1e400', '0b11', '1_000', '.5e']) {
      expect(limitOf(text)).toBe(text);
    }
  });
});
