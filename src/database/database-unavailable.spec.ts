import { isDatabaseUnavailable } from './database-unavailable.js';

const withCode = (code: string, message = 'x'): Error =>
  Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED')],
    ['several addresses refused', new AggregateError([withCode('ECONNREFUSED')], '')],
    ['server shutting down (57P01)', withCode('57P01')],
    ['connection exception class 08', withCode('08006')],
    ['pg: terminated', new Error('Connection terminated unexpectedly')],
    ['pg pool timeout', new Error('timeout exceeded when trying to connect')],
    ['PGlite closed', new Error('PGlite is closed')],
    [
      'wrapped by TypeORM',
      Object.assign(new Error('query failed'), { driverError: withCode('ECONNRESET') }),
    ],
    ['as a cause', new Error('outer', { cause: new Error('Connection terminated') })],
  ])('recognises %s', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505')],
    ['a syntax error', withCode('42601')],
    ['an invalid input', withCode('22P02')],
    ['a plain error', new Error('boom')],
    ['not an error', 'ECONNREFUSED'],
  ])('does not mistake %s for an outage', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});
