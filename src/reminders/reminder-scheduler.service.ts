import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { HistoryService } from '../history/history.service.js';
import { RemindersRepository } from './reminders.repository.js';
import type { ReminderRow } from './reminder.types.js';

const BATCH = 50;

/**
 * Fires due reminders, durably: the database is the schedule, so a reminder that fell due while
 * every node was down fires at the next start, and any number of nodes may poll at once (the
 * claim is a conditional UPDATE with SKIP LOCKED: each reminder fires exactly once). Firing is
 * the scheduled → fired transition plus a `reminder_due` event in the reminder's session.
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
   * Claims every due reminder (in batches) and writes `reminder_due` into its session.
   * The claim commits before the append: a crash between the two loses that one event (the
   * reminder shows `fired`). Once history.append can join the caller's transaction, the append
   * belongs inside the claim's transaction, so status and event commit together.
   */
  async claimAndAnnounceDue(): Promise<number> {
    let fired = 0;
    for (;;) {
      const claimed = await this.repo.claimDue(BATCH);
      for (const r of claimed) await this.announce(r);
      fired += claimed.length;
      if (claimed.length < BATCH || this.stopped) return fired;
    }
  }

  private async announce(r: ReminderRow): Promise<void> {
    const dueAt = new Date(r.due_at).toISOString();
    this.logger.log(
      { reminderId: r.id, userId: r.user_id, sessionId: r.session_id, dueAt },
      'reminder due',
    );
    if (!r.session_id) return;
    await this.history.append(
      r.session_id,
      [{ type: 'reminder_due', data: { reminderId: r.id, label: r.label, dueAt } }],
      { activity: false },
    );
  }
}
