import { type SessionEvent, SSE_EVENT_NAME } from '@hitl/contracts';
import type { RestApi } from './rest-api.js';

/** What the SDK needs of a browser EventSource (a factory is injectable for other runtimes). */
export interface EventSourceLike {
  addEventListener(type: string, fn: (e: { data: string }) => void): void;
  onopen: ((e: unknown) => void) | null;
  onerror: ((e: unknown) => void) | null;
  close(): void;
}
export type EventSourceFactory = (url: string) => EventSourceLike;

/** Follows one session over SSE (with a stream ticket) while the socket cannot connect. */
export class SseFollower {
  private es: EventSourceLike | null = null;
  private wanted = false;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly sessionId: string,
    private readonly api: RestApi,
    private readonly deps: {
      factory?: EventSourceFactory;
      /** Where to resume (the last seq the room delivered). */
      lastSeq: () => number;
      accept: (e: SessionEvent) => void;
      /** Runs before each open (the room reads its state over REST when it has none). */
      prepare: () => Promise<void>;
      /** True once nothing more can come (the session closed, the room left). */
      done: () => boolean;
      onOpen: () => void;
      onError?: (err: unknown) => void;
    },
  ) {}

  /** An EventSource is open (or opening): sends may go over REST. */
  get open(): boolean {
    return this.es !== null;
  }

  start(): void {
    if (this.wanted || this.deps.done() || !this.deps.factory) return;
    this.wanted = true;
    void this.connect();
  }

  stop(): void {
    this.wanted = false;
    clearTimeout(this.retry);
    this.es?.close();
    this.es = null;
  }

  private async connect(): Promise<void> {
    const factory = this.deps.factory;
    if (!this.wanted || !factory || this.deps.done()) return;
    try {
      await this.deps.prepare();
      const { ticket } = await this.api.streamTicket(this.sessionId);
      if (!this.wanted) return;
      const es = factory(this.api.streamUrl(this.sessionId, ticket, this.deps.lastSeq()));
      this.es = es;
      es.addEventListener(SSE_EVENT_NAME, (m) =>
        this.deps.accept(JSON.parse(m.data) as SessionEvent),
      );
      es.onopen = () => this.deps.onOpen();
      // A ticket is single use, so EventSource's own reconnect cannot work: open anew instead.
      es.onerror = () => {
        es.close();
        if (this.es === es) this.es = null;
        this.again();
      };
    } catch (err) {
      this.deps.onError?.(err);
      this.again();
    }
  }

  private again(): void {
    if (!this.wanted) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.connect(), 2000);
  }
}
