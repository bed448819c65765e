import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/domain-error.js';
import { MetricsService } from '../observability/metrics.service.js';
import { RATE_LIMIT_STORAGE, type RateLimitStorage } from '../quotas/rate-limit.service.js';

const WINDOW_MS = 60_000;
/** Addresses remembered as blocked for handshakes; beyond it the expired ones are dropped. */
const MAX_BLOCKED_ADDRESSES = 10_000;

/**
 * Brute-force limits (AUTH_RATE_LIMIT_PER_MINUTE): register, login and refresh attempts per
 * client address and per email, successful or not, checked before any password is hashed; and
 * failed socket handshakes per address. Counted in the rate limiter's storage, so with Redis
 * every node shares the budget.
 */
@Injectable()
export class AuthThrottleService {
  private readonly logger = new Logger(AuthThrottleService.name);
  /** Where a handshake block is known, so blocked addresses are refused before any check. */
  private readonly handshakeBlockedUntil = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RATE_LIMIT_STORAGE) private readonly storage: RateLimitStorage,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  /** One auth attempt; throws RATE_LIMITED when the address or the email is over its budget. */
  async consumeAttempt(address: string, email: string | undefined): Promise<void> {
    const keys = [`ip:${address}`];
    if (email) keys.push(`email:${email}`);
    for (const key of keys) {
      const retryAfterMs = await this.hit('auth', key);
      if (retryAfterMs !== undefined) {
        this.metrics.authRateLimited.inc({ kind: key.startsWith('ip:') ? 'address' : 'email' });
        this.logger.warn({ address, by: key.split(':')[0] }, 'auth attempts rate limited');
        throw this.limited(retryAfterMs, 'Too many sign-in attempts');
      }
    }
  }

  /** Milliseconds until `address` may try a handshake again; undefined when it may now. */
  handshakeRetryAfterMs(address: string): number | undefined {
    const until = this.handshakeBlockedUntil.get(address);
    if (until === undefined) return undefined;
    const left = until - Date.now();
    if (left > 0) return left;
    this.handshakeBlockedUntil.delete(address);
    return undefined;
  }

  /** Counts a failed handshake; returns the wait when the address is now over its budget. */
  async recordHandshakeFailure(address: string): Promise<number | undefined> {
    const retryAfterMs = await this.hit('handshake', `ip:${address}`);
    if (retryAfterMs === undefined) return undefined;
    this.metrics.authRateLimited.inc({ kind: 'handshake' });
    if (this.handshakeBlockedUntil.size >= MAX_BLOCKED_ADDRESSES) this.pruneBlocked();
    this.handshakeBlockedUntil.set(address, Date.now() + retryAfterMs);
    return retryAfterMs;
  }

  limited(retryAfterMs: number, what: string): DomainError {
    return new DomainError(
      'RATE_LIMITED',
      `${what}; try again in ${Math.ceil(retryAfterMs / 1000)} s`,
      undefined,
      retryAfterMs,
    );
  }

  private async hit(name: string, key: string): Promise<number | undefined> {
    const limit = this.config.limits.authPerMinute;
    const r = await this.storage.increment(key, WINDOW_MS, limit, WINDOW_MS, name);
    if (!r.isBlocked && r.totalHits <= limit) return undefined;
    return Math.max(1000, (r.timeToBlockExpire || r.timeToExpire) * 1000);
  }

  private pruneBlocked(): void {
    const now = Date.now();
    for (const [address, until] of this.handshakeBlockedUntil)
      if (until <= now) this.handshakeBlockedUntil.delete(address);
    if (this.handshakeBlockedUntil.size >= MAX_BLOCKED_ADDRESSES)
      this.handshakeBlockedUntil.clear();
  }
}
