/** A small seeded PRNG (mulberry32): the same FUZZ_SEED gives the same payloads. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

export function fuzzSeed(): number {
  const fromEnv = process.env.FUZZ_SEED;
  return fromEnv !== undefined && /^\d+$/.test(fromEnv)
    ? Number(fromEnv)
    : Math.floor(Math.random() * 2 ** 31);
}

const NASTY_STRINGS = [
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  'bell\u0007',
  'esc\u001b[31m',
  'half \ud800 surrogate',
  '\udfff',
  'tab\tnew\nline\r',
  '\u202eright-to-left',
  '😀'.repeat(50),
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
  '../../etc/passwd',
  'x'.repeat(70_000),
  'constructor',
  '__proto__',
  'count to 3',
  'what is 2 + 2',
  'hello',
  '00000000-0000-4000-8000-000000000000',
  'not-a-uuid',
];

const NASTY_NUMBERS = [
  0,
  -1,
  1,
  1.5,
  1e20,
  -1e20,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  1e308,
  -0,
  2 ** 31,
  2 ** 63,
];

const FIELD_NAMES = [
  'constructor',
  '__proto__',
  'prototype',
  'toString',
  'extra',
  'sessionId',
  'a\u0000b',
  '',
];

function nested(rng: Rng, depth: number): unknown {
  let v: unknown = rng.pick(NASTY_STRINGS.slice(0, 10));
  for (let i = 0; i < depth; i++) v = rng.chance(0.5) ? { a: v } : [v];
  return v;
}

/** Any JSON value, hostile more often than not. */
export function randomValue(rng: Rng, ids: readonly string[], depth = 0): unknown {
  switch (rng.int(depth > 2 ? 6 : 9)) {
    case 0:
      return rng.pick(NASTY_STRINGS);
    case 1:
      return rng.pick(NASTY_NUMBERS);
    case 2:
      return rng.chance(0.5);
    case 3:
      return null;
    case 4:
      return rng.pick(ids);
    case 5:
      return String.fromCharCode(...Array.from({ length: rng.int(20) }, () => rng.int(0x3000)));
    case 6:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, ids, depth + 1));
    case 7:
      return Object.fromEntries(
        Array.from({ length: rng.int(4) }, () => [
          rng.pick(FIELD_NAMES),
          randomValue(rng, ids, depth + 1),
        ]),
      );
    default:
      return nested(rng, rng.pick([5, 33, 40, 200, 1000]));
  }
}

/** A valid payload mutated zero or more times: fields dropped, retyped, added (incl. prototype keys). */
export function mutate(rng: Rng, base: Record<string, unknown>, ids: readonly string[]): unknown {
  if (rng.chance(0.05)) return randomValue(rng, ids);
  const out: Record<string, unknown> = { ...base };
  const rounds = rng.int(4);
  for (let i = 0; i < rounds; i++) {
    const keys = Object.keys(out);
    const op = rng.int(4);
    if (op === 0 && keys.length > 0) delete out[rng.pick(keys)];
    else if (op === 1 && keys.length > 0) out[rng.pick(keys)] = randomValue(rng, ids);
    else if (op === 2)
      Object.defineProperty(out, rng.pick(FIELD_NAMES), {
        value: randomValue(rng, ids),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    else if (keys.length > 0) out[rng.pick(keys)] = rng.pick(ids);
  }
  return out;
}

/**
 * A paging cursor as a client could forge it: base64url JSON whose `t` JavaScript's Date.parse
 * accepts but PostgreSQL's timestamptz does not (or whose `id` is no UUID), plain garbage, or
 * nothing. Each is a VALIDATION_FAILED, never a 500.
 */
export function hostileCursor(rng: Rng): string {
  const uuid = '00000000-0000-4000-8000-000000000000';
  const t = rng.pick([
    '2030-01-01T00:00:00.000400Z',
    '0',
    '1',
    '-271821-04-20T00:00:00Z',
    '+275760-09-13T00:00:00Z',
    'Tue Jan 01 2030 00:00:00 GMT+0000',
    '2030-02-30T00:00:00Z',
    '2030-01-01T24:00:00Z',
  ]);
  const id = rng.pick([uuid, 'x', `${uuid}x`, 42]);
  const forged = Buffer.from(JSON.stringify({ t, id })).toString('base64url');
  return rng.pick([forged, forged, '', 'abc', '%00']);
}
