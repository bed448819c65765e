import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { MetricsService } from '../observability/metrics.service.js';
import { MemoryThrottlerStorage } from './memory-throttler.storage.js';
import type { RateLimitStorage } from './rate-limit.service.js';

type ThrottlerRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

const WARN_EVERY_MS = 30_000;

/**
 * The shared (Redis) storage, degrading to this node's memory when it fails or is not connected:
 * during a Redis outage each node limits on its own (a user spread over N nodes gets at most N
 * times the budget) instead of refusing every message with INTERNAL. Each fallback counts in
 * `hitl_rate_limit_fallback_total`; a warning is logged at most every 30 s.
 */
export class FallbackThrottlerStorage implements RateLimitStorage {
  private readonly logger = new Logger('RateLimitStorage');
  private readonly local = new MemoryThrottlerStorage();
  private lastWarning = 0;

  constructor(
    private readonly shared: RateLimitStorage,
    private readonly sharedReady: () => boolean,
    private readonly metrics: MetricsService,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerRecord> {
    if (this.sharedReady()) {
      try {
        return await this.shared.increment(key, ttl, limit, blockDuration, throttlerName);
      } catch (err) {
        this.warn(err);
      }
    } else {
      this.warn(new Error('shared rate-limit storage not connected'));
    }
    this.metrics.rateLimitFallbacks.inc();
    return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  /** The shared block, or this node's own while the shared storage is away (no hit counted). */
  async blockedFor(key: string, throttlerName: string): Promise<number> {
    if (this.sharedReady()) {
      try {
        return await this.shared.blockedFor(key, throttlerName);
      } catch (err) {
        this.warn(err);
      }
    }
    return this.local.blockedFor(key, throttlerName);
  }

  onApplicationShutdown(): void {
    this.local.close();
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    this.logger.warn(
      { err: (err as Error)?.message ?? String(err) },
      "shared rate limiter unavailable: limiting with this node's memory",
    );
  }
}
