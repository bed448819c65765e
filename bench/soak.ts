import 'reflect-metadata';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { ask, connectSocket, createSession, registerUser, type WireEvent } from './fleet.js';
import { ROOT, type ServerChild, startService } from './processes.js';

/**
 * `npm run soak`: users create sessions, use them (streamed runs), drop their sockets mid-run and
 * come back with `afterSeq` (reconnect churn), and leave sessions behind to expire, for
 * SOAK_MINUTES (default 10). The server's heap is sampled after a full GC every SOAK_SAMPLE_S.
 * Fails if any client misses a seq across its reconnects, if a run never ends (60 s), or if the heap keeps growing after the
 * warm-up (the second half's median above the first half's by more than the allowance).
 */
interface SoakOptions {
  minutes: number;
  users: number;
  sampleS: number;
  count: number;
  databaseUrl?: string;
  outDir: string;
}

function options(env: NodeJS.ProcessEnv, argv: string[]): SoakOptions {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string, envName: string, dflt: number): number => {
    const v = Number(flag(name) ?? env[envName] ?? dflt);
    if (!(v > 0)) throw new Error(`--${name} must be a positive number`);
    return v;
  };
  return {
    minutes: num('minutes', 'SOAK_MINUTES', 10),
    users: num('users', 'SOAK_USERS', 20),
    sampleS: num('sample-s', 'SOAK_SAMPLE_S', 10),
    count: num('count', 'SOAK_COUNT', 30),
    databaseUrl: flag('database-url') ?? env.SOAK_DATABASE_URL,
    outDir: flag('out') ?? env.SOAK_OUT ?? join(ROOT, 'bench', 'results'),
  };
}

const TERMINAL = new Set(['task_completed', 'task_failed', 'task_cancelled']);

/** One user's session as its client sees it across reconnects: the last seq it holds. */
class Follower {
  lastSeq = 0;
  gaps = 0;
  private onEnd: (() => void) | undefined;

  accept(e: WireEvent): void {
    if (e.seq <= this.lastSeq) return; // a replay overlapping the live stream: allowed, dropped
    if (e.seq !== this.lastSeq + 1) this.gaps++;
    this.lastSeq = e.seq;
    if (TERMINAL.has(e.type)) this.onEnd?.();
  }

  ended(): Promise<void> {
    return new Promise((r) => (this.onEnd = r));
  }
}

async function attach(
  node: ServerChild,
  token: string,
  sessionId: string,
  f: Follower,
): Promise<Socket> {
  const socket = await connectSocket(node.baseUrl, token);
  // Live events can overtake the join's replay (the room is joined before the page is read):
  // hold them until the replay is applied, as a real client must.
  let held: WireEvent[] | undefined = [];
  socket.on('session:event', (e: WireEvent) => (held ? held.push(e) : f.accept(e)));
  let after = f.lastSeq;
  for (;;) {
    const r = await ask<{ ok: boolean; events: WireEvent[]; hasMore: boolean }>(
      socket,
      'session:join',
      { sessionId, afterSeq: after },
    );
    if (!r.ok) throw new Error(`join failed: ${JSON.stringify(r)}`);
    for (const e of r.events) f.accept(e);
    if (!r.hasMore) {
      for (const e of held) f.accept(e);
      held = undefined;
      return socket;
    }
    after = f.lastSeq;
  }
}

async function userLoop(
  node: ServerChild,
  deadline: number,
  opts: SoakOptions,
  stats: { runs: number; reconnects: number; sessions: number; gaps: number; stalled: number },
): Promise<void> {
  const token = await registerUser(node.baseUrl, 'soak');
  let iteration = 0;
  while (Date.now() < deadline) {
    const sessionId = await createSession(node.baseUrl, token);
    stats.sessions++;
    const f = new Follower();
    let socket = await attach(node, token, sessionId, f);
    // Use the session for a few runs, then leave it behind (it expires on its own).
    for (let run = 0; run < 3 && Date.now() < deadline; run++, iteration++) {
      const ended = f.ended();
      const ack = await ask<{ ok: boolean }>(socket, 'message:send', {
        sessionId,
        content: `count to ${opts.count}`,
        clientMessageId: randomUUID(),
      });
      if (!ack.ok) throw new Error(`send failed: ${JSON.stringify(ack)}`);
      if (iteration % 2 === 0) {
        // Churn: drop the socket mid-run, come back and catch up from the last seq held.
        socket.close();
        stats.reconnects++;
        socket = await attach(node, token, sessionId, f);
      }
      const finished = await Promise.race([
        ended.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 60_000).unref()),
      ]);
      if (finished) stats.runs++;
      else stats.stalled++;
    }
    await ask(socket, 'session:leave', { sessionId }).catch(() => undefined);
    socket.close();
    stats.gaps += f.gaps;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
};

async function main(): Promise<void> {
  const opts = options(process.env, process.argv.slice(2));
  mkdirSync(opts.outDir, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'hitl-soak-'));
  chmodSync(dir, 0o755);
  const node = await startService('soak', {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    JWT_SECRET: 'soak-secret-soak-secret-soak-secret-0123456',
    BUILTIN_TOKEN_DELAY_MS: '2',
    GENERATING_COALESCE_MS: '10',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '100000',
    // Bench users create sessions in loops and leave them active.
    RATE_LIMIT_SESSIONS_PER_MINUTE: '100000',
    MAX_SESSIONS_PER_USER: '1000000',
    // Every soak user registers from the same loopback address.
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    DAILY_TOKEN_QUOTA: '1000000000',
    SESSION_IDLE_TIMEOUT_MS: '20000',
    SESSION_SWEEP_INTERVAL_MS: '5000',
    DATA_DIR: join(dir, 'data'),
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
  });
  const started = Date.now();
  const deadline = started + opts.minutes * 60_000;
  const stats = { runs: 0, reconnects: 0, sessions: 0, gaps: 0, stalled: 0 };
  const samples: { s: number; heapMb: number; rssMb: number }[] = [];
  const sample = async (): Promise<void> => {
    const p = await node.probe();
    samples.push({
      s: Math.round((Date.now() - started) / 1000),
      heapMb: p.heapUsed / 2 ** 20,
      rssMb: p.rss / 2 ** 20,
    });
    const last = samples[samples.length - 1];
    process.stderr.write(
      `[soak ${last.s}s] heap ${last.heapMb.toFixed(1)} MB, rss ${last.rssMb.toFixed(0)} MB, ` +
        `${stats.sessions} sessions, ${stats.runs} runs, ${stats.reconnects} reconnects\n`,
    );
  };
  const sampler = setInterval(() => void sample(), opts.sampleS * 1000);
  const errors: string[] = [];
  try {
    await Promise.all(
      Array.from({ length: opts.users }, () =>
        userLoop(node, deadline, opts, stats).catch((err: unknown) => {
          errors.push(String(err));
        }),
      ),
    );
  } finally {
    clearInterval(sampler);
  }
  await sample();
  await node.stop();
  rmSync(dir, { recursive: true, force: true });

  // Warm-up: the first fifth of the samples (JIT, pools, caches filling).
  const steady = samples.slice(Math.ceil(samples.length / 5));
  const half = Math.floor(steady.length / 2);
  const first = median(steady.slice(0, half).map((x) => x.heapMb));
  const second = median(steady.slice(half).map((x) => x.heapMb));
  const allowanceMb = Math.max(2, first * 0.15);
  const growing = steady.length >= 4 && second > first + allowanceMb;
  const ok =
    errors.length === 0 && stats.gaps === 0 && stats.stalled === 0 && !growing && stats.runs > 0;
  const result = {
    opts,
    stats,
    samples,
    heap: { first, second, allowanceMb, growing },
    errors,
    ok,
  };
  writeFileSync(join(opts.outDir, 'soak-latest.json'), JSON.stringify(result, null, 2));
  process.stdout.write(
    `soak ${ok ? 'passed' : 'FAILED'}: ${stats.sessions} sessions, ${stats.runs} runs, ` +
      `${stats.reconnects} reconnects, ${stats.gaps} missed seqs, ${stats.stalled} runs that never ended; heap median ` +
      `${first.toFixed(1)} → ${second.toFixed(1)} MB after warm-up (allowance ${allowanceMb.toFixed(1)} MB)\n`,
  );
  for (const e of errors) process.stderr.write(`soak error: ${e}\n`);
  if (!ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(String(err) + '\n');
  process.exit(1);
});
