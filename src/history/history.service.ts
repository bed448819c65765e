import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Database } from '../database/database.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/domain-error.js';
import type { NewEvent, SessionEvent } from '../contracts/events.js';
import { EventBus } from './event-bus.js';
import { HistoryRepository, type LockedSession, type RunFence } from './history.repository.js';
import {
  HistoryWriter,
  isRunEnded,
  type PendingAppend,
  rejectUnstored,
  storeAppends,
} from './history-writer.js';
import { DEFAULT_OUTAGE_WAIT_MS, LogOutage } from './log-outage.js';

interface DeltaBuffer {
  runId: string | undefined;
  intentId: string | undefined;
  text: string;
  timer: NodeJS.Timeout;
}

export const MAX_REPLAY_LIMIT = 1000;

/**
 * The per-session event log: the only writer of chat_history and the only path by which events
 * reach clients. Events are published on the EventBus in seq order, and only once committed.
 *
 * Outside a transaction, append() joins the group commit (HistoryWriter). Inside one (the
 * database's ambient transaction) it is an outbox: the rows are written in that transaction, the
 * promise resolves with their seqs before COMMIT, and they are published after COMMIT (never, if
 * it rolls back). So a state change and the events that report it commit together.
 */
@Injectable()
export class HistoryService {
  private readonly logger = new Logger(HistoryService.name);
  private readonly deltas = new Map<string, DeltaBuffer>();
  private readonly coalesceMs: number;
  private readonly writer: HistoryWriter;
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
    this.writer = new HistoryWriter(
      repo,
      (work) => repo.db.detached(work),
      (p, stored) => this.deliver(p, stored),
      (events, ms) => this.onFlush?.(events, ms),
      this.outage,
      config.database?.writerLanes ?? 1,
    );
    // Whatever is queued is written before the database closes, whatever the shutdown order.
    db?.onBeforeClose(() => this.flushAll());
  }

  /**
   * Appends events to a session's log; resolves with them (seq, createdAt) once stored. Rejects
   * with NOT_FOUND if the session does not exist. A pending `generating` buffer of the session
   * (and, inside a transaction, its queued appends) is written first, so the log keeps the order
   * of the calls. `activity: false` is for what the expiry itself writes: those events must not
   * make the session look active again (which would expire it a second time).
   */
  append(
    sessionId: string,
    events: NewEvent[],
    opts: { activity?: boolean } = {},
  ): Promise<SessionEvent[]> {
    const touch = opts.activity ?? true;
    if (this.repo.db.inTransaction) return this.appendInTransaction(sessionId, events, touch);
    this.flushDelta(sessionId, touch);
    if (events.length === 0) return Promise.resolve([]);
    const lost = this.outage.takeLost(sessionId, events[0].runId);
    if (lost) return Promise.reject(lost);
    return this.writer.enqueue(sessionId, events, touch);
  }

  /**
   * Writes what the session has buffered or queued and waits until it is stored. Call it before
   * opening a transaction that appends to the session: on PGlite the transaction holds the only
   * connection, so it could not wait for the group commit from inside.
   */
  async settle(sessionId: string): Promise<void> {
    this.flushDelta(sessionId, true);
    await this.writer.settle(sessionId);
  }

  /**
   * One transaction about one session, the way every state change that writes events runs: the
   * session's pending appends are stored first (outside, see settle), then the session row is
   * locked before anything else, so every such transaction takes its locks in the same order
   * (session row, then its runs, intents and interactions) and none can deadlock another.
   * `work` gets the locked row, or undefined if the session does not exist.
   *
   * With `ownerId` (a user's request that has not checked ownership yet), another user's session
   * is treated as missing and left untouched: neither settled (its buffered text would be written
   * early, and an outage error would show that it exists) nor locked. Ownership is read first
   * only when there is something to settle; otherwise the owner filter on the lock is enough.
   */
  async transaction<T>(
    sessionId: string,
    work: (session: LockedSession | undefined) => Promise<T>,
    ownerId?: string,
  ): Promise<T> {
    if (!this.repo.db.inTransaction && (await this.mustSettle(sessionId, ownerId)))
      await this.settle(sessionId);
    return this.repo.db.transaction(async () =>
      work(await this.repo.lockSession(sessionId, ownerId)),
    );
  }

  private async mustSettle(sessionId: string, ownerId: string | undefined): Promise<boolean> {
    if (!this.deltas.has(sessionId) && !this.writer.hasPending(sessionId)) return false;
    return ownerId === undefined || this.repo.isOwnedBy(sessionId, ownerId);
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
    if (current) this.flushDelta(sessionId, true);
    this.deltas.set(sessionId, {
      runId: ids.runId,
      intentId: ids.intentId,
      text: delta,
      timer: this.repo.db.detached(() =>
        setTimeout(() => this.flushDelta(sessionId, true), this.coalesceMs),
      ),
    });
  }

  /**
   * Frees what the log keeps in memory for a session. Its delta buffer is written without
   * counting as activity: what is released is quiet, and must not look active again.
   */
  release(sessionId: string): void {
    this.flushDelta(sessionId, false);
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
  drain(): Promise<void> {
    return this.writer.drain();
  }

  /** Writes every buffered delta and everything queued. */
  async flushAll(): Promise<void> {
    for (const sessionId of [...this.deltas.keys()]) this.flushDelta(sessionId, true);
    await this.writer.drain();
  }

  /**
   * The outbox path. The session's own queued appends and delta go first in the same
   * transaction (they were called earlier); the session row lock taken by the write orders this
   * transaction against every other writer of the session. Those earlier appends are a run's own
   * writes, fenced like the group commit's: a run ended by another writer (who took the session
   * lock to end it) has its closing event in the log already, and nothing of it may follow. The
   * caller's events are not fenced: they are written under the transaction's checked transition
   * (a run's closing events carry the id of the run they end).
   */
  private async appendInTransaction(
    sessionId: string,
    events: NewEvent[],
    touch: boolean,
  ): Promise<SessionEvent[]> {
    // Lost text stops whoever writes next about the run (its closing events follow once it has
    // been told). A fence record does not: it is for the stale execution's own writes, and a
    // transaction writing about an ended run is another writer (a close, an answer to its retry
    // offer) whose transitions are checked anyway.
    const lost = events.length ? this.outage.peekLost(sessionId, events[0].runId) : undefined;
    if (lost && !isRunEnded(lost)) {
      this.outage.takeLost(sessionId, events[0].runId);
      throw lost;
    }
    const db = this.repo.db;
    const earlier = this.writer.take(sessionId);
    const delta = this.takeDelta(sessionId);
    if (delta) earlier.push(this.orphan(sessionId, [delta], touch));
    if (events.length === 0 && earlier.length === 0) return [];
    const written: { results?: (SessionEvent[] | undefined)[] } = {};
    const fence: RunFence = { ended: new Set() };
    db.afterRollback(() => this.writer.requeue(earlier));
    db.afterCommit(() => {
      // Stored with the commit (or, if the caller swallowed a failed write, not at all).
      const results = written.results;
      if (!results) return this.writer.requeue(earlier);
      earlier.forEach((p, i) => {
        const out = results[i];
        if (out) this.deliver(p, out);
        else rejectUnstored(p, fence);
      });
      for (const e of results[results.length - 1] ?? []) this.bus.publish(e);
    });
    const own = { sessionId, events, touch, fenced: false };
    const results = await storeAppends(this.repo, [...earlier, own], undefined, fence);
    written.results = results;
    const stored = results[results.length - 1];
    if (!stored) throw DomainError.notFound('Session');
    return stored;
  }

  /**
   * An append nobody awaits (a flushed delta). Lost streamed text must reach its run, which then
   * stops (never a silent hole in the log): see LogOutage.
   */
  private orphan(sessionId: string, events: NewEvent[], touch: boolean): PendingAppend {
    return {
      sessionId,
      events,
      touch,
      resolve: () => undefined,
      reject: (err) => this.onDeltaFailure(sessionId, events[0]?.runId, err),
    };
  }

  private deliver(p: PendingAppend, stored: SessionEvent[]): void {
    for (const e of stored) this.bus.publish(e);
    p.resolve(stored);
  }

  private takeDelta(sessionId: string): NewEvent | undefined {
    const d = this.deltas.get(sessionId);
    if (!d) return undefined;
    clearTimeout(d.timer);
    this.deltas.delete(sessionId);
    return { type: 'generating', data: { delta: d.text }, runId: d.runId, intentId: d.intentId };
  }

  private flushDelta(sessionId: string, touch: boolean): void {
    const delta = this.takeDelta(sessionId);
    if (delta) this.writer.requeue([this.orphan(sessionId, [delta], touch)]);
  }

  private onDeltaFailure(sessionId: string, runId: string | undefined, err: unknown): void {
    if (isRunEnded(err)) {
      // Fenced, not lost: the run was ended by another writer; its next write tells it to stop.
      this.outage.recordLost(sessionId, runId, err as DomainError, { fenced: true });
      return;
    }
    this.logger.error({ err, sessionId, runId }, 'could not write a generating event');
    this.outage.recordLostDelta(sessionId, runId);
  }
}
