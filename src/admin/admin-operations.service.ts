import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { UsageService, type UsageRow } from '../quotas/usage.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import type { SessionStatus, SessionView } from '../contracts/session.js';

/**
 * Admin views of sessions and token usage. Runs are AdminRunsService's, the node counts
 * AdminStatsService's.
 */
@Injectable()
export class AdminOperationsService {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(UsageService) private readonly usage: UsageService,
  ) {}

  listSessions(q: {
    userId?: string;
    status?: SessionStatus;
    limit?: number;
    cursor?: string;
  }): Promise<{ items: (SessionView & { userId: string })[]; nextCursor: string | null }> {
    return this.sessions.listAll({ ...q, limit: q.limit ?? 50 });
  }

  async usageReport(q: {
    userId?: string;
    from?: string;
    to?: string;
  }): Promise<{ items: UsageRow[] }> {
    if (q.from && q.to && q.from > q.to) {
      throw DomainError.validation('from must not be after to', [
        { field: 'from', problems: ['must not be after to'] },
      ]);
    }
    return { items: await this.usage.report(q) };
  }
}
