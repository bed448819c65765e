import { Inject, Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/domain-error.js';
import { MetricsService } from '../observability/metrics.service.js';

const WINDOW_MS = 60_000;

/** The storage the limiter counts in: in memory by default, shared (Redis) with several nodes. */
export const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');
export type RateLimitStorage = ThrottlerStorage;

/**
 * Per-user budgets per minute, counted in @nestjs/throttler's storage under one key per user and
 * kind: RATE_LIMIT_MESSAGES_PER_MINUTE messages and RATE_LIMIT_SESSIONS_PER_MINUTE session
 * creations. Every tab, the socket API and the REST twin draw from the same budget. Each draw is
 * one atomic check-and-add in the storage, so concurrent draws never get more than the budget.
 */
@Injectable()
export class RateLimitService {
  constructor(
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RATE_LIMIT_STORAGE) private readonly storage: RateLimitStorage,
  ) {}

  consumeMessage(userId: string): Promise<void> {
    return this.consume('messages', userId, this.config.limits.messagesPerMinute);
  }

  consumeSessionCreate(userId: string): Promise<void> {
    return this.consume('sessions', userId, this.config.limits.sessionsPerMinute);
  }

  private async consume(kind: 'messages' | 'sessions', userId: string, limit: number) {
    const r = await this.storage.increment(`${kind}:${userId}`, WINDOW_MS, limit, WINDOW_MS, kind);
    if (r.isBlocked || r.totalHits > limit) {
      this.metrics.rateLimited.inc();
      const retryAfterMs = Math.max(1000, (r.timeToBlockExpire || r.timeToExpire) * 1000);
      const what = kind === 'messages' ? 'messages' : 'new sessions';
      // totalHits > limit with isBlocked false cannot happen with our storage; treat it the same.
      throw new DomainError(
        'RATE_LIMITED',
        `At most ${limit} ${what} a minute; try again in ${Math.ceil(retryAfterMs / 1000)} s`,
        undefined,
        retryAfterMs,
      );
    }
  }
}
