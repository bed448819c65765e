import { Inject, Injectable } from '@nestjs/common';
import { QuotaGuard } from './quota-guard.service.js';
import { RateLimitService } from './rate-limit.service.js';
import { type CountsTokens, UsageMeter } from './usage-meter.js';
import { UsageService } from './usage.service.js';

/**
 * The one front for a user's limits: messages and session creations per minute (RATE_LIMITED),
 * daily tokens and concurrent runs (QUOTA_EXCEEDED), and the usage they are measured on. Callers name the moment
 * (before the lock, before a run is inserted, once a message is written), not the services.
 */
@Injectable()
export class QuotaPolicy {
  constructor(
    @Inject(RateLimitService) private readonly rateLimit: RateLimitService,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(QuotaGuard) private readonly guard: QuotaGuard,
  ) {}

  /** Before any lock or write: RATE_LIMITED while the user is blocked for messages (counts nothing). */
  assertMayMessage(userId: string): Promise<void> {
    return this.rateLimit.assertNotBlockedForMessages(userId);
  }

  /**
   * Inside the transaction that inserts a new intent's run: QUOTA_EXCEEDED when today's tokens are
   * used up (checked first) or the user already has MAX_CONCURRENT_RUNS_PER_USER runs going.
   */
  async admitRun(userId: string): Promise<void> {
    await this.usage.assertWithinQuota(userId);
    await this.guard.assertCanStartRun(userId);
  }

  /** The user's limits lock, first, in a transaction that ends a run before it admits one. */
  holdLimits(userId: string): Promise<void> {
    return this.guard.holdLimits(userId);
  }

  /** Inside the transaction that inserts another attempt's run: the concurrent-runs cap alone. */
  assertRunSlot(userId: string): Promise<void> {
    return this.guard.assertCanStartRun(userId);
  }

  /** QUOTA_EXCEEDED once today's tokens reached DAILY_TOKEN_QUOTA (before a retry, a resume, a model call). */
  assertTokensLeft(userId: string): Promise<void> {
    return this.guard.assertBeforeModelCall(userId);
  }

  /**
   * Last in a message's transaction, once every check passed and every write succeeded: the
   * message is counted, then drawn from the per-minute budget (RATE_LIMITED past it, which rolls
   * the send back). A send refused for any other reason leaves the budget alone; the storage's
   * check-and-add is atomic, so concurrent sends still get at most the budget between them.
   */
  async chargeMessage(userId: string): Promise<void> {
    await this.usage.record(userId, { messages: 1 });
    await this.rateLimit.consumeMessage(userId);
  }

  /** Before a session create's transaction: RATE_LIMITED while blocked for creations. */
  assertMayCreateSession(userId: string): Promise<void> {
    return this.rateLimit.assertNotBlockedForSessions(userId);
  }

  /** Last in a create's transaction, once the open-sessions cap passed: drawn from the budget. */
  chargeSessionCreate(userId: string): Promise<void> {
    return this.rateLimit.consumeSessionCreate(userId);
  }

  /** A run's token meter: what it uses is recorded as it goes, so the daily quota sees it at once. */
  meter(userId: string, counter: CountsTokens): UsageMeter {
    return new UsageMeter(this.usage, userId, counter);
  }
}
