import { DomainError } from '../common/domain-error.js';
import type { NewEvent, SessionEvent } from '../contracts/events.js';
import { isDatabaseUnavailable } from '../database/database-unavailable.js';
import type { BatchAttempt, BatchRow, HistoryRepository } from './history.repository.js';
import type { LogOutage } from './log-outage.js';

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
 * Writes appends as group commits: one transaction for everything queued (across sessions), then
 * `deliver` each append's stored events. Only one flush is in flight at a time: appends arriving
 * meanwhile form the next batch, which keeps each session's events in call order.
 *
 * While the database is unreachable the batch in flight is retried and the queue waits behind it
 * (see LogOutage), so order is kept; an outage outlasting HISTORY_OUTAGE_WAIT_MS fails the batch
 * and whatever is queued for its sessions.
 *
 * The writer must never join a caller's transaction, so it is always started `detached`.
 */
export class HistoryWriter {
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly repo: HistoryRepository,
    private readonly detached: (work: () => void) => void,
    private readonly deliver: (p: PendingAppend, stored: SessionEvent[]) => void,
    private readonly onFlush: (events: number, ms: number) => void,
    private readonly outage: LogOutage,
  ) {}

  enqueue(sessionId: string, events: NewEvent[], touch: boolean): Promise<SessionEvent[]> {
    const refused = this.outage.refuseQueued(this.queue.length);
    if (refused) return Promise.reject(refused);
    return new Promise<SessionEvent[]>((resolve, reject) => {
      this.requeue([{ sessionId, events, touch, resolve, reject }]);
    });
  }

  /** Puts appends (back) in the queue and makes sure a flush will take them. */
  requeue(items: PendingAppend[]): void {
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

  /** Resolves when every append queued before the call is stored. */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) {
      if (this.flushing) await this.flushing;
      else this.detached(() => this.startFlush());
    }
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

  private async write(batch: PendingAppend[]): Promise<void> {
    const started = performance.now();
    try {
      // A write whose COMMIT reply was lost may have been stored: `attempt` lets the retry find
      // out instead of storing the events a second time under new seqs.
      const attempt: BatchAttempt = {};
      for (;;) {
        try {
          await this.writeBatch(batch, attempt);
          this.outage.succeeded();
          break;
        } catch (err) {
          if (!(await this.outage.retryAfter(err))) throw err;
        }
      }
    } catch (err) {
      // Decided by this error, not by an outage still on record: after an outage given up, a
      // statement the database refuses must again fail only its own append.
      if (isDatabaseUnavailable(err)) {
        this.abandon(batch, this.outage.reason(err));
      } else if (batch.length === 1) {
        batch[0].reject(err);
      } else {
        // One poisoned append must not fail the others: retry them one by one.
        for (const p of batch) {
          await this.writeBatch([p]).catch((e: unknown) => p.reject(e));
        }
      }
    }
    this.onFlush(
      batch.reduce((n, p) => n + p.events.length, 0),
      performance.now() - started,
    );
  }

  /**
   * Gives up a batch the database never took, and with it whatever is queued for the same
   * sessions: a later event stored after a lost one would be a hole no client can see.
   */
  private abandon(batch: PendingAppend[], reason: unknown): void {
    const sessions = new Set(batch.map((p) => p.sessionId));
    const dropped = this.queue.filter((p) => sessions.has(p.sessionId));
    this.queue = this.queue.filter((p) => !sessions.has(p.sessionId));
    for (const p of [...batch, ...dropped]) p.reject(reason);
  }

  private async writeBatch(batch: PendingAppend[], attempt?: BatchAttempt): Promise<void> {
    const results = await storeAppends(this.repo, batch, attempt);
    batch.forEach((p, i) => {
      const out = results[i];
      if (out) this.deliver(p, out);
      else p.reject(DomainError.notFound('Session'));
    });
  }
}

/**
 * Stores appends (in the ambient transaction if there is one, else in a new one) and returns
 * each one's stored events, or undefined for an append whose session does not exist. With an
 * `attempt` of an earlier call whose transaction committed, what it stored is returned instead.
 */
export async function storeAppends(
  repo: HistoryRepository,
  appends: Pick<PendingAppend, 'sessionId' | 'events' | 'touch'>[],
  attempt?: BatchAttempt,
): Promise<(SessionEvent[] | undefined)[]> {
  const rows: BatchRow[] = [];
  for (const p of appends) {
    for (const event of p.events) {
      rows.push({ ord: rows.length, sessionId: p.sessionId, event, touch: p.touch });
    }
  }
  const stored =
    (attempt && (await repo.committedBatch(attempt))) ?? (await repo.appendBatch(rows, attempt));
  let ord = 0;
  return appends.map((p) => {
    const first = ord;
    ord += p.events.length;
    const out: SessionEvent[] = [];
    p.events.forEach((event, i) => {
      const s = stored.get(first + i);
      if (!s) return;
      out.push({
        sessionId: p.sessionId,
        seq: s.seq,
        type: event.type,
        ...(event.intentId ? { intentId: event.intentId } : {}),
        ...(event.runId ? { runId: event.runId } : {}),
        ...(event.connectionId ? { connectionId: event.connectionId } : {}),
        createdAt: s.createdAt,
        data: event.data,
      } as SessionEvent);
    });
    return out.length < p.events.length ? undefined : out;
  });
}
