import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import {
  ask,
  connectSocket,
  createSession,
  type Integrity,
  integrityOf,
  mapLimit,
  percentile,
  registerUser,
  Tab,
  type WireEvent,
} from './fleet.js';
import type { ServerChild } from './processes.js';

export interface FanoutOptions {
  clients: number;
  sessions: number;
  /** `count to N`: the streamed reply. */
  count: number;
  timeoutMs: number;
  /**
   * Which node each tab connects to when there are several: `split` deals the tabs round-robin,
   * so every session has tabs on every node (each node watches every session); `affine` puts all
   * tabs of a session on one node, sessions dealt round-robin (a load balancer with stickiness).
   */
  placement?: 'split' | 'affine';
}

export interface FanoutResult {
  target: string;
  nodes: number;
  clients: number;
  sessions: number;
  delivered: number;
  seconds: number;
  eventsPerS: number;
  eventsPerSession: number;
  commitToReceiveP50: number;
  commitToReceiveP99: number;
  ackP50?: number;
  ackP99?: number;
  /** Server CPU seconds during the run, summed over nodes. */
  serverCpuS: number;
  /** Deliveries per server CPU second. */
  eventsPerCpuS: number;
  integrity: Integrity;
}

interface Opened {
  tabs: Tab[];
  latencies: number[];
  firstTabs: Tab[];
}

const CONNECT_CONCURRENCY = 50;

function tabsOf(opts: FanoutOptions, session: number): number {
  const base = Math.floor(opts.clients / opts.sessions);
  return base + (session < opts.clients % opts.sessions ? 1 : 0);
}

async function cpuSeconds(nodes: ServerChild[]): Promise<number> {
  const samples = await Promise.all(nodes.map((n) => n.probe()));
  return samples.reduce((s, p) => s + (p.cpuUserUs + p.cpuSystemUs) / 1e6, 0);
}

async function finish(
  target: string,
  nodes: ServerChild[],
  opened: Opened,
  opts: FanoutOptions,
  run: () => Promise<number[] | undefined>,
): Promise<FanoutResult> {
  const profileDir = process.env.BENCH_WINDOW_PROFILE_DIR;
  if (profileDir)
    await Promise.all(nodes.map((n) => n.request({ kind: 'cpu-start' }, 'cpu-started')));
  const cpuBefore = await cpuSeconds(nodes);
  opened.latencies.length = 0;
  for (const t of opened.tabs) t.arm();
  const started = performance.now();
  let ended = started;
  const all = Promise.all(opened.tabs.map((t) => t.done.then(() => (ended = performance.now()))));
  const acks = await run();
  await Promise.race([all, new Promise((r) => setTimeout(r, opts.timeoutMs).unref())]);
  // Anything still in flight after the last terminal event would show as divergence.
  await new Promise((r) => setTimeout(r, 200));
  const cpu = (await cpuSeconds(nodes)) - cpuBefore;
  if (profileDir) {
    const name = target.replace(/[^a-z0-9]+/gi, '-');
    await Promise.all(
      nodes.map((n, i) =>
        n.request(
          { kind: 'cpu-stop', path: `${profileDir}/${name}-${i}.cpuprofile` },
          'cpu-stopped',
        ),
      ),
    );
  }
  const seconds = (ended - started) / 1000;
  const delivered = opened.tabs.reduce((n, t) => n + t.received, 0);
  for (const t of opened.tabs) t.socket.close();
  const perSession = opened.firstTabs.reduce((n, t) => n + t.received, 0) / opts.sessions;
  return {
    target,
    nodes: nodes.length,
    clients: opened.tabs.length,
    sessions: opts.sessions,
    delivered,
    seconds,
    eventsPerS: delivered / seconds,
    eventsPerSession: perSession,
    commitToReceiveP50: percentile(opened.latencies, 50),
    commitToReceiveP99: percentile(opened.latencies, 99),
    ...(acks ? { ackP50: percentile(acks, 50), ackP99: percentile(acks, 99) } : {}),
    serverCpuS: cpu,
    eventsPerCpuS: cpu > 0 ? delivered / cpu : 0,
    integrity: integrityOf(opened.tabs),
  };
}

/**
 * The service: one user per session (registered over REST), the session made over REST, its tabs
 * connected with the JWT (spread over `nodes` as `opts.placement` says) and joined; then every session's
 * first tab sends `count to N` at once, and each tab counts what arrives until the run ends.
 */
export async function serviceFanout(
  target: string,
  nodes: ServerChild[],
  opts: FanoutOptions,
): Promise<FanoutResult> {
  const base = nodes[0].baseUrl;
  const owners = await mapLimit(
    Array.from({ length: opts.sessions }, (_, i) => i),
    4,
    async (i) => {
      const token = await registerUser(base, `s${i}`);
      return { token, sessionId: await createSession(base, token) };
    },
  );
  const plan = owners.flatMap((o, i) =>
    Array.from({ length: tabsOf(opts, i) }, (_, k) => ({ ...o, session: i, first: k === 0 })),
  );
  const latencies: number[] = [];
  const firstTabs: Tab[] = [];
  const tabs = await mapLimit(plan, CONNECT_CONCURRENCY, async (p, i) => {
    const node = opts.placement === 'affine' ? p.session : i;
    const socket = await connectSocket(nodes[node % nodes.length].baseUrl, p.token);
    const tab = new Tab(socket, p.sessionId, latencies);
    const joined = await ask<{ ok: boolean; events: WireEvent[] }>(socket, 'session:join', {
      sessionId: p.sessionId,
    });
    if (!joined.ok) throw new Error(`join failed: ${JSON.stringify(joined)}`);
    tab.replayed(joined.events);
    if (p.first) firstTabs.push(tab);
    return tab;
  });
  return finish(target, nodes, { tabs, latencies, firstTabs }, opts, async () => {
    const acks: number[] = [];
    await Promise.all(
      firstTabs.map(async (t) => {
        const sent = performance.now();
        const ack = await ask<{ ok: boolean }>(t.socket, 'message:send', {
          sessionId: t.sessionId,
          content: `count to ${opts.count}`,
          clientMessageId: randomUUID(),
        });
        acks.push(performance.now() - sent);
        if (!ack.ok) throw new Error(`send failed: ${JSON.stringify(ack)}`);
      }),
    );
    return acks;
  });
}

/**
 * The ceiling: the same clients and rooms on the bare server, which emits `events` events per
 * room (the service's mean per session in the same bench run).
 */
export async function bareFanout(
  bare: ServerChild,
  opts: FanoutOptions,
  events: number,
): Promise<FanoutResult> {
  const rooms = Array.from({ length: opts.sessions }, () => randomUUID());
  const plan = rooms.flatMap((room, i) =>
    Array.from({ length: tabsOf(opts, i) }, (_, k) => ({ room, first: k === 0 })),
  );
  const latencies: number[] = [];
  const firstTabs: Tab[] = [];
  const tabs = await mapLimit(plan, CONNECT_CONCURRENCY, async (p) => {
    const socket: Socket = await connectSocket(bare.baseUrl, 'none');
    const tab = new Tab(socket, p.room, latencies);
    await ask(socket, 'join', p.room);
    if (p.first) firstTabs.push(tab);
    return tab;
  });
  return finish('bare Socket.IO', [bare], { tabs, latencies, firstTabs }, opts, async () => {
    await bare.request({ kind: 'fanout', rooms, events }, 'fanout-done');
    return undefined;
  });
}
