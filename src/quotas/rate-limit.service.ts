import { Inject, Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/domain-error.js';
import { MetricsService } from '../observability/metrics.service.js';

const WINDOW_MS = 60_000;

/** The storage the limiter counts in: in memory by default, shared (Redis) with several nodes. */
export const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');
export interface RateLimitStorage extends ThrottlerStorage {
  /** How long `key` stays blocked (ms, 0 when it is not), without counting a hit. */
  blockedFor(key: string, throttlerName: string): Promise<number>;
}

type Kind = 'messages' | 'sessions';

/**
 * Per-user budgets per minute, counted in @nestjs/throttler's storage under one key per user and
 * kind: RATE_LIMIT_MESSAGES_PER_MINUTE messages and RATE_LIMIT_SESSIONS_PER_MINUTE session
 * creations. Every tab, the socket API and the REST twin draw from the same budget. Each draw is
 * one atomic check-and-add in the storage, so concurrent draws never get more than the budget.
 * The draw that goes over the budget blocks the user for the window (WINDOW_MS).
 *
 * Callers draw last, once the work is sure to succeed (a refused request leaves the budget), and
 * check `assertNotBlocked*` first, before any lock or write: a blocked user's flood is refused at
 * the cost of one storage read, not of a transaction rolled back.
 */
@Injectable()
export class RateLimitService {
  constructor(
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RATE_LIMIT_STORAGE) private readonly storage: RateLimitStorage,
  ) {}

  /** RATE_LIMITED while the user is blocked for messages; counts nothing. */
  assertNotBlockedForMessages(userId: string): Promise<void> {
    return this.assertNotBlocked('messages', userId, this.config.limits.messagesPerMinute);
  }

  /** RATE_LIMITED while the user is blocked for session creation; counts nothing. */
  assertNotBlockedForSessions(userId: string): Promise<void> {
    return this.assertNotBlocked('sessions', userId, this.config.limits.sessionsPerMinute);
  }

  consumeMessage(userId: string): Promise<void> {
    return this.consume('messages', userId, this.config.limits.messagesPerMinute);
  }

  consumeSessionCreate(userId: string): Promise<void> {
    return this.consume('sessions', userId, this.config.limits.sessionsPerMinute);
  }

  private async assertNotBlocked(kind: Kind, userId: string, limit: number): Promise<void> {
    const ms = await this.storage.blockedFor(`${kind}:${userId}`, kind);
    if (ms > 0) this.refuse(kind, limit, ms);
  }

  private async consume(kind: Kind, userId: string, limit: number): Promise<void> {
    const r = await this.storage.increment(`${kind}:${userId}`, WINDOW_MS, limit, WINDOW_MS, kind);
    // totalHits > limit with isBlocked false cannot happen with our storage; treat it the same.
    if (r.isBlocked || r.totalHits > limit)
      this.refuse(kind, limit, (r.timeToBlockExpire || r.timeToExpire) * 1000);
  }

  private refuse(kind: Kind, limit: number, ms: number): never {
    this.metrics.rateLimited.inc({ kind });
    const retryAfterMs = Math.max(1000, ms);
    const what = kind === 'messages' ? 'messages' : 'new sessions';
    throw new DomainError(
      'RATE_LIMITED',
      `At most ${limit} ${what} a minute; try again in ${Math.ceil(retryAfterMs / 1000)} s`,
      undefined,
      retryAfterMs,
    );
  }
}
