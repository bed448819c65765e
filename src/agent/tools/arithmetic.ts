/**
 * A safe arithmetic evaluator (recursive descent; never eval): numbers, + - * / % ^, parentheses,
 * unary minus. Throws ArithmeticError with a readable message on anything else.
 */
export class ArithmeticError extends Error {}

type Token = { kind: 'num'; value: number } | { kind: 'op'; value: string };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (/\s/.test(c)) {
      i++;
    } else if (/[\d.]/.test(c)) {
      const m = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(input.slice(i));
      if (!m) throw new ArithmeticError(`bad number at "${input.slice(i, i + 8)}"`);
      tokens.push({ kind: 'num', value: Number(m[0]) });
      i += m[0].length;
    } else if ('+-*/%^()'.includes(c)) {
      tokens.push({ kind: 'op', value: c });
      i++;
    } else if (c === '×' || c === 'x') {
      tokens.push({ kind: 'op', value: '*' });
      i++;
    } else if (c === '÷') {
      tokens.push({ kind: 'op', value: '/' });
      i++;
    } else {
      throw new ArithmeticError(`unexpected "${c}"`);
    }
  }
  return tokens;
}

export function evaluate(expression: string): number {
  if (expression.length > 500) throw new ArithmeticError('expression too long');
  const tokens = tokenize(expression);
  let pos = 0;
  let depth = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isOp = (v: string): boolean => peek()?.kind === 'op' && peek()?.value === v;

  const primary = (): number => {
    const t = tokens[pos++];
    if (!t) throw new ArithmeticError('expression ends too early');
    if (t.kind === 'num') return t.value;
    if (t.value === '(') {
      if (++depth > 100) throw new ArithmeticError('too deeply nested');
      const v = sum();
      if (!isOp(')')) throw new ArithmeticError('missing ")"');
      pos++;
      depth--;
      return v;
    }
    if (t.value === '-') return -unary();
    if (t.value === '+') return unary();
    throw new ArithmeticError(`unexpected "${t.value}"`);
  };
  const unary = (): number => primary();
  const power = (): number => {
    const base = unary();
    if (isOp('^')) {
      pos++;
      return base ** power();
    }
    return base;
  };
  const product = (): number => {
    let v = power();
    while (isOp('*') || isOp('/') || isOp('%')) {
      const op = tokens[pos++].value;
      const r = power();
      if ((op === '/' || op === '%') && r === 0) throw new ArithmeticError('division by zero');
      v = op === '*' ? v * r : op === '/' ? v / r : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (isOp('+') || isOp('-')) {
      const op = tokens[pos++].value;
      const r = product();
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };

  if (tokens.length === 0) throw new ArithmeticError('empty expression');
  const value = sum();
  if (pos !== tokens.length) throw new ArithmeticError(`unexpected "${tokens[pos].value}"`);
  if (!Number.isFinite(value)) throw new ArithmeticError('the result is not a finite number');
  return value;
}

/** Formats a result without floating-point noise (0.1 + 0.2 → 0.3). */
export function formatNumber(n: number): string {
  return String(Number(n.toPrecision(12)));
}
