import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { FaultPoints } from '../common/fault-points.js';
import { Database } from '../database/database.js';
import { HistoryService } from '../history/history.service.js';
import { RemindersRepository } from './reminders.repository.js';
import type { ReminderRow } from './reminder.types.js';

const BATCH = 50;

/**
 * Fires due reminders, durably: the database is the schedule, so a reminder that fell due while
 * every node was down fires at the next start, and any number of nodes may poll at once (the
 * claim is a conditional UPDATE: each reminder fires exactly once). Firing is the scheduled →
 * fired transition plus a `reminder_due` event in the reminder's session, in one transaction.
 */
@Injectable()
export class ReminderSchedulerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReminderSchedulerService.name);
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RemindersRepository) private readonly repo: RemindersRepository,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(Database) private readonly db: Database,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {}

  onApplicationBootstrap(): void {
    this.poll();
    this.timer = setInterval(() => this.poll(), this.config.reminders.pollIntervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.tick;
  }

  /** One pass at a time: a slow pass is not overlapped by the next interval. */
  private poll(): void {
    if (this.tick || this.stopped) return;
    this.tick = this.claimAndAnnounceDue()
      .then(() => undefined)
      .catch((err: unknown) => this.logger.warn({ err }, 'reminder pass failed'))
      .finally(() => (this.tick = undefined));
  }

  /**
   * Fires every due reminder, each in its own transaction: the session row is locked first (the
   * order every lifecycle transaction takes its locks in, so none deadlocks with this), then the
   * reminder is claimed and `reminder_due` appended; both commit together or neither does. One
   * that fails (logged) stays scheduled and is tried again by the next pass.
   */
  async claimAndAnnounceDue(): Promise<number> {
    let fired = 0;
    for (;;) {
      const due = await this.repo.dueCandidates(BATCH);
      let failed = false;
      for (const candidate of due) {
        try {
          if (await this.fire(candidate)) fired++;
        } catch (err) {
          failed = true;
          this.logger.warn({ err, reminderId: candidate.id }, 'reminder could not fire');
        }
      }
      if (due.length < BATCH || failed || this.stopped) return fired;
    }
  }

  private fire(candidate: { id: string; session_id: string | null }): Promise<boolean> {
    const work = async (): Promise<boolean> => {
      const r = await this.repo.claim(candidate.id);
      if (!r) return false;
      await this.faults.hit('reminder.claimed');
      await this.announce(r);
      return true;
    };
    return candidate.session_id
      ? this.history.transaction(candidate.session_id, work)
      : this.db.transaction(work);
  }

  private async announce(r: ReminderRow): Promise<void> {
    const dueAt = new Date(r.due_at).toISOString();
    if (r.session_id) {
      await this.history.append(
        r.session_id,
        [{ type: 'reminder_due', data: { reminderId: r.id, label: r.label, dueAt } }],
        { activity: false },
      );
    }
    this.db.afterCommit(() =>
      this.logger.log(
        { reminderId: r.id, userId: r.user_id, sessionId: r.session_id, dueAt },
        'reminder due',
      ),
    );
  }
}
