import type { SessionEvent } from '../contracts/events.js';

/** The part of the history a sequencer reads to fill gaps (HistoryService fits). */
export interface LogReader {
  listAfter(sessionId: string, afterSeq: number, limit: number): Promise<SessionEvent[]>;
  listBetween(sessionId: string, fromSeq: number, toSeq: number): Promise<SessionEvent[]>;
}

export interface SequencerOptions {
  sessionId: string;
  log: LogReader;
  /** Receives each event once, in seq order. */
  emit: (event: SessionEvent) => void;
  /** A gap read failed; the sequencer tries again later (with a longer wait). */
  onError: (err: unknown) => void;
  /** How long a gap may stay open before the missing events are read from the log. */
  gapWaitMs?: number;
  /** How many ahead-of-order events are held; further ones are dropped and read from the log. */
  maxHeld?: number;
  /** The last seq already delivered; without it, events are held until `begin`. */
  start?: number;
}

const GAP_WAIT_MS = 200;
const MAX_HELD_EVENTS = 500;
const MAX_RETRY_WAIT_MS = 5_000;

/**
 * Turns events that arrive in any order, more than once, or not at all (several nodes write one
 * session, and each node's events travel on their own connection) into one stream in seq order:
 * it emits `last + 1` as soon as it has it, holds what is ahead (bounded), and when a gap has not
 * closed within `gapWaitMs` reads the missing seqs from the log. Seqs at or below the position are
 * dropped, so an event relayed twice or also read from the log is delivered once.
 */
export class SeqSequencer {
  private last: number | undefined;
  private highest = 0;
  private readonly held = new Map<number, SessionEvent>();
  private timer: NodeJS.Timeout | undefined;
  /** Log reads in flight (catch-ups and gap reads): no gap read starts while one is. */
  private reading = 0;
  private closed = false;
  private failures = 0;
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncFailures = 0;
  private resyncing = false;
  private resyncAgain = false;
  private readonly gapWaitMs: number;
  private readonly maxHeld: number;

  constructor(private readonly o: SequencerOptions) {
    this.last = o.start;
    this.gapWaitMs = o.gapWaitMs ?? GAP_WAIT_MS;
    this.maxHeld = o.maxHeld ?? MAX_HELD_EVENTS;
  }

  /** The last seq emitted (or the start); undefined before `begin`. */
  get position(): number | undefined {
    return this.last;
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** Sets the starting position of a sequencer created without one. */
  begin(lastSeq: number): void {
    if (this.last !== undefined || this.closed) return;
    this.last = lastSeq;
    for (const seq of this.held.keys()) if (seq <= lastSeq) this.held.delete(seq);
    this.drain();
  }

  push(event: SessionEvent): void {
    if (this.closed || (this.last !== undefined && event.seq <= this.last)) return;
    this.highest = Math.max(this.highest, event.seq);
    if (this.last !== undefined && event.seq === this.last + 1) {
      this.deliver(event);
      this.drain();
      return;
    }
    if (this.held.size < this.maxHeld) this.held.set(event.seq, event);
    this.schedule();
  }

  /** Reads and emits everything the log holds after the position (pages of `pageSize`). */
  async catchUp(pageSize: number): Promise<void> {
    if (this.last === undefined) throw new Error('catchUp needs a start position');
    this.reading += 1;
    try {
      for (;;) {
        const page = await this.o.log.listAfter(this.o.sessionId, this.last, pageSize);
        for (const e of page) this.push(e);
        if (page.length < pageSize || this.closed) break;
      }
    } finally {
      this.reading -= 1;
      this.schedule();
    }
  }

  /**
   * Reads whatever the log holds after the position: for when events may have been lost on the
   * way without a later one showing the gap (a relay connection that dropped and came back). A
   * failed read is tried again, with a growing wait, until one succeeds or the sequencer closes.
   */
  resync(pageSize: number): void {
    if (this.last === undefined || this.closed) return;
    // One read at a time: a call during a read asks for one more after it (the read may have
    // started before what this call is about was committed).
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    this.resyncing = true;
    this.resyncAgain = false;
    this.catchUp(pageSize).then(
      () => {
        this.resyncFailures = 0;
        this.resyncing = false;
        if (this.resyncAgain) this.resync(pageSize);
      },
      (err: unknown) => {
        this.resyncing = false;
        this.o.onError(err);
        // Nothing else would read it: no later event may ever show what was missed.
        if (this.closed) return;
        const wait = Math.min(this.gapWaitMs * 2 ** this.resyncFailures, MAX_RETRY_WAIT_MS);
        this.resyncFailures = Math.min(this.resyncFailures + 1, 10);
        this.resyncTimer = setTimeout(() => this.resync(pageSize), wait);
        this.resyncTimer.unref();
      },
    );
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    this.held.clear();
  }

  private deliver(event: SessionEvent): void {
    this.last = event.seq;
    this.o.emit(event);
  }

  private drain(): void {
    for (;;) {
      if (this.closed || this.last === undefined) return;
      const next = this.held.get(this.last + 1);
      if (!next) break;
      this.held.delete(next.seq);
      this.deliver(next);
    }
    this.schedule();
  }

  private get gapOpen(): boolean {
    return this.last !== undefined && this.highest > this.last;
  }

  private schedule(): void {
    if (!this.gapOpen || this.closed) {
      clearTimeout(this.timer);
      this.timer = undefined;
      return;
    }
    if (this.timer || this.reading > 0) return;
    const wait = Math.min(this.gapWaitMs * 2 ** this.failures, MAX_RETRY_WAIT_MS);
    this.timer = setTimeout(() => void this.fill(), wait);
    this.timer.unref();
  }

  private async fill(): Promise<void> {
    this.timer = undefined;
    // A read that started after the timer was armed may close the gap; its end re-arms the timer.
    if (this.closed || this.last === undefined || !this.gapOpen || this.reading > 0) return;
    const from = this.last;
    const lowestHeld = this.held.size > 0 ? Math.min(...this.held.keys()) : this.highest + 1;
    const to = Math.min(lowestHeld, from + this.maxHeld + 1);
    this.reading += 1;
    try {
      const missing = await this.o.log.listBetween(this.o.sessionId, from, to);
      this.failures = 0;
      for (const e of missing) this.push(e);
      // The log is the truth: seqs it does not have will never come; do not wait on them forever.
      if (missing.length === 0 && this.last === from && !this.closed) this.skipTo(to - 1);
    } catch (err) {
      this.failures = Math.min(this.failures + 1, 10);
      this.o.onError(err);
    } finally {
      this.reading -= 1;
      this.schedule();
    }
  }

  private skipTo(seq: number): void {
    this.last = seq;
    this.drain();
  }
}
