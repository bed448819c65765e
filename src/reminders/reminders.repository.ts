import { Inject, Injectable } from '@nestjs/common';
import { keysetPage, type Page } from '../common/page.js';
import { Database } from '../database/database.js';
import type { ReminderRow, ReminderStatus } from './reminder.types.js';

const COLUMNS = 'id, user_id, session_id, label, due_at, status, created_at, fired_at';

/** The one owner of the reminders table and of a reminder's status (scheduled → fired | cancelled). */
@Injectable()
export class RemindersRepository {
  constructor(@Inject(Database) private readonly db: Database) {}

  /**
   * Stores a reminder once per idempotency key: a second call with the same key (a retried tool
   * round) returns the reminder the first call stored instead of making another.
   */
  async createOnce(r: {
    id: string;
    userId: string;
    sessionId: string;
    label: string;
    timeText: string;
    dueAt: Date;
    idempotencyKey: string;
  }): Promise<{ row: ReminderRow; created: boolean }> {
    const inserted = await this.db.query<ReminderRow>(
      `INSERT INTO reminders (id, user_id, session_id, label, time_text, due_at, idempotency_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${COLUMNS}`,
      [r.id, r.userId, r.sessionId, r.label, r.timeText, r.dueAt, r.idempotencyKey],
    );
    if (inserted[0]) return { row: inserted[0], created: true };
    const existing = await this.db.query<ReminderRow>(
      `SELECT ${COLUMNS} FROM reminders WHERE idempotency_key = $1`,
      [r.idempotencyKey],
    );
    return { row: existing[0], created: false };
  }

  /** The user's reminders, newest first, optionally of one status, keyset-paged on (created_at, id). */
  list(
    userId: string,
    q: { status?: ReminderStatus; limit: number; cursor?: string },
  ): Promise<Page<ReminderRow>> {
    return keysetPage<ReminderRow>(this.db, {
      columns: COLUMNS,
      table: 'reminders',
      equal: { user_id: userId, status: q.status },
      orderBy: 'created_at',
      descending: true,
      limit: q.limit,
      cursor: q.cursor,
    });
  }

  async findOwned(userId: string, id: string): Promise<ReminderRow | undefined> {
    const rows = await this.db.query<ReminderRow>(
      `SELECT ${COLUMNS} FROM reminders WHERE id = $1 AND user_id = $2`,
      [id, userId],
    );
    return rows[0];
  }

  /** scheduled → cancelled; false when it had already fired or been cancelled. */
  async cancel(userId: string, id: string): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE reminders SET status = 'cancelled' WHERE id = $1 AND user_id = $2 AND status = 'scheduled'`,
      [id, userId],
    );
    return r.rowCount === 1;
  }

  /** Up to `limit` reminders due now, oldest first, unlocked: candidates for `claim`. */
  dueCandidates(limit: number): Promise<{ id: string; session_id: string | null }[]> {
    return this.db.query(
      `SELECT id, session_id FROM reminders WHERE status = 'scheduled' AND due_at <= now()
       ORDER BY due_at LIMIT $1`,
      [limit],
    );
  }

  /**
   * scheduled → fired for one due reminder, or undefined when it is not (any more) scheduled and
   * due. Conditional on the status, so of callers racing for it (other nodes) exactly one wins:
   * the others wait for its row lock, then see it fired.
   */
  async claim(id: string): Promise<ReminderRow | undefined> {
    const rows = await this.db.query<ReminderRow>(
      `UPDATE reminders SET status = 'fired', fired_at = now()
       WHERE id = $1 AND status = 'scheduled' AND due_at <= now()
       RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0];
  }

  /**
   * scheduled → cancelled for a due reminder whose session is closed (the scheduler's alternative
   * to `claim`, under the same session lock); false when it is not (any more) scheduled.
   */
  async cancelDue(id: string): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE reminders SET status = 'cancelled' WHERE id = $1 AND status = 'scheduled'`,
      [id],
    );
    return r.rowCount === 1;
  }

  /**
   * Cancels every scheduled reminder of a session: for the session's closing transaction, so a
   * closed session shows no reminder still waiting to fire. Returns how many were cancelled.
   */
  async cancelScheduledInSession(sessionId: string): Promise<number> {
    const r = await this.db.execute(
      `UPDATE reminders SET status = 'cancelled' WHERE session_id = $1 AND status = 'scheduled'`,
      [sessionId],
    );
    return r.rowCount ?? 0;
  }
}
