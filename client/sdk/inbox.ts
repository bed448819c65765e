import type { InboxEvent, PendingInteraction as InboxItem } from '@hitl/contracts';
import { backoffDelay } from './chat-socket.js';
import type { RestApi } from './rest-api.js';

/** Most pages of `GET /interactions` one read follows (100 each): an inbox is a short list. */
const MAX_PAGES = 10;

/**
 * The user's open questions across all their sessions (the header badge), kept current from the
 * `inbox` socket events. The list itself is always read from `GET /interactions?status=pending`:
 * `inbox` events of one interaction may arrive out of order across nodes, so an event only
 * triggers a fresh read (a `resolved` one also drops its item at once). Reads are coalesced, and a
 * read that started before a later event is not shown, so the list converges on the server's.
 * A failed read is retried with backoff while anyone follows the list, so the badge is not left
 * showing a count the server has moved past.
 */
export class Inbox {
  private list: readonly InboxItem[] = [];
  private readonly listeners = new Set<(items: readonly InboxItem[]) => void>();
  private readonly eventListeners = new Set<(e: InboxEvent) => void>();
  private stale = false;
  private reading: Promise<void> | null = null;
  /** Bumped by reset(): a read started before it belongs to the previous user and is dropped. */
  private generation = 0;
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly api: RestApi,
    private readonly onError?: (err: unknown) => void,
    private readonly retry: { retryBaseMs: number; retryMaxMs: number } = {
      retryBaseMs: 1_000,
      retryMaxMs: 30_000,
    },
  ) {}

  /** The open questions, oldest first, as last read (and trimmed by later `resolved` events). */
  get items(): readonly InboxItem[] {
    return this.list;
  }

  /** Whether anyone follows the list (only then does the client read it on each connect). */
  get followed(): boolean {
    return this.listeners.size > 0;
  }

  /** Follows the list: `fn` gets every new version; the first follower triggers a read. */
  onChange(fn: (items: readonly InboxItem[]) => void): () => void {
    this.listeners.add(fn);
    if (this.listeners.size === 1) void this.refresh();
    return () => {
      this.listeners.delete(fn);
      if (!this.followed) this.cancelRetry();
    };
  }

  /**
   * Forgets the list (the user signed out or changed): followers get the empty list, reads under
   * way are dropped when they answer, and a follower still there gets the new user's list read.
   */
  reset(): void {
    this.generation++;
    this.cancelRetry();
    this.stale = false;
    this.reading = null;
    this.set([]);
    if (this.followed) void this.refresh();
  }

  /** Every `inbox` event as it arrives (in whatever order the nodes sent them). */
  onEvent(fn: (e: InboxEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  /** One `inbox` event from the connection. */
  receive(e: InboxEvent): void {
    for (const l of this.eventListeners) l(e);
    if (e.status === 'resolved' && this.list.some((i) => i.interactionId === e.interactionId)) {
      this.set(this.list.filter((i) => i.interactionId !== e.interactionId));
    }
    if (this.followed) void this.refresh();
  }

  /** Reads the list again; resolves once a read that started after this call is shown. */
  refresh(): Promise<void> {
    this.stale = true;
    // A read now makes a pending retry moot (the backoff itself is kept until a read succeeds).
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (!this.reading) {
      // A read dropped by reset() may settle after the next one began: it must not clear that one.
      const reading: Promise<void> = this.readUntilCurrent().finally(() => {
        if (this.reading === reading) this.reading = null;
      });
      this.reading = reading;
    }
    return this.reading;
  }

  private async readUntilCurrent(): Promise<void> {
    const generation = this.generation;
    while (this.stale) {
      this.stale = false;
      let items: InboxItem[];
      try {
        items = await this.readAll();
      } catch (err) {
        if (generation !== this.generation) return;
        this.onError?.(err);
        this.scheduleRetry();
        return;
      }
      if (generation !== this.generation) return;
      this.failures = 0;
      // An event came during the read: what was read may be older than it, read again.
      if (!this.stale) this.set(items);
    }
  }

  /** Keeps the list stale and reads again later, while anyone still follows it. */
  private scheduleRetry(): void {
    if (!this.followed) return;
    this.failures++;
    const delay = backoffDelay(this.failures, this.retry.retryBaseMs, this.retry.retryMaxMs);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.followed) void this.refresh();
    }, delay);
  }

  private cancelRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.failures = 0;
  }

  private async readAll(): Promise<InboxItem[]> {
    const out: InboxItem[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < MAX_PAGES; i++) {
      const page = await this.api.pendingInteractions({ limit: 100, cursor });
      out.push(...page.items);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    return out;
  }

  private set(items: readonly InboxItem[]): void {
    this.list = items;
    for (const l of this.listeners) l(items);
  }
}
