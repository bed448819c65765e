import type { EventPage, SessionEvent } from '@hitl/contracts';

export interface SequencedLogOptions {
  /** The last seq already delivered (resume point). */
  afterSeq?: number;
  /** Receives every event exactly once, in seq order. */
  deliver: (event: SessionEvent) => void;
  /** Reads the log over REST: events with seq > afterSeq. */
  fetchAfter: (afterSeq: number) => Promise<EventPage>;
  /** How long a hole may stay open before it is filled over REST (reordering usually closes it). */
  gapDelayMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * Turns events from several sources (join replay, live events, SSE, REST pages) into one stream
 * with every seq exactly once and in order: seen seqs are dropped, early ones are held back, and a
 * hole that stays open is filled from the log over REST.
 */
export class SequencedLog {
  private last: number;
  private readonly held = new Map<number, SessionEvent>();
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  /** The REST read under way (gap fill or catch-up); reads run one after another. */
  private filling: Promise<void> | null = null;
  private catchingUp: Promise<void> | null = null;
  private disposed = false;

  constructor(private readonly opts: SequencedLogOptions) {
    this.last = opts.afterSeq ?? 0;
  }

  get lastSeq(): number {
    return this.last;
  }

  get heldCount(): number {
    return this.held.size;
  }

  accept(event: SessionEvent): void {
    if (event.seq <= this.last || this.held.has(event.seq)) return;
    this.held.set(event.seq, event);
    this.drain();
  }

  acceptAll(events: readonly SessionEvent[]): void {
    for (const e of events) this.accept(e);
  }

  /** Reads everything after the last delivered seq until the end of the log. */
  catchUp(): Promise<void> {
    // A gap fill under way stops once its hole is closed, not at the end of the log: read on after it.
    this.catchingUp ??= this.exclusive(() => this.readOn(() => true)).finally(
      () => (this.catchingUp = null),
    );
    return this.catchingUp;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }

  private drain(): void {
    for (let next = this.held.get(this.last + 1); next; next = this.held.get(this.last + 1)) {
      this.held.delete(next.seq);
      this.last = next.seq;
      this.opts.deliver(next);
    }
    if (this.held.size === 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    } else if (!this.gapTimer && !this.disposed) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        this.fillGap();
      }, this.opts.gapDelayMs ?? 300);
    }
  }

  private fillGap(): void {
    if (this.held.size === 0 || this.filling) return;
    this.exclusive(() => this.readOn(() => this.held.size > 0)).catch((err: unknown) =>
      this.opts.onError?.(err),
    );
  }

  /** Runs a read after the one under way; a hole still open afterwards arms the next gap fill. */
  private exclusive(read: () => Promise<void>): Promise<void> {
    const run = (this.filling ?? Promise.resolve())
      .catch(() => undefined)
      .then(read)
      .finally(() => {
        if (this.filling === run) this.filling = null;
        this.drain();
      });
    this.filling = run;
    return run;
  }

  private async readOn(more: () => boolean): Promise<void> {
    while (more()) {
      const page = await this.opts.fetchAfter(this.last);
      const before = this.last;
      this.acceptAll(page.items);
      if (!page.hasMore || this.last === before) return;
    }
  }
}
