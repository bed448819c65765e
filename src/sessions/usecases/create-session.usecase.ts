import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DomainError } from '../../common/domain-error.js';
import { FaultPoints } from '../../common/fault-points.js';
import { Database } from '../../database/database.js';
import { QuotaPolicy } from '../../quotas/quota-policy.service.js';
import { SessionNotifier } from '../session-notifier.js';
import { SessionsRepository, toSessionView } from '../sessions.repository.js';
import type { SessionView } from '../../contracts/session.js';

/**
 * session:create and POST /sessions. A user blocked for session creation is refused first, with
 * no lock taken (RATE_LIMITED). Then one transaction under the user's row lock: the count of
 * active sessions (QUOTA_EXCEEDED at MAX_SESSIONS_PER_USER; concurrent creates are serialized by
 * the lock, so they cannot all take the last slot), then the per-minute creation budget (drawn
 * only by a create that passed the count), then the insert. Once committed, the user's other tabs
 * hear of it (SessionNotifier).
 */
@Injectable()
export class CreateSessionUseCase {
  private readonly logger = new Logger(CreateSessionUseCase.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Database) private readonly db: Database,
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(QuotaPolicy) private readonly quotas: QuotaPolicy,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
    @Inject(SessionNotifier) private readonly notifier: SessionNotifier,
  ) {}

  async execute(userId: string, title: string | undefined): Promise<SessionView> {
    await this.quotas.assertMayCreateSession(userId);
    const limit = this.config.limits.maxSessionsPerUser;
    const row = await this.db.transaction(async () => {
      // Counted only up to the limit, so the count is no more than that: report the limit.
      const active = await this.sessions.lockAndCountActive(userId, limit);
      await this.faults.hit('session.counted');
      if (active >= limit) {
        throw new DomainError(
          'QUOTA_EXCEEDED',
          `At most ${limit} open sessions per user; close one (DELETE /sessions/:id) first`,
          { limit },
        );
      }
      await this.quotas.chargeSessionCreate(userId);
      return this.sessions.insert({ id: randomUUID(), userId, title: title ?? null });
    });
    this.logger.log({ userId, sessionId: row.id }, 'session created');
    const session = toSessionView(row);
    this.notifier.publish({ userId, action: 'created', session });
    return session;
  }
}
