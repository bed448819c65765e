import { ArithmeticError, evaluate, formatNumber } from './arithmetic.js';

describe('arithmetic evaluator', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['2 ^ 3 ^ 2', 512],
    ['-4 + 10', 6],
    ['-(2 + 3)', -5],
    ['10 / 4', 2.5],
    ['10 % 4', 2],
    ['1.5e2 + .5', 150.5],
    ['2 x 3', 6],
  ])('%s = %d', (expr, value) => {
    expect(evaluate(expr)).toBe(value);
  });

  it.each(['', '1 +', '(1 + 2', '1 / 0', 'process.exit()', '2 ** 3', 'alert(1)', '1 2'])(
    'rejects %p',
    (expr) => {
      expect(() => evaluate(expr)).toThrow(ArithmeticError);
    },
  );

  it('never evaluates code', () => {
    expect(() => evaluate('constructor.constructor("return 1")()')).toThrow(ArithmeticError);
  });

  it('formats without floating-point noise', () => {
    expect(formatNumber(evaluate('0.1 + 0.2'))).toBe('0.3');
  });
});
