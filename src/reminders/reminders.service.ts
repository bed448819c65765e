import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { mapPage } from '../common/page.js';
import { isUuid } from '../common/uuid.js';
import { RemindersRepository } from './reminders.repository.js';
import { type ReminderStatus, type ReminderView, toReminderView } from './reminder.types.js';

const DEFAULT_LIMIT = 20;

/** The user's view of their reminders: list and cancel. Another user's reminder is NOT_FOUND. */
@Injectable()
export class RemindersService {
  constructor(@Inject(RemindersRepository) private readonly repo: RemindersRepository) {}

  async list(
    userId: string,
    q: { status?: ReminderStatus; limit?: number; cursor?: string },
  ): Promise<{ items: ReminderView[]; nextCursor: string | null }> {
    const page = await this.repo.list(userId, {
      status: q.status,
      limit: q.limit ?? DEFAULT_LIMIT,
      cursor: q.cursor,
    });
    return mapPage(page, toReminderView);
  }

  /** Cancels a scheduled reminder; cancelling a cancelled one again is a no-op. */
  async cancel(userId: string, id: string): Promise<void> {
    const row = isUuid(id) ? await this.repo.findOwned(userId, id) : undefined;
    if (!row) throw DomainError.notFound('Reminder');
    if (await this.repo.cancel(userId, id)) return;
    const now = await this.repo.findOwned(userId, id);
    if (now?.status === 'fired')
      throw new DomainError('CONFLICT', 'This reminder has already fired');
  }
}
