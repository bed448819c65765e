import type { FieldProblem } from '../contracts/error-codes.js';

/** Deepest nesting a request body or socket payload may have; every real payload is far flatter. */
const MAX_PAYLOAD_DEPTH = 32;

/** Keys that reach object prototypes and trip class-transformer; never a field of ours. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor']);

/**
 * C0 control characters other than tab, newline and carriage return (NUL cannot be stored by
 * PostgreSQL at all), and unpaired UTF-16 surrogates (not valid Unicode, refused by jsonb).
 */
const FORBIDDEN_CHARS =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const MAX_PROBLEMS = 20;

/**
 * Checks a parsed JSON value before any DTO machinery sees it: nesting depth, prototype keys,
 * forbidden characters in every string and key, and `null` as the value of a top-level field
 * (optional fields are omitted, never null: null is refused rather than silently read as absent).
 * Iterative, so hostile nesting cannot exhaust the stack. Returns one problem per bad field.
 */
export function payloadProblems(value: unknown, rootName: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (field: string, problem: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ field, problems: [problem] });
  };
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if ((value as Record<string, unknown>)[key] === null)
        add(key, `${key} must not be null; omit an optional field instead`);
    }
  }
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: '', depth: 0 }];
  while (stack.length > 0 && problems.length < MAX_PROBLEMS) {
    const { v, path, depth } = stack.pop()!;
    const field = path || rootName;
    if (typeof v === 'string') {
      if (FORBIDDEN_CHARS.test(v))
        add(field, `${field} contains a control character or invalid Unicode`);
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_PAYLOAD_DEPTH) {
      add(field, `nesting deeper than ${MAX_PAYLOAD_DEPTH} levels`);
      continue;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    for (const key of Object.keys(v)) {
      const child = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) {
        add(child, `${child} is not an allowed field`);
        continue;
      }
      if (FORBIDDEN_CHARS.test(key)) {
        add(field, 'a field name contains a control character or invalid Unicode');
        continue;
      }
      stack.push({ v: (v as Record<string, unknown>)[key], path: child, depth: depth + 1 });
    }
  }
  return problems;
}

function isPlainObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
