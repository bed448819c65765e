import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Database } from '../database/database.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/domain-error.js';
import type { NewEvent, SessionEvent } from '../contracts/events.js';
import { isDatabaseUnavailable } from '../database/database-unavailable.js';
import { EventBus } from './event-bus.js';
import { DEFAULT_OUTAGE_WAIT_MS, LogOutage } from './log-outage.js';
import { type BatchAttempt, type BatchRow, HistoryRepository } from './history.repository.js';

interface PendingAppend {
  sessionId: string;
  events: NewEvent[];
  touch: boolean;
  resolve: (stored: SessionEvent[]) => void;
  reject: (err: unknown) => void;
}

interface DeltaBuffer {
  runId: string | undefined;
  intentId: string | undefined;
  text: string;
  timer: NodeJS.Timeout;
}

const MAX_BATCH_EVENTS = 1000;
export const MAX_REPLAY_LIMIT = 1000;

/**
 * The per-session event log: the only writer of chat_history and the only path by which events
 * reach clients. append() → queued → group commit (one transaction for everything queued, across
 * sessions) → committed → published on the EventBus in seq order → the promise resolves.
 *
 * Only one flush is in flight at a time: appends arriving meanwhile form the next batch. That is
 * what makes the group commit, and it keeps each session's events in call order.
 */
@Injectable()
export class HistoryService {
  private readonly logger = new Logger(HistoryService.name);
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private readonly deltas = new Map<string, DeltaBuffer>();
  private readonly coalesceMs: number;
  /** Database outages: retried writes, bounded queue, lost deltas reported to their run. */
  readonly outage: LogOutage;
  /** Flush sizes and durations, for metrics (the observability module reads them). */
  onFlush: ((events: number, ms: number) => void) | undefined;

  constructor(
    @Inject(HistoryRepository) private readonly repo: HistoryRepository,
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(APP_CONFIG) config: AppConfig,
    @Optional() @Inject(Database) db?: Database,
  ) {
    this.coalesceMs = config.agent.generatingCoalesceMs;
    // Tools and tests build the log with only the part of the config they need.
    this.outage = new LogOutage(
      (config as Partial<AppConfig>).history?.outageWaitMs ?? DEFAULT_OUTAGE_WAIT_MS,
    );
    // Whatever is queued is written before the database closes, whatever the shutdown order.
    db?.onBeforeClose(() => this.flushAll());
  }

  /**
   * Appends events to a session's log; resolves with them (seq, createdAt) once committed and
   * published. Rejects with NOT_FOUND if the session does not exist. A pending `generating`
   * buffer of the session is written first, so the log keeps the order of the calls.
   * `activity: false` is for what the expiry itself writes: those events must not make the
   * session look active again (which would expire it a second time).
   */
  append(
    sessionId: string,
    events: NewEvent[],
    opts: { activity?: boolean } = {},
  ): Promise<SessionEvent[]> {
    this.flushDelta(sessionId);
    if (events.length === 0) return Promise.resolve([]);
    const lost = this.outage.takeLost(sessionId, events[0].runId);
    if (lost) return Promise.reject(lost);
    return this.enqueue(sessionId, events, opts.activity ?? true);
  }

  /**
   * Adds streamed response text. Deltas are merged and written as one `generating` event at most
   * every GENERATING_COALESCE_MS; the next append() of the session writes what is buffered first.
   * Throws when earlier text of the same run could not be stored (see LogOutage).
   */
  appendDelta(sessionId: string, ids: { runId?: string; intentId?: string }, delta: string): void {
    const lost = this.outage.takeLost(sessionId, ids.runId);
    if (lost) throw lost;
    if (delta === '') return;
    const current = this.deltas.get(sessionId);
    if (current && current.runId === ids.runId) {
      current.text += delta;
      return;
    }
    if (current) this.flushDelta(sessionId);
    this.deltas.set(sessionId, {
      runId: ids.runId,
      intentId: ids.intentId,
      text: delta,
      timer: setTimeout(() => this.flushDelta(sessionId), this.coalesceMs),
    });
  }

  /** Frees what the log keeps in memory for a session (its delta buffer is written first). */
  release(sessionId: string): void {
    this.flushDelta(sessionId);
    this.outage.forget(sessionId);
  }

  /** Events after `afterSeq`, at most `limit` (callers bound it; see MAX_REPLAY_LIMIT). */
  listAfter(sessionId: string, afterSeq: number, limit: number): Promise<SessionEvent[]> {
    return this.repo.listAfter(sessionId, afterSeq, limit);
  }

  listBetween(sessionId: string, fromSeq: number, toSeq: number): Promise<SessionEvent[]> {
    return this.repo.listBetween(sessionId, fromSeq, toSeq);
  }

  get bufferedSessions(): number {
    return this.deltas.size;
  }

  /** Resolves when every append queued before the call is stored. */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) {
      if (this.flushing) await this.flushing;
      else this.startFlush();
    }
  }

  /** Writes every buffered delta and everything queued. */
  async flushAll(): Promise<void> {
    for (const sessionId of [...this.deltas.keys()]) this.flushDelta(sessionId);
    await this.drain();
  }

  private takeDelta(sessionId: string): NewEvent | undefined {
    const d = this.deltas.get(sessionId);
    if (!d) return undefined;
    clearTimeout(d.timer);
    this.deltas.delete(sessionId);
    return { type: 'generating', data: { delta: d.text }, runId: d.runId, intentId: d.intentId };
  }

  private flushDelta(sessionId: string): void {
    const delta = this.takeDelta(sessionId);
    if (delta)
      void this.enqueue(sessionId, [delta], true).catch((err) =>
        this.onDeltaFailure(sessionId, delta.runId, err),
      );
  }

  /** Lost streamed text must reach its run, which then stops (never a silent hole in the log). */
  private onDeltaFailure(sessionId: string, runId: string | undefined, err: unknown): void {
    this.logger.error({ err, sessionId, runId }, 'could not write a generating event');
    this.outage.recordLostDelta(sessionId, runId);
  }

  private enqueue(sessionId: string, events: NewEvent[], touch: boolean): Promise<SessionEvent[]> {
    const refused = this.outage.refuseQueued(this.queue.length);
    if (refused) return Promise.reject(refused);
    return new Promise<SessionEvent[]>((resolve, reject) => {
      this.queue.push({ sessionId, events, touch, resolve, reject });
      if (!this.flushing && !this.scheduled) {
        // Let appends made in the same tick (and the next few) join this batch.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          if (!this.flushing) this.startFlush();
        });
      }
    });
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
    this.flushing = this.write(batch).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.startFlush();
    });
  }

  private async write(batch: PendingAppend[]): Promise<void> {
    const started = performance.now();
    try {
      // While the database is unreachable the write is retried (see LogOutage); the loop is
      // inline so that a successful flush reports to onFlush in the same turn as before.
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
    this.onFlush?.(
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

  private async writeBatch(batch: PendingAppend[], attempt: BatchAttempt = {}): Promise<void> {
    const rows: BatchRow[] = [];
    for (const p of batch) {
      for (const event of p.events) {
        rows.push({ ord: rows.length, sessionId: p.sessionId, event, touch: p.touch });
      }
    }
    const stored =
      (await this.repo.committedBatch(attempt)) ?? (await this.repo.appendBatch(rows, attempt));
    let ord = 0;
    for (const p of batch) {
      const out: SessionEvent[] = [];
      const first = ord;
      ord += p.events.length;
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
      if (out.length < p.events.length) {
        p.reject(DomainError.notFound('Session'));
        continue;
      }
      for (const e of out) this.bus.publish(e);
      p.resolve(out);
    }
  }
}
