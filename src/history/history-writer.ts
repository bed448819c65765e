import { DomainError } from '../common/domain-error.js';
import type { NewEvent, SessionEvent } from '../contracts/events.js';
import { isDatabaseUnavailable } from '../database/database-unavailable.js';
import type { BatchAttempt, BatchRow, HistoryRepository, RunFence } from './history.repository.js';
import type { LogOutage } from './log-outage.js';
import { type PendingAppend, WriterLane } from './writer-lane.js';

const RUN_ENDED_MESSAGE = 'The run has ended; nothing more of it is written';

/** What a run's own append gets once another writer ended the run: it must stop. */
export const runEnded = (): DomainError => new DomainError('CONFLICT', RUN_ENDED_MESSAGE);

export function isRunEnded(err: unknown): boolean {
  return err instanceof DomainError && err.message === RUN_ENDED_MESSAGE;
}

/** Rejects an append that was not stored: its run had ended (fenced), or its session is gone. */
export function rejectUnstored(p: PendingAppend, fence: RunFence): void {
  if (p.events.some((e) => e.runId && fence.ended.has(e.runId))) p.reject(runEnded());
  else p.reject(DomainError.notFound('Session'));
}

export type { PendingAppend } from './writer-lane.js';

/** The lane of a session: session ids are UUIDs, whose last hex digits are as good as a hash. */
export function laneIndex(sessionId: string, lanes: number): number {
  if (lanes <= 1) return 0;
  const n = parseInt(sessionId.slice(-6), 16);
  // Not a UUID: no such session either; any fixed lane reports that.
  return Number.isNaN(n) ? 0 : n % lanes;
}

/**
 * Writes appends as group commits: one transaction for everything a lane has queued (across its
 * sessions), then `deliver` each append's stored events.
 *
 * Several lanes (HISTORY_WRITER_LANES) keep several transactions in flight, so throughput is not
 * capped at one commit latency. A session always maps to the same lane, whose single flush in
 * flight keeps its events in call order; lanes never share a session, so their transactions never
 * wait on each other's session row locks, and waiting for one session (settle) waits for its lane
 * only.
 *
 * While the database is unreachable each lane's batch in flight is retried and the lane's queue
 * waits behind it (see LogOutage), so every session's order is kept; an outage outlasting
 * HISTORY_OUTAGE_WAIT_MS fails the batch and whatever is queued for its sessions.
 *
 * The writer must never join a caller's transaction, so it is always started `detached`.
 */
export class HistoryWriter {
  private readonly lanes: WriterLane[];

  constructor(
    private readonly repo: HistoryRepository,
    detached: (work: () => void) => void,
    private readonly deliver: (p: PendingAppend, stored: SessionEvent[]) => void,
    private readonly onFlush: (events: number, ms: number) => void,
    private readonly outage: LogOutage,
    lanes = 1,
  ) {
    this.lanes = Array.from(
      { length: Math.max(1, lanes) },
      () => new WriterLane(detached, (batch) => this.write(batch)),
    );
  }

  enqueue(sessionId: string, events: NewEvent[], touch: boolean): Promise<SessionEvent[]> {
    const queued = this.lanes.reduce((n, lane) => n + lane.queued, 0);
    const refused = this.outage.refuseQueued(queued);
    if (refused) return Promise.reject(refused);
    return new Promise<SessionEvent[]>((resolve, reject) => {
      this.laneOf(sessionId).requeue([{ sessionId, events, touch, resolve, reject }]);
    });
  }

  /** Puts appends (back) in their lanes' queues and makes sure a flush will take them. */
  requeue(items: PendingAppend[]): void {
    for (const p of items) this.laneOf(p.sessionId).requeue([p]);
  }

  /** Removes and returns the session's queued appends that no flush has taken yet. */
  take(sessionId: string): PendingAppend[] {
    return this.laneOf(sessionId).take(sessionId);
  }

  /** True while the session has appends queued or being written. */
  hasPending(sessionId: string): boolean {
    return this.laneOf(sessionId).hasPending(sessionId);
  }

  /** Resolves once the session's appends are stored; other lanes are not waited for. */
  settle(sessionId: string): Promise<void> {
    return this.laneOf(sessionId).settle(sessionId);
  }

  /** Resolves when every append queued before the call, in every lane, is stored. */
  async drain(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.drain()));
  }

  private laneOf(sessionId: string): WriterLane {
    return this.lanes[laneIndex(sessionId, this.lanes.length)];
  }

  private async write(batch: PendingAppend[]): Promise<void> {
    const started = performance.now();
    try {
      // A write whose COMMIT reply was lost may have been stored: `attempt` lets the retry find
      // out instead of storing the events a second time under new seqs. The fence is kept
      // across attempts: a run found ended stays ended, and a committed attempt's left-out rows
      // are told apart from a missing session.
      const attempt: BatchAttempt = {};
      const fence: RunFence = { ended: new Set() };
      for (;;) {
        try {
          await this.writeBatch(batch, attempt, fence);
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
    const dropped = [...sessions].flatMap((sessionId) => this.take(sessionId));
    for (const p of [...batch, ...dropped]) p.reject(reason);
  }

  private async writeBatch(
    batch: PendingAppend[],
    attempt?: BatchAttempt,
    fence: RunFence = { ended: new Set() },
  ): Promise<void> {
    const results = await storeAppends(this.repo, batch, attempt, fence);
    batch.forEach((p, i) => {
      const out = results[i];
      if (out) this.deliver(p, out);
      else rejectUnstored(p, fence);
    });
  }
}

/** The events that end a run: written by the transaction whose checked transition ended it. */
const CLOSING_EVENTS = new Set(['task_completed', 'task_failed', 'task_cancelled']);

/**
 * Stores appends (in the ambient transaction if there is one, else in a new one) and returns
 * each one's stored events, or undefined for an append whose session does not exist or, given a
 * `fence`, whose run has ended (then in fence.ended). Every append is fenced unless it says
 * `fenced: false` (a lifecycle transaction's own events), and an append stands or falls whole:
 * none is half stored (its stored part would never be delivered).
 *
 * A run whose closing event is among the batch's own unfenced rows is not fenced here: that
 * transaction is the one that ends it (idle expiry, close), and the run's earlier appends in the
 * batch were made before its end, so they are written before its closing event, where they
 * belong. Fenced, they would be lost, since the run is already ended within the transaction.
 */
export async function storeAppends(
  repo: HistoryRepository,
  appends: (Pick<PendingAppend, 'sessionId' | 'events' | 'touch'> & { fenced?: boolean })[],
  attempt?: BatchAttempt,
  fence?: RunFence,
): Promise<(SessionEvent[] | undefined)[]> {
  const endedHere = new Set(
    appends.flatMap((p) =>
      p.fenced === false
        ? p.events.flatMap((e) => (e.runId && CLOSING_EVENTS.has(e.type) ? [e.runId] : []))
        : [],
    ),
  );
  const rows: BatchRow[] = [];
  appends.forEach((p, group) => {
    for (const event of p.events) {
      const fenced =
        fence !== undefined &&
        p.fenced !== false &&
        !(event.runId !== undefined && endedHere.has(event.runId));
      rows.push({ ord: rows.length, group, sessionId: p.sessionId, event, touch: p.touch, fenced });
    }
  });
  const stored =
    (attempt && (await repo.committedBatch(attempt))) ??
    (await repo.appendBatch(rows, attempt, fence));
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
