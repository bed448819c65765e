import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuthService } from '../auth/auth.service.js';
import { DomainError } from '../common/domain-error.js';
import { RunControlService } from '../runs/run-control.service.js';
import { RunsRepository } from '../runs/runs.repository.js';
import { UsersService } from '../users/users.service.js';
import type { Role, User } from '../users/user.types.js';
import { toUserView } from '../users/user.view.js';
import type { AdminUserView } from '../contracts/rest-admin.js';

export type { AdminUserView };

const toAdminView = (u: User): AdminUserView => ({ ...toUserView(u), disabled: u.disabled });

@Injectable()
export class AdminUsersService {
  private readonly logger = new Logger(AdminUsersService.name);

  constructor(
    @Inject(UsersService) private readonly users: UsersService,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(RunsRepository) private readonly runs: RunsRepository,
    @Inject(RunControlService) private readonly runControl: RunControlService,
  ) {}

  async list(q: { limit?: number; cursor?: string; q?: string }): Promise<{
    items: AdminUserView[];
    nextCursor: string | null;
  }> {
    const page = await this.users.list({ limit: q.limit ?? 50, cursor: q.cursor, search: q.q });
    return { items: page.items.map(toAdminView), nextCursor: page.nextCursor };
  }

  async update(
    actorId: string,
    id: string,
    patch: { role?: Role; disabled?: boolean },
  ): Promise<AdminUserView> {
    if (id === actorId && (patch.disabled === true || patch.role === 'user')) {
      throw new DomainError('CONFLICT', 'Admins cannot disable or demote themselves');
    }
    const user = await this.users.update(id, patch);
    if (user.disabled) {
      await this.auth.revokeAllRefreshTokens(user.id);
      await this.cancelRunsOf(user.id);
    }
    this.logger.log({ userId: id, actorId, patch }, 'user updated by admin');
    return toAdminView(user);
  }

  /** A disabled user's runs stop too (task_cancelled, reason admin), wherever they execute. */
  private async cancelRunsOf(userId: string): Promise<void> {
    for (const sessionId of await this.runs.sessionsWithActiveRunOf(userId)) {
      await this.runControl.cancelActive(sessionId, 'admin');
    }
  }
}
