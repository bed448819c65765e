import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { FaultPoints } from '../common/fault-points.js';
import { PeriodicJob } from '../common/periodic-job.js';
import { Database } from '../database/database.js';
import { HistoryService } from '../history/history.service.js';
import { RemindersRepository } from './reminders.repository.js';
import type { ReminderRow } from './reminder.types.js';

const BATCH = 50;

/**
 * Fires due reminders, durably: the database is the schedule, so a reminder that fell due while
 * every node was down fires at the next start, and any number of nodes may poll at once (the
 * claim is a conditional UPDATE: each reminder fires exactly once). Firing is the scheduled →
 * fired transition plus a `reminder_due` event in the reminder's session, in one transaction; a
 * reminder whose session is closed becomes cancelled instead (see fire).
 */
@Injectable()
export class ReminderSchedulerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReminderSchedulerService.name);
  /** One pass at a time: a slow pass is not overlapped by the next interval. */
  private readonly job: PeriodicJob<number>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(RemindersRepository) private readonly repo: RemindersRepository,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(Database) private readonly db: Database,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {
    this.job = new PeriodicJob({
      name: 'reminder pass',
      everyMs: config.reminders.pollIntervalMs,
      run: () => this.claimAndAnnounceDue(),
      logger: this.logger,
    });
  }

  onApplicationBootstrap(): void {
    this.job.start({ now: true });
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.job.stop();
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
      if (due.length < BATCH || failed || this.job.stopping) return fired;
    }
  }

  /**
   * Fires one candidate, or cancels it when its session is closed: nothing follows
   * `session_closed` in a log. The status is read from the row this transaction has locked, and
   * closing a session changes that row, so a close either committed before (the reminder is
   * cancelled) or waits for this transaction (reminder_due is written before session_closed).
   */
  private async fire(candidate: { id: string; session_id: string | null }): Promise<boolean> {
    await this.faults.hit('reminder.due');
    const sessionId = candidate.session_id;
    if (!sessionId) return this.db.transaction(() => this.claimAndAnnounce(candidate.id));
    return this.history.transaction(sessionId, async (session) => {
      if (session?.status === 'closed') {
        if (await this.repo.cancelDue(candidate.id)) {
          this.db.afterCommit(() =>
            this.logger.log(
              { reminderId: candidate.id, sessionId },
              'reminder cancelled: its session is closed',
            ),
          );
        }
        return false;
      }
      return this.claimAndAnnounce(candidate.id);
    });
  }

  private async claimAndAnnounce(id: string): Promise<boolean> {
    const r = await this.repo.claim(id);
    if (!r) return false;
    await this.faults.hit('reminder.claimed');
    await this.announce(r);
    return true;
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
