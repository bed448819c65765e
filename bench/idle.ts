import type { Socket } from 'socket.io-client';
import { ask, connectSocket, createSession, mapLimit, registerUser } from './fleet.js';
import type { BenchOptions } from './options.js';
import { type ServerChild, startBare, startService } from './processes.js';
import type { BenchReport } from './report.js';

/** Sockets connected before the baseline of the idle-heap measurement. */
const IDLE_WARMUP_SOCKETS = 100;

/**
 * Heap per idle connection, in a server process that did nothing else (left-overs of earlier work
 * freed between the two readings would make a socket look cheaper): the heap after a full GC with
 * a warm-up batch connected, then with `count` more sockets each joined to a session
 * (authenticated with a JWT on the service).
 */

async function idleHeap(
  node: ServerChild,
  count: number,
  join: (socket: Socket, index: number) => Promise<void>,
  tokens: string[],
): Promise<{ sockets: number; bytesPerSocket: number }> {
  const open = (from: number, n: number): Promise<Socket[]> =>
    mapLimit(
      Array.from({ length: n }, (_, i) => from + i),
      50,
      async (i) => {
        const s = await connectSocket(node.baseUrl, tokens[i % tokens.length]);
        await join(s, i);
        return s;
      },
    );
  // Connected first and kept: what the first connections set up once (compiled code, pools,
  // lazily made tables) is in the baseline, so the difference is what each further one costs.
  const warm = await open(0, IDLE_WARMUP_SOCKETS);
  const before = await node.probe();
  if (process.env.BENCH_HEAP_SNAPSHOTS) {
    await node.request(
      {
        kind: 'snapshot',
        path: `${process.env.BENCH_HEAP_SNAPSHOTS}/${node.name}-before.heapsnapshot`,
      },
      'snapshot',
      120_000,
    );
  }
  const sockets = await open(IDLE_WARMUP_SOCKETS, count);
  const after = await node.probe();
  if (process.env.BENCH_HEAP_SNAPSHOTS) {
    await node.request(
      {
        kind: 'snapshot',
        path: `${process.env.BENCH_HEAP_SNAPSHOTS}/${node.name}-after.heapsnapshot`,
      },
      'snapshot',
      120_000,
    );
  }
  for (const s of [...warm, ...sockets]) s.close();
  return { sockets: count, bytesPerSocket: (after.heapUsed - before.heapUsed) / count };
}

/** Users and sessions for the idle-heap run on the service (so each socket is really joined). */
async function idleUsers(
  baseUrl: string,
  users: number,
): Promise<{ tokens: string[]; sessions: string[] }> {
  const made = await mapLimit(
    Array.from({ length: users }, (_, i) => i),
    4,
    async (i) => {
      const token = await registerUser(baseUrl, `idle${i}`);
      return { token, sessionId: await createSession(baseUrl, token) };
    },
  );
  return { tokens: made.map((m) => m.token), sessions: made.map((m) => m.sessionId) };
}

/**
 * The idle part: a fresh service on PostgreSQL (`env`: its whole environment) and a fresh bare
 * Socket.IO server, each holding `opts.idleSockets` sockets joined to a session or room.
 */
export async function runIdle(
  env: Record<string, string>,
  opts: BenchOptions,
  report: BenchReport,
  log: (line: string) => void,
): Promise<void> {
  const node = await startService('postgres', env);
  try {
    log(`postgres: idle heap at ${opts.idleSockets} sockets`);
    const users = await idleUsers(
      node.baseUrl,
      Math.max(1, Math.min(10, Math.ceil(opts.idleSockets / 500))),
    );
    report.idleHeap.postgres = await idleHeap(
      node,
      opts.idleSockets,
      async (s: Socket, i: number) => {
        const r = await ask<{ ok: boolean }>(s, 'session:join', {
          sessionId: users.sessions[i % users.sessions.length],
        });
        if (!r.ok) throw new Error('idle join failed');
      },
      users.tokens,
    );
  } finally {
    await node.stop();
  }
  const bare = await startBare({});
  try {
    log(`bare: idle heap at ${opts.idleSockets} sockets`);
    report.idleHeap.bare = await idleHeap(
      bare,
      opts.idleSockets,
      async (s: Socket, i: number) => void (await ask(s, 'join', `room-${i % 50}`)),
      ['none'],
    );
  } finally {
    await bare.stop();
  }
}
