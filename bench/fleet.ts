import { io, type Socket } from 'socket.io-client';

/** The fields of a session event the bench reads. */
export interface WireEvent {
  sessionId: string;
  seq: number;
  type: string;
  createdAt: string;
}

const TERMINAL = new Set(['task_completed', 'task_failed', 'task_cancelled']);

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function postJson<T>(url: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`POST ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export async function getJson<T>(url: string, token: string): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`GET ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Registers a user over REST (the real client path); returns its access token. */
export async function registerUser(baseUrl: string, tag: string): Promise<string> {
  const email = `bench-${tag}-${Math.random().toString(36).slice(2)}@example.com`;
  const r = await postJson<{ accessToken: string }>(`${baseUrl}/auth/register`, {
    email,
    password: 'bench-password-1',
  });
  return r.accessToken;
}

export async function createSession(baseUrl: string, token: string): Promise<string> {
  return (await postJson<{ id: string }>(`${baseUrl}/sessions`, { title: 'bench' }, token)).id;
}

/** Connects to /chat over WebSocket with the token in the handshake. */
export function connectSocket(baseUrl: string, token: string, timeoutMs = 60_000): Promise<Socket> {
  const socket = io(`${baseUrl}/chat`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

export function ask<T>(socket: Socket, event: string, payload: unknown, ms = 60_000): Promise<T> {
  return socket.timeout(ms).emitWithAck(event, payload) as Promise<T>;
}

/**
 * One client's view of one session: every event it gets is checked against the seq it expects
 * (last + 1). Anything else is counted as a gap, a duplicate or a step back.
 */
export class Tab {
  lastSeq = 0;
  received = 0;
  gaps = 0;
  duplicates = 0;
  endSeq = 0;
  private doneResolve: (() => void) | undefined;
  private afterSeq = 0;
  readonly done: Promise<void>;

  constructor(
    readonly socket: Socket,
    readonly sessionId: string,
    latencies: number[],
  ) {
    this.done = new Promise((r) => (this.doneResolve = r));
    socket.on('session:event', (e: WireEvent) => {
      this.accept(e);
      latencies.push(Date.now() - Date.parse(e.createdAt));
    });
  }

  /** Events the join returned (the replay): checked the same way, not timed. */
  replayed(events: WireEvent[]): void {
    for (const e of events) this.accept(e);
    this.received = 0;
  }

  /** The next terminal event after the current last seq resolves `done`. */
  arm(): void {
    this.afterSeq = this.lastSeq;
  }

  private accept(e: WireEvent): void {
    if (e.sessionId !== this.sessionId) return;
    if (e.seq === this.lastSeq + 1) this.lastSeq = e.seq;
    else if (e.seq <= this.lastSeq) this.duplicates++;
    else {
      this.gaps++;
      this.lastSeq = e.seq;
    }
    this.received++;
    if (TERMINAL.has(e.type) && e.seq > this.afterSeq) {
      this.endSeq = e.seq;
      this.doneResolve?.();
    }
  }
}

export interface Integrity {
  clients: number;
  gaps: number;
  duplicates: number;
  /** Clients whose last seq differs from another client's of the same session. */
  diverged: number;
  /** Clients that never saw their run end. */
  unfinished: number;
  ok: boolean;
}

export function integrityOf(tabs: Tab[]): Integrity {
  const last = new Map<string, number>();
  let diverged = 0;
  for (const t of tabs) {
    const seen = last.get(t.sessionId);
    if (seen === undefined) last.set(t.sessionId, t.lastSeq);
    else if (seen !== t.lastSeq) diverged++;
  }
  const gaps = tabs.reduce((n, t) => n + t.gaps, 0);
  const duplicates = tabs.reduce((n, t) => n + t.duplicates, 0);
  const unfinished = tabs.filter((t) => t.endSeq === 0).length;
  return {
    clients: tabs.length,
    gaps,
    duplicates,
    diverged,
    unfinished,
    ok: gaps + duplicates + diverged + unfinished === 0,
  };
}
