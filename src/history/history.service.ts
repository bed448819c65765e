import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Database } from '../database/database.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/domain-error.js';
import type { NewEvent, SessionEvent } from '../contracts/events.js';
import { EventBus } from './event-bus.js';
import { type BatchRow, HistoryRepository } from './history.repository.js';

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

/** One writer: its queue and its one flush in flight. A session always uses the same lane. */
interface Lane {
  queue: PendingAppend[];
  flushing: Promise<void> | undefined;
  scheduled: boolean;
}

const MAX_BATCH_EVENTS = 1000;
export const MAX_REPLAY_LIMIT = 1000;

/**
 * The per-session event log: the only writer of chat_history and the only path by which events
 * reach clients. append() → queued → group commit (one transaction for everything queued, across
 * sessions) → committed → published on the EventBus in seq order → the promise resolves.
 *
 * Writes go through writer lanes (HISTORY_WRITER_LANES; one on the embedded database, whose single
 * connection serializes anyway). A session always maps to the same lane, and a lane has one
 * flush in flight at a time: appends arriving meanwhile form its next batch. That is what makes
 * the group commit, and it keeps each session's events in call order; several lanes keep several
 * transactions in flight, so throughput is not capped at one commit latency. Lanes never share a
 * session, so their transactions never wait on each other's session row locks.
 */
@Injectable()
export class HistoryService {
  private readonly logger = new Logger(HistoryService.name);
  private readonly lanes: Lane[];
  private readonly deltas = new Map<string, DeltaBuffer>();
  private readonly coalesceMs: number;
  /** Flush sizes and durations, for metrics (the observability module reads them). */
  onFlush: ((events: number, ms: number) => void) | undefined;

  constructor(
    @Inject(HistoryRepository) private readonly repo: HistoryRepository,
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(APP_CONFIG) config: AppConfig,
    @Optional() @Inject(Database) db?: Database,
  ) {
    this.coalesceMs = config.agent.generatingCoalesceMs;
    this.lanes = Array.from({ length: Math.max(1, config.database?.writerLanes ?? 1) }, () => ({
      queue: [],
      flushing: undefined,
      scheduled: false,
    }));
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
    return this.enqueue(sessionId, events, opts.activity ?? true);
  }

  /**
   * Adds streamed response text. Deltas are merged and written as one `generating` event at most
   * every GENERATING_COALESCE_MS; the next append() of the session writes what is buffered first.
   */
  appendDelta(sessionId: string, ids: { runId?: string; intentId?: string }, delta: string): void {
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
    await Promise.all(
      this.lanes.map(async (lane) => {
        while (lane.flushing || lane.queue.length > 0) {
          if (lane.flushing) await lane.flushing;
          else this.startFlush(lane);
        }
      }),
    );
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
        this.logDeltaFailure(sessionId, err),
      );
  }

  private logDeltaFailure(sessionId: string, err: unknown): void {
    this.logger.error({ err, sessionId }, 'could not write a generating event');
  }

  private enqueue(sessionId: string, events: NewEvent[], touch: boolean): Promise<SessionEvent[]> {
    const lane = this.laneOf(sessionId);
    return new Promise<SessionEvent[]>((resolve, reject) => {
      lane.queue.push({ sessionId, events, touch, resolve, reject });
      if (!lane.flushing && !lane.scheduled) {
        // Let appends made in the same tick (and the next few) join this batch.
        lane.scheduled = true;
        setImmediate(() => {
          lane.scheduled = false;
          if (!lane.flushing) this.startFlush(lane);
        });
      }
    });
  }

  private laneOf(sessionId: string): Lane {
    if (this.lanes.length === 1) return this.lanes[0];
    // Session ids are UUIDs: their last hex digits are as good as a hash.
    return this.lanes[parseInt(sessionId.slice(-6), 16) % this.lanes.length];
  }

  private startFlush(lane: Lane): void {
    const batch: PendingAppend[] = [];
    let count = 0;
    while (
      lane.queue.length > 0 &&
      (batch.length === 0 || count + lane.queue[0].events.length <= MAX_BATCH_EVENTS)
    ) {
      const next = lane.queue.shift()!;
      batch.push(next);
      count += next.events.length;
    }
    if (batch.length === 0) return;
    lane.flushing = this.write(batch).finally(() => {
      lane.flushing = undefined;
      if (lane.queue.length > 0) this.startFlush(lane);
    });
  }

  private async write(batch: PendingAppend[]): Promise<void> {
    const started = performance.now();
    try {
      await this.writeBatch(batch);
    } catch (err) {
      if (batch.length === 1) {
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

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    const rows: BatchRow[] = [];
    for (const p of batch) {
      for (const event of p.events) {
        rows.push({ ord: rows.length, sessionId: p.sessionId, event, touch: p.touch });
      }
    }
    const stored = await this.repo.appendBatch(rows);
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
