import {
  type MessageAccepted,
  type SessionEvent,
  type SessionStateView,
  type SessionView,
  SSE_EVENT_NAME,
} from '@hitl/contracts';
import { newClientMessageId, type SocketRequests } from './chat-socket.js';
import { ApiError } from './http.js';
import { type ChatState, initialChatState, reduceChat, withJoinState } from './reducer.js';
import type { RestApi } from './rest-api.js';
import { SequencedLog } from './sequenced-log.js';

/** What the SDK needs of a browser EventSource (a factory is injectable for other runtimes). */
export interface EventSourceLike {
  addEventListener(type: string, fn: (e: { data: string }) => void): void;
  onopen: ((e: unknown) => void) | null;
  onerror: ((e: unknown) => void) | null;
  close(): void;
}
export type EventSourceFactory = (url: string) => EventSourceLike;

interface Outgoing {
  content: string;
  inFlight: boolean;
  resolve: (ack: MessageAccepted) => void;
  reject: (err: unknown) => void;
}

/**
 * One joined session: its events in seq order exactly once (replay, live, gap fills), the UI state
 * reduced from them, and the user's actions. Sends carry a clientMessageId and stay in an outbox
 * until acknowledged, so a send whose ack was lost in a disconnect is sent again after the rejoin
 * (the server answers a repeat with the first ack and does nothing twice).
 */
export class SessionRoom {
  session: SessionView | null = null;
  joinState: SessionStateView | null = null;
  state: ChatState = initialChatState;
  readonly events: SessionEvent[] = [];
  private readonly log: SequencedLog;
  private readonly listeners = new Set<(e: SessionEvent) => void>();
  private readonly stateListeners = new Set<(s: ChatState) => void>();
  private readonly outbox = new Map<string, Outgoing>();
  /** Wakes the stream() loops waiting for an event, so that leave() ends them. */
  private readonly wakers = new Set<() => void>();
  private requests: SocketRequests | null = null;
  private sse: EventSourceLike | null = null;
  private sseWanted = false;
  private sseRetry: ReturnType<typeof setTimeout> | undefined;
  left = false;

  constructor(
    readonly sessionId: string,
    private readonly api: RestApi,
    private readonly opts: {
      afterSeq?: number;
      gapDelayMs?: number;
      eventSource?: EventSourceFactory;
      onError?: (err: unknown) => void;
      onSseOpen?: () => void;
    } = {},
  ) {
    this.log = new SequencedLog({
      afterSeq: opts.afterSeq,
      gapDelayMs: opts.gapDelayMs,
      fetchAfter: (after) => this.api.events(sessionId, after, 1000),
      deliver: (e) => this.deliver(e),
      onError: opts.onError,
    });
  }

  get lastSeq(): number {
    return this.log.lastSeq;
  }

  onEvent(fn: (e: SessionEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onState(fn: (s: ChatState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** Every later event, for `for await` loops; ends when the room is left. */
  async *stream(): AsyncGenerator<SessionEvent> {
    const queue: SessionEvent[] = [];
    let wake: (() => void) | null = null;
    const waker = (): void => wake?.();
    const off = this.onEvent((e) => {
      queue.push(e);
      wake?.();
    });
    this.wakers.add(waker);
    try {
      while (!this.left) {
        const next = queue.shift();
        if (next) yield next;
        else await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    } finally {
      off();
      this.wakers.delete(waker);
    }
  }

  /** Live events of this session from the connection (any order, repeats allowed). */
  receive(e: SessionEvent): void {
    this.log.accept(e);
  }

  /** (Re)joins over a fresh connection: replay after the last seen seq, then resend the outbox. */
  async attach(requests: SocketRequests): Promise<void> {
    this.requests = requests;
    this.stopSse();
    const ack = await requests.request('session:join', {
      sessionId: this.sessionId,
      afterSeq: this.log.lastSeq,
    });
    this.session = ack.session;
    this.joinState = ack.state;
    this.log.acceptAll(ack.events);
    if (ack.hasMore) await this.log.catchUp();
    this.setState(withJoinState(this.state, ack.state));
    this.flushOutbox();
  }

  detach(): void {
    this.requests = null;
  }

  send(content: string): Promise<MessageAccepted> {
    const id = newClientMessageId();
    return new Promise((resolve, reject) => {
      this.outbox.set(id, { content, inFlight: false, resolve, reject });
      this.flush(id);
    });
  }

  get unacknowledged(): number {
    return this.outbox.size;
  }

  async respond(interactionId: string, response: unknown): Promise<void> {
    const payload = { sessionId: this.sessionId, interactionId, response };
    if (this.connected()) await this.requests!.request('interaction:respond', payload);
    else await this.api.respond(this.sessionId, interactionId, response);
  }

  async cancel(): Promise<{ runId: string }> {
    if (!this.connected()) return this.api.cancel(this.sessionId);
    const ack = await this.requests!.request('run:cancel', { sessionId: this.sessionId });
    return { runId: ack.runId };
  }

  async resume(intentId: string): Promise<{ runId: string }> {
    if (!this.connected()) return this.api.resume(this.sessionId, intentId);
    const ack = await this.requests!.request('intent:resume', {
      sessionId: this.sessionId,
      intentId,
    });
    return { runId: ack.runId };
  }

  /** Reads the rest of the log over REST (a quiet resync, e.g. after the page was hidden). */
  resync(): Promise<void> {
    return this.log.catchUp();
  }

  leave(): void {
    this.left = true;
    this.stopSse();
    this.log.dispose();
    this.listeners.clear();
    this.stateListeners.clear();
    for (const wake of [...this.wakers]) wake();
    if (this.connected()) {
      this.requests!.request('session:leave', { sessionId: this.sessionId }).catch(() => undefined);
    }
  }

  /** Follows the session over SSE (stream ticket) while the socket cannot connect. */
  startSse(): void {
    if (this.sseWanted || this.left || !this.opts.eventSource) return;
    this.sseWanted = true;
    void this.openSse();
  }

  stopSse(): void {
    this.sseWanted = false;
    clearTimeout(this.sseRetry);
    this.sse?.close();
    this.sse = null;
  }

  private async openSse(): Promise<void> {
    const factory = this.opts.eventSource;
    if (!this.sseWanted || !factory || this.state.closed) return;
    try {
      if (!this.joinState) this.joinState = (await this.api.getSession(this.sessionId)).state;
      const { ticket } = await this.api.streamTicket(this.sessionId);
      if (!this.sseWanted) return;
      const es = factory(this.api.streamUrl(this.sessionId, ticket, this.log.lastSeq));
      this.sse = es;
      es.addEventListener(SSE_EVENT_NAME, (m) =>
        this.log.accept(JSON.parse(m.data) as SessionEvent),
      );
      es.onopen = () => {
        this.opts.onSseOpen?.();
        this.flushOutbox();
      };
      // A ticket is single use, so EventSource's own reconnect cannot work: open anew instead.
      es.onerror = () => {
        es.close();
        if (this.sse === es) this.sse = null;
        this.retrySse();
      };
    } catch (err) {
      this.opts.onError?.(err);
      this.retrySse();
    }
  }

  private retrySse(): void {
    if (!this.sseWanted) return;
    clearTimeout(this.sseRetry);
    this.sseRetry = setTimeout(() => void this.openSse(), 2000);
  }

  private connected(): boolean {
    return this.requests?.socket.connected === true;
  }

  private flushOutbox(): void {
    for (const id of this.outbox.keys()) this.flush(id);
  }

  private flush(clientMessageId: string): void {
    const out = this.outbox.get(clientMessageId);
    if (!out || out.inFlight) return;
    const viaSocket = this.connected();
    if (!viaSocket && !this.sse) return;
    out.inFlight = true;
    const sent = viaSocket
      ? this.requests!.request('message:send', {
          sessionId: this.sessionId,
          content: out.content,
          clientMessageId,
        })
      : this.api.sendMessage(this.sessionId, out.content, clientMessageId);
    sent.then(
      (ack) => {
        this.outbox.delete(clientMessageId);
        out.resolve({ intentId: ack.intentId, runId: ack.runId, seq: ack.seq });
      },
      (err: unknown) => {
        out.inFlight = false;
        if (err instanceof ApiError && err.code === 'NETWORK') return; // sent again on reconnect
        this.outbox.delete(clientMessageId);
        out.reject(err);
      },
    );
  }

  private deliver(e: SessionEvent): void {
    this.events.push(e);
    for (const l of this.listeners) l(e);
    this.setState(reduceChat(this.state, e));
  }

  private setState(next: ChatState): void {
    if (next === this.state) return;
    this.state = next;
    for (const l of this.stateListeners) l(next);
  }
}
