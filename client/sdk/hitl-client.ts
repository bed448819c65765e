import type { SessionEvent } from '@hitl/contracts';
import { AuthClient, type TokenStore } from './auth.js';
import {
  backoffDelay,
  type ChatSocketLike,
  type SocketFactory,
  socketIoFactory,
  SocketRequests,
} from './chat-socket.js';
import { ApiError, type FetchLike, HttpTransport } from './http.js';
import { Inbox } from './inbox.js';
import { RestApi } from './rest-api.js';
import { type EventSourceFactory, SessionRoom } from './session-room.js';
import type { SessionsChange } from '@hitl/contracts';

export type ConnectionStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface ConnectionInfo {
  status: ConnectionStatus;
  /** How events arrive while connected: the socket, or SSE when the socket cannot connect. */
  transport: 'websocket' | 'sse' | null;
  /** Consecutive failed connection attempts. */
  failures: number;
}

export interface HitlClientOptions {
  /** The service's origin, e.g. `http://localhost:3000`; empty for the page's own origin. */
  baseUrl?: string;
  tokenStore?: TokenStore;
  fetch?: FetchLike;
  socketFactory?: SocketFactory;
  /** Used for the SSE fallback; defaults to the global EventSource where there is one. */
  eventSource?: EventSourceFactory | null;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** After this many failed socket attempts in a row, joined sessions follow over SSE. */
  sseAfterFailures?: number;
  /** After this many, the status says offline (attempts go on at the slowest pace). */
  offlineAfterFailures?: number;
  gapDelayMs?: number;
  random?: () => number;
  onError?: (err: unknown) => void;
}

/** The session events that add a question to the user's inbox or take one away. */
const changesInbox = (e: SessionEvent): boolean =>
  e.type === 'request_confirmation' ||
  e.type === 'component' ||
  e.type === 'interaction_resolved' ||
  (e.type === 'task_failed' && e.data.interactionId !== undefined);

const defaultEventSource = (): EventSourceFactory | null => {
  const ES = (globalThis as { EventSource?: new (url: string) => unknown }).EventSource;
  return ES ? (url) => new ES(url) as ReturnType<EventSourceFactory> : null;
};

/**
 * The typed client of the service: auth, REST, and one long-lived Socket.IO connection that
 * reconnects by itself (exponential backoff with jitter, a fresh token each time) and rejoins
 * every joined session after the last seq it saw.
 */
export class HitlClient {
  readonly auth: AuthClient;
  readonly api: RestApi;
  /** The user's open questions across all their sessions, live (`inbox` events). */
  readonly inbox: Inbox;
  private readonly opts: Required<
    Pick<
      HitlClientOptions,
      'reconnectBaseMs' | 'reconnectMaxMs' | 'sseAfterFailures' | 'offlineAfterFailures'
    >
  > &
    HitlClientOptions;
  private readonly rooms = new Map<string, SessionRoom>();
  private readonly statusListeners = new Set<(c: ConnectionInfo) => void>();
  private readonly sessionsListeners = new Set<(c: SessionsChange) => void>();
  private info: ConnectionInfo = { status: 'idle', transport: null, failures: 0 };
  private socket: ChatSocketLike | null = null;
  private requests: SocketRequests | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  /** Counts connect() calls, so an attempt that outlived a disconnect() opens nothing. */
  private generation = 0;
  private forceRefresh = false;

  constructor(options: HitlClientOptions = {}) {
    this.opts = {
      reconnectBaseMs: 500,
      reconnectMaxMs: 15_000,
      sseAfterFailures: 3,
      offlineAfterFailures: 6,
      ...options,
    };
    const http = new HttpTransport(options.baseUrl ?? '', options.fetch);
    this.auth = new AuthClient(http, options.tokenStore);
    this.api = new RestApi(http, this.auth);
    this.inbox = new Inbox(this.api, options.onError);
    // A token refresh keeps the user; a sign-out or another user's sign-in must not show the
    // previous user's open questions (nor a read of them that answers late).
    let userId = this.auth.current?.user.id ?? null;
    this.auth.onChange((auth) => {
      const next = auth?.user.id ?? null;
      if (next === userId) return;
      userId = next;
      this.inbox.reset();
    });
  }

  get connection(): ConnectionInfo {
    return this.info;
  }

  onConnection(fn: (c: ConnectionInfo) => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  /**
   * Each change to the user's session list (created, renamed as `updated`, closed), from any tab,
   * client or node, while connected. Not persisted: changes made while disconnected are not sent,
   * so a list also reads `api.listSessions()` again each time the connection comes back.
   */
  onSessions(fn: (change: SessionsChange) => void): () => void {
    this.sessionsListeners.add(fn);
    return () => this.sessionsListeners.delete(fn);
  }

  /** Opens the connection (needs a signed-in user); it stays up until disconnect(). */
  connect(): void {
    if (this.running) return;
    this.running = true;
    this.generation++;
    this.setInfo({ status: 'connecting', transport: null, failures: 0 });
    void this.attempt();
  }

  disconnect(): void {
    this.running = false;
    clearTimeout(this.timer);
    const s = this.socket;
    this.socket = null;
    this.requests = null;
    s?.disconnect();
    for (const room of this.rooms.values()) {
      room.detach();
      room.stopSse();
    }
    this.setInfo({ status: 'idle', transport: null, failures: 0 });
  }

  /** Joins a session: resolves once its history up to now is in `room.events`. */
  async join(sessionId: string, opts: { afterSeq?: number } = {}): Promise<SessionRoom> {
    const existing = this.rooms.get(sessionId);
    if (existing) return existing;
    const room = new SessionRoom(sessionId, this.api, {
      afterSeq: opts.afterSeq,
      gapDelayMs: this.opts.gapDelayMs,
      eventSource:
        this.opts.eventSource === undefined
          ? (defaultEventSource() ?? undefined)
          : (this.opts.eventSource ?? undefined),
      onError: this.opts.onError,
      // Over SSE no `inbox` event comes: the joined sessions' own events keep the badge live.
      onSseOpen: () => {
        this.setInfo({ ...this.info, status: 'connected', transport: 'sse' });
        if (this.inbox.followed) void this.inbox.refresh();
      },
      onSseEvent: (e) => {
        if (this.inbox.followed && changesInbox(e)) void this.inbox.refresh();
      },
    });
    this.rooms.set(sessionId, room);
    if (this.requests?.socket.connected) {
      try {
        await room.attach(this.requests);
      } catch (err) {
        this.rooms.delete(sessionId);
        throw err;
      }
    } else {
      // Not connected yet: start from the log over REST; the socket or SSE takes over later.
      await room.resync();
      if (this.info.transport === 'sse' || this.info.failures >= this.opts.sseAfterFailures) {
        room.startSse();
      }
    }
    return room;
  }

  leave(sessionId: string): void {
    this.rooms.get(sessionId)?.leave();
    this.rooms.delete(sessionId);
  }

  private async attempt(): Promise<void> {
    if (!this.running) return;
    const generation = this.generation;
    let token: string;
    try {
      token = this.forceRefresh ? await this.auth.refresh() : await this.auth.accessToken();
      this.forceRefresh = false;
    } catch (err) {
      if (!this.running || generation !== this.generation) return;
      if (err instanceof ApiError && err.code === 'UNAUTHORIZED') {
        this.running = false;
        this.setInfo({ status: 'offline', transport: null, failures: this.info.failures });
        this.opts.onError?.(err);
        return;
      }
      this.retry();
      return;
    }
    if (!this.running || generation !== this.generation) return;
    const socket = (this.opts.socketFactory ?? socketIoFactory)(this.opts.baseUrl ?? '', token);
    const requests = new SocketRequests(socket);
    this.socket = socket;
    socket.on('session:event', (e) => this.rooms.get(e.sessionId)?.receive(e));
    socket.on('inbox', (e) => this.inbox.receive(e));
    socket.on('sessions', (change) => {
      for (const l of this.sessionsListeners) l(change);
    });
    socket.on('auth_expired', () => (this.forceRefresh = true));
    socket.on('connect', () => {
      if (this.socket !== socket) return;
      this.requests = requests;
      this.setInfo({ status: 'connected', transport: 'websocket', failures: 0 });
      // inbox events sent while disconnected are lost (not persisted): read the list again.
      if (this.inbox.followed) void this.inbox.refresh();
      for (const room of this.rooms.values()) {
        room.attach(requests).catch((err: unknown) => this.opts.onError?.(err));
      }
    });
    socket.on('connect_error', (err) => {
      if (this.socket !== socket) return;
      if (err.message === 'UNAUTHORIZED') this.forceRefresh = true;
      socket.disconnect();
      this.socket = null;
      this.retry();
    });
    socket.on('disconnect', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.requests = null;
      for (const room of this.rooms.values()) room.detach();
      this.retry();
    });
  }

  private retry(): void {
    if (!this.running) return;
    const failures = this.info.failures + 1;
    const sse = this.info.transport === 'sse';
    const status = failures >= this.opts.offlineAfterFailures && !sse ? 'offline' : 'reconnecting';
    this.setInfo({ status: sse ? 'connected' : status, transport: sse ? 'sse' : null, failures });
    if (failures >= this.opts.sseAfterFailures) {
      for (const room of this.rooms.values()) room.startSse();
    }
    const delay = backoffDelay(
      failures,
      this.opts.reconnectBaseMs,
      this.opts.reconnectMaxMs,
      this.opts.random,
    );
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.attempt(), delay);
  }

  private setInfo(next: ConnectionInfo): void {
    this.info = next;
    for (const l of this.statusListeners) l(next);
  }
}
