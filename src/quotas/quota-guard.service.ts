import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/domain-error.js';
import { ACTIVE_RUN_STATUSES } from '../contracts/session.js';
import { Database } from '../database/database.js';
import { lockUserForLimits } from '../users/user-limits-lock.js';
import { UsageService } from './usage.service.js';

/** The per-user limits checked before work starts: daily tokens, concurrent runs. */
@Injectable()
export class QuotaGuard {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(Database) private readonly db: Database,
  ) {}

  /** Before every model call: QUOTA_EXCEEDED once today's tokens reached DAILY_TOKEN_QUOTA. */
  assertBeforeModelCall(userId: string): Promise<void> {
    return this.usage.assertWithinQuota(userId);
  }

  /**
   * Inside the (ambient) transaction that inserts a run: QUOTA_EXCEEDED when the user already has
   * MAX_CONCURRENT_RUNS_PER_USER runs going, in any session. The user's row is locked first
   * (lockUserForLimits), so two starts racing for the last slot are serialized (the second counts
   * the first's run) on every node; the lock is held until the run row commits.
   */
  /**
   * Takes the user's limits lock now, for a transaction that will touch the usage ledger before
   * it admits a run (an interrupting send ends a run first): locks go user row, then ledger.
   */
  holdLimits(userId: string): Promise<void> {
    return lockUserForLimits(this.db, userId);
  }

  async assertCanStartRun(userId: string): Promise<void> {
    if (!this.db.inTransaction)
      throw new Error('assertCanStartRun needs the run-inserting transaction');
    const max = this.config.limits.maxConcurrentRunsPerUser;
    await lockUserForLimits(this.db, userId);
    const rows = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM runs WHERE user_id = $1 AND status = ANY($2::text[])`,
      [userId, ACTIVE_RUN_STATUSES],
    );
    const active = Number(rows[0]?.n ?? 0);
    if (active >= max) {
      throw new DomainError(
        'QUOTA_EXCEEDED',
        `At most ${max} runs may go at once per user; wait for one to finish or cancel it`,
        { active, max },
      );
    }
  }
}
