import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { PeriodicJob } from '../common/periodic-job.js';

interface ThrottlerStorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

interface Entry {
  hits: number[];
  blockedUntil: number;
}

/**
 * @nestjs/throttler's storage contract, kept in this process's memory: a sliding window of hit
 * times per key. Once a key exceeds its limit it is blocked for `blockDuration`. Keys with no live
 * hits are dropped by a sweep, so memory follows the active users, not all users ever seen.
 * (Implemented here because the package's own storage class is CommonJS that requires ESM-only
 * @nestjs/common, which the ESM test runner cannot load.)
 */
export class MemoryThrottlerStorage implements ThrottlerStorage {
  /** The time every decision reads; a test moves it on instead of sleeping out a window. */
  now: () => number = Date.now;
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: PeriodicJob;

  constructor(sweepMs = 60_000) {
    this.sweeper = new PeriodicJob({
      name: 'rate limit sweep',
      everyMs: sweepMs,
      run: () => this.sweep(),
      logger: new Logger(MemoryThrottlerStorage.name),
    });
    this.sweeper.start();
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const now = this.now();
    const id = `${throttlerName}:${key}`;
    const entry = this.entries.get(id) ?? { hits: [], blockedUntil: 0 };
    this.entries.set(id, entry);
    entry.hits = entry.hits.filter((t) => t > now - ttl);
    if (entry.blockedUntil > now) {
      return Promise.resolve(this.record(entry, now, ttl, true));
    }
    entry.hits.push(now);
    // Only limit + 1 hits matter for the decision; older ones can go.
    if (entry.hits.length > limit + 1) entry.hits.splice(0, entry.hits.length - limit - 1);
    const blocked = entry.hits.length > limit;
    if (blocked) entry.blockedUntil = now + blockDuration;
    return Promise.resolve(this.record(entry, now, ttl, blocked));
  }

  /** How long `key` stays blocked (ms, 0 when it is not), without counting a hit. */
  blockedFor(key: string, throttlerName: string): Promise<number> {
    const entry = this.entries.get(`${throttlerName}:${key}`);
    return Promise.resolve(Math.max(0, (entry?.blockedUntil ?? 0) - this.now()));
  }

  close(): void {
    void this.sweeper.stop();
  }

  /** Nest calls this on the provider instance when the app closes. */
  onApplicationShutdown(): void {
    this.close();
  }

  private record(entry: Entry, now: number, ttl: number, blocked: boolean): ThrottlerStorageRecord {
    const oldest = entry.hits[0] ?? now;
    return {
      totalHits: entry.hits.length,
      timeToExpire: Math.max(0, Math.ceil((oldest + ttl - now) / 1000)),
      isBlocked: blocked,
      timeToBlockExpire: blocked ? Math.max(0, Math.ceil((entry.blockedUntil - now) / 1000)) : 0,
    };
  }

  private sweep(now = this.now()): void {
    for (const [id, e] of this.entries) {
      if (e.blockedUntil <= now && e.hits.every((t) => t <= now - 60 * 60_000))
        this.entries.delete(id);
    }
  }
}
