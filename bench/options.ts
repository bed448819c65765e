import { join } from 'node:path';
import { ROOT } from './processes.js';

const PARTS = [
  'postgres',
  'embedded',
  'bare',
  'idle',
  'replay',
  'first',
  'history',
  'cluster',
] as const;
type Part = (typeof PARTS)[number];

export interface BenchOptions {
  mode: 'full' | 'quick';
  clients: number;
  sessions: number;
  count: number;
  idleSockets: number;
  replayEvents: number;
  replayRounds: number;
  firstEventSends: number;
  historySessions: number;
  historyEventsPerSession: number;
  timeoutMs: number;
  /** An existing PostgreSQL to use instead of a throwaway cluster (a scratch database is made in it). */
  databaseUrl?: string;
  /** An existing Redis for the two-node run instead of a throwaway redis-server. */
  redisUrl?: string;
  parts: Set<Part>;
  profile: boolean;
  outDir: string;
}

const FLAGS: Record<string, string> = {
  clients: 'BENCH_CLIENTS',
  sessions: 'BENCH_SESSIONS',
  count: 'BENCH_COUNT',
  'idle-sockets': 'BENCH_IDLE_SOCKETS',
  'replay-events': 'BENCH_REPLAY_EVENTS',
  'replay-rounds': 'BENCH_REPLAY_ROUNDS',
  'first-event-sends': 'BENCH_FIRST_EVENT_SENDS',
  'history-sessions': 'BENCH_HISTORY_SESSIONS',
  'history-events': 'BENCH_HISTORY_EVENTS',
  'timeout-ms': 'BENCH_TIMEOUT_MS',
  'database-url': 'BENCH_DATABASE_URL',
  'redis-url': 'BENCH_REDIS_URL',
  only: 'BENCH_ONLY',
  out: 'BENCH_OUT',
};

/**
 * `--name value` flags, each with a BENCH_* environment twin (the flag wins). `--quick` picks
 * smaller defaults; `--profile` writes a CPU profile of every server process.
 */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const values: Record<string, string | undefined> = {};
  for (const [flag, name] of Object.entries(FLAGS)) values[flag] = env[name];
  let quick = env.BENCH_QUICK === '1';
  let profile = env.BENCH_PROFILE === '1';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--profile') profile = true;
    else if (a.startsWith('--') && a.slice(2) in FLAGS && i + 1 < argv.length) {
      values[a.slice(2)] = argv[++i];
    } else
      throw new Error(
        `unknown argument ${a} (flags: --quick --profile --${Object.keys(FLAGS).join(' --')})`,
      );
  }
  const num = (flag: string, full: number, small: number): number => {
    const v = values[flag];
    if (v === undefined) return quick ? small : full;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer`);
    return n;
  };
  const only = values.only?.split(',').map((s) => s.trim()) ?? [...PARTS];
  for (const p of only) {
    if (!(PARTS as readonly string[]).includes(p)) throw new Error(`unknown part ${p} in --only`);
  }
  const opts: BenchOptions = {
    mode: quick ? 'quick' : 'full',
    clients: num('clients', 1000, 200),
    sessions: num('sessions', 250, 50),
    count: num('count', 200, 100),
    idleSockets: num('idle-sockets', 5000, 300),
    replayEvents: num('replay-events', 10_000, 2000),
    replayRounds: num('replay-rounds', 5, 2),
    firstEventSends: num('first-event-sends', 30, 10),
    historySessions: num('history-sessions', 50, 20),
    historyEventsPerSession: num('history-events', 200, 100),
    timeoutMs: num('timeout-ms', 180_000, 60_000),
    databaseUrl: values['database-url'],
    redisUrl: values['redis-url'],
    parts: new Set(only as Part[]),
    profile,
    outDir: values.out ?? join(ROOT, 'bench', 'results'),
  };
  if (opts.sessions > opts.clients) throw new Error('--sessions must not exceed --clients');
  return opts;
}
