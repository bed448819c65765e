import { DomainError } from '../common/domain-error.js';
import {
  databaseUnavailableError,
  DATABASE_RETRY_AFTER_MS,
  isDatabaseUnavailable,
} from '../database/database-unavailable.js';

/** HISTORY_OUTAGE_WAIT_MS's default. */
export const DEFAULT_OUTAGE_WAIT_MS = 15_000;

/** Events that may wait in the log's queue while the database is unreachable. */
const MAX_QUEUED_EVENTS_IN_OUTAGE = 5000;
/** Runs of one session with a lost-output error on record (see recordLost). */
export const MAX_LOST_RUNS = 4;
/**
 * How long a fence record waits for its execution's next write. An execution stopped by other
 * means (a close on another node, an abandon) never writes again, so its record would stay.
 */
export const FENCED_RECORD_TTL_MS = 60_000;
const RETRY_BACKOFF_MS = [100, 200, 400, 800, 1000];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * What the event log does while the database is unreachable: the write in flight is retried
 * (the queue behind it waits, so order is kept) for at most `waitMs` from the start of the
 * outage, and the queue is bounded. A `generating` write that is finally given up is remembered
 * per session and run, and the run's next append (or delta) is rejected with it: the run stops
 * instead of streaming on past text the log lost.
 */
export class LogOutage {
  private since: number | undefined;
  private lastFailure = 0;
  private attempt = 0;
  /** Per session, per run (its id, or '' for events of no run): the error its next write gets. */
  private readonly lost = new Map<string, Map<string, DomainError>>();
  /** When each fence record (session, run) was made; lost-text records never expire. */
  private readonly fencedAt = new Map<string, { sessionId: string; runId: string; at: number }>();
  onRetry: (() => void) | undefined;
  /** The clock of the fence records (tests move it). */
  now: () => number = Date.now;

  constructor(private readonly waitMs: number) {}

  get active(): boolean {
    return this.since !== undefined;
  }

  /** After a failed write: waits and returns true when the write should be tried again. */
  async retryAfter(err: unknown): Promise<boolean> {
    if (!isDatabaseUnavailable(err)) return false;
    const now = Date.now();
    // A failure long after the last one starts a new outage (writes may just have paused).
    if (now - this.lastFailure > this.waitMs) this.succeeded();
    this.lastFailure = now;
    this.since ??= now;
    if (now - this.since >= this.waitMs) return false;
    this.onRetry?.();
    const delay = RETRY_BACKOFF_MS[Math.min(this.attempt++, RETRY_BACKOFF_MS.length - 1)];
    await sleep(Math.min(delay, this.since + this.waitMs - now));
    return true;
  }

  succeeded(): void {
    this.since = undefined;
    this.attempt = 0;
  }

  /** The error an append queued during an outage is refused with once the queue is full. */
  refuseQueued(queued: number): DomainError | undefined {
    return this.active && queued >= MAX_QUEUED_EVENTS_IN_OUTAGE
      ? new DomainError(
          'UNAVAILABLE',
          'The event log cannot be written (database unreachable)',
          undefined,
          DATABASE_RETRY_AFTER_MS,
        )
      : undefined;
  }

  /** How a failed write is reported: UNAVAILABLE when the database was unreachable. */
  reason(err: unknown): unknown {
    return isDatabaseUnavailable(err) ? databaseUnavailableError() : err;
  }

  recordLostDelta(sessionId: string, runId: string | undefined): void {
    this.recordLost(
      sessionId,
      runId,
      new DomainError(
        'UNAVAILABLE',
        'Streamed output could not be stored (database unreachable); the run stops',
        undefined,
        DATABASE_RETRY_AFTER_MS,
      ),
    );
  }

  /**
   * The run's next append (or delta) is rejected with `err`: it must stop. Kept per run, so one
   * run's entry (a stale run's fenced text) never replaces another's (the current run's lost
   * text, which it must be told of). A session keeps at most MAX_LOST_RUNS entries: the oldest
   * goes first, being a run that has not written since (an abandoned stale execution, most
   * likely), so they do not pile up until release().
   */
  recordLost(
    sessionId: string,
    runId: string | undefined,
    err: DomainError,
    kind: { fenced?: boolean } = {},
  ): void {
    if (kind.fenced) this.expireFenced();
    const key = `${sessionId} ${runId ?? ''}`;
    // Deleted first, so the map's order stays the order of the records' times.
    this.fencedAt.delete(key);
    if (kind.fenced) this.fencedAt.set(key, { sessionId, runId: runId ?? '', at: this.now() });
    let runs = this.lost.get(sessionId);
    if (!runs) {
      runs = new Map();
      this.lost.set(sessionId, runs);
    }
    runs.delete(runId ?? '');
    runs.set(runId ?? '', err);
    for (const oldest of runs.keys()) {
      if (runs.size <= MAX_LOST_RUNS) break;
      runs.delete(oldest);
      this.fencedAt.delete(`${sessionId} ${oldest}`);
    }
  }

  /** The lost-output error recorded for this run, if any, left in place. */
  peekLost(sessionId: string, runId: string | undefined): DomainError | undefined {
    return this.lost.get(sessionId)?.get(runId ?? '');
  }

  /** The lost-output error for this run, once (then the run may write its closing events). */
  takeLost(sessionId: string, runId: string | undefined): DomainError | undefined {
    const runs = this.lost.get(sessionId);
    const err = runs?.get(runId ?? '');
    if (!runs || !err) return undefined;
    this.drop(sessionId, runId ?? '');
    return err;
  }

  forget(sessionId: string): void {
    for (const run of this.lost.get(sessionId)?.keys() ?? [])
      this.fencedAt.delete(`${sessionId} ${run}`);
    this.lost.delete(sessionId);
  }

  /** Sessions with anything on record (for tests and leak checks). */
  sessionsOnRecord(): string[] {
    return [...this.lost.keys()];
  }

  private drop(sessionId: string, runId: string): void {
    const runs = this.lost.get(sessionId);
    runs?.delete(runId);
    if (runs?.size === 0) this.lost.delete(sessionId);
    this.fencedAt.delete(`${sessionId} ${runId}`);
  }

  /** Drops fence records older than FENCED_RECORD_TTL_MS (oldest first: the map keeps order). */
  private expireFenced(): void {
    const cutoff = this.now() - FENCED_RECORD_TTL_MS;
    for (const [key, r] of this.fencedAt) {
      if (r.at > cutoff) break;
      this.fencedAt.delete(key);
      this.drop(r.sessionId, r.runId);
    }
  }
}
