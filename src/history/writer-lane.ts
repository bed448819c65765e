import type { NewEvent, SessionEvent } from '../contracts/events.js';

/** One append waiting for the group commit. */
export interface PendingAppend {
  sessionId: string;
  events: NewEvent[];
  touch: boolean;
  resolve: (stored: SessionEvent[]) => void;
  reject: (err: unknown) => void;
}

const MAX_BATCH_EVENTS = 1000;

/**
 * One writer lane of the event log: a queue and at most one group commit in flight. Appends
 * arriving while a flush is in flight form the next batch, which keeps each session's events in
 * call order (a session always maps to the same lane, see HistoryWriter).
 */
export class WriterLane {
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly detached: (work: () => void) => void,
    private readonly write: (batch: PendingAppend[]) => Promise<void>,
  ) {}

  /** Appends waiting for a flush (not counting the batch in flight). */
  get queued(): number {
    return this.queue.length;
  }

  /** Puts appends (back) in the queue and makes sure a flush will take them. */
  requeue(items: PendingAppend[]): void {
    if (items.length === 0) return;
    this.queue.push(...items);
    if (!this.flushing && !this.scheduled) {
      // Let appends made in the same tick (and the next few) join this batch.
      this.scheduled = true;
      this.detached(() =>
        setImmediate(() => {
          this.scheduled = false;
          if (!this.flushing) this.startFlush();
        }),
      );
    }
  }

  /** Removes and returns the session's queued appends that no flush has taken yet. */
  take(sessionId: string): PendingAppend[] {
    const taken = this.queue.filter((p) => p.sessionId === sessionId);
    if (taken.length) this.queue = this.queue.filter((p) => p.sessionId !== sessionId);
    return taken;
  }

  /** True while the session has appends queued or being written. */
  hasPending(sessionId: string): boolean {
    return this.inFlight.has(sessionId) || this.queue.some((p) => p.sessionId === sessionId);
  }

  /** Resolves once the session has nothing queued or being written in this lane. */
  async settle(sessionId: string): Promise<void> {
    while (this.hasPending(sessionId)) await this.next();
  }

  /** Resolves when every append queued before the call is stored. */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) await this.next();
  }

  /** Waits for the flush in flight, or starts one for what is queued. */
  private async next(): Promise<void> {
    if (this.flushing) await this.flushing;
    else this.detached(() => this.startFlush());
  }

  private startFlush(): void {
    const batch: PendingAppend[] = [];
    let count = 0;
    while (
      this.queue.length > 0 &&
      (batch.length === 0 || count + this.queue[0].events.length <= MAX_BATCH_EVENTS)
    ) {
      const next = this.queue.shift()!;
      batch.push(next);
      count += next.events.length;
    }
    if (batch.length === 0) return;
    for (const p of batch) this.inFlight.add(p.sessionId);
    this.flushing = this.write(batch).finally(() => {
      this.inFlight.clear();
      this.flushing = undefined;
      if (this.queue.length > 0) this.startFlush();
    });
  }
}
