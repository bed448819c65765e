import {
  type MessageAccepted,
  type QueuedIntentView,
  type SessionEvent,
  type SessionStateView,
  type SessionView,
} from '@hitl/contracts';
import { newClientMessageId, type SocketRequests } from './chat-socket.js';
import { ApiError } from './http.js';
import { type ChatState, initialChatState, reduceChat, withJoinState } from './reducer.js';
import type { InteractionResponse } from './responses.js';
import type { RestApi, SendOptions } from './rest-api.js';
import { SequencedLog } from './sequenced-log.js';
import { type EventSourceFactory, SseFollower } from './sse-follower.js';

export type { EventSourceFactory, EventSourceLike } from './sse-follower.js';

interface Outgoing {
  content: string;
  opts: SendOptions;
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
  private readonly sse: SseFollower;
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
      /** Each event that came over SSE (the client keeps its inbox current from them). */
      onSseEvent?: (e: SessionEvent) => void;
    } = {},
  ) {
    this.log = new SequencedLog({
      afterSeq: opts.afterSeq,
      gapDelayMs: opts.gapDelayMs,
      fetchAfter: (after) => this.api.events(sessionId, after, 1000),
      deliver: (e) => this.deliver(e),
      onError: opts.onError,
    });
    this.sse = new SseFollower(sessionId, api, {
      factory: opts.eventSource,
      lastSeq: () => this.log.lastSeq,
      accept: (e) => {
        this.log.accept(e);
        this.opts.onSseEvent?.(e);
      },
      prepare: async () => {
        if (!this.joinState) this.joinState = (await this.api.getSession(sessionId)).state;
      },
      done: () => this.left || this.state.closed,
      onOpen: () => {
        this.opts.onSseOpen?.();
        this.flushOutbox();
      },
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

  /**
   * Sends a message. `ifBusy` says what happens while the agent works (default `reject`:
   * SESSION_BUSY); with `enqueue` the ack may say `{runId: null, queued: true, position}`.
   * `parentIntentId` makes it follow that intent instead of the head.
   */
  send(content: string, opts: SendOptions = {}): Promise<MessageAccepted> {
    const id = newClientMessageId();
    const clean: SendOptions = {};
    if (opts.ifBusy !== undefined) clean.ifBusy = opts.ifBusy;
    if (opts.parentIntentId !== undefined) clean.parentIntentId = opts.parentIntentId;
    return new Promise((resolve, reject) => {
      this.outbox.set(id, { content, opts: clean, inFlight: false, resolve, reject });
      this.flush(id);
    });
  }

  /**
   * Edits an earlier message: sends the new text after the edited message's parent, so it becomes
   * a new version beside it (the earlier branch stays and can be checked out again).
   */
  edit(
    intentId: string,
    content: string,
    opts: Pick<SendOptions, 'ifBusy'> = {},
  ): Promise<MessageAccepted> {
    const node = this.state.intents[intentId];
    if (!node) return Promise.reject(new ApiError('NOT_FOUND', 'No such message in this session'));
    return this.send(content, { ...opts, parentIntentId: node.parentIntentId });
  }

  /** The queued intents, next first. */
  get queue(): readonly QueuedIntentView[] {
    return this.state.queue;
  }

  get headIntentId(): string | null {
    return this.state.headIntentId;
  }

  /** Removes a queued message before it runs. */
  async cancelQueued(intentId: string): Promise<void> {
    if (!this.connected()) return this.api.cancelQueued(this.sessionId, intentId);
    await this.requests!.request('intent:cancel', { sessionId: this.sessionId, intentId });
  }

  /** A new answer to the head's message (the head by default); it replaces the earlier one. */
  async regenerate(intentId = this.state.headIntentId): Promise<{ runId: string }> {
    if (!intentId) throw new ApiError('CONFLICT', 'Nothing to regenerate yet');
    if (!this.connected()) return this.api.regenerate(this.sessionId, intentId);
    const ack = await this.requests!.request('intent:regenerate', {
      sessionId: this.sessionId,
      intentId,
    });
    return { runId: ack.runId };
  }

  /** Makes that intent the head: its branch is the conversation, new messages follow it. */
  async checkout(intentId: string): Promise<{ headIntentId: string }> {
    if (!this.connected()) return this.api.checkout(this.sessionId, intentId);
    const ack = await this.requests!.request('session:checkout', {
      sessionId: this.sessionId,
      intentId,
    });
    return { headIntentId: ack.headIntentId };
  }

  get unacknowledged(): number {
    return this.outbox.size;
  }

  /** Answers the open question; VALIDATION_FAILED (see ApiError.fieldErrors) leaves it open. */
  async respond(interactionId: string, response: InteractionResponse): Promise<void> {
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
    if (!this.left) this.sse.start();
  }

  stopSse(): void {
    this.sse.stop();
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
    if (!viaSocket && !this.sse.open) return;
    out.inFlight = true;
    const sent = viaSocket
      ? this.requests!.request('message:send', {
          sessionId: this.sessionId,
          content: out.content,
          clientMessageId,
          ...out.opts,
        })
      : this.api.sendMessage(this.sessionId, out.content, clientMessageId, out.opts);
    sent.then(
      (ack) => {
        this.outbox.delete(clientMessageId);
        const { intentId, runId, seq, queued, position } = ack;
        out.resolve(queued ? { intentId, runId, seq, queued, position } : { intentId, runId, seq });
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
