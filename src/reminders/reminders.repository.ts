import { Inject, Injectable } from '@nestjs/common';
import type { Cursor } from '../common/cursor.js';
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

  /** The user's reminders, newest first, keyset-paged; limit + 1 rows (see toPage). */
  async list(
    userId: string,
    q: { status?: ReminderStatus; limit: number; cursor?: Cursor },
  ): Promise<ReminderRow[]> {
    return this.db.query<ReminderRow>(
      `SELECT ${COLUMNS} FROM reminders
       WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
         AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $5`,
      [userId, q.status ?? null, q.cursor?.t ?? null, q.cursor?.id ?? null, q.limit + 1],
    );
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

  /**
   * Claims up to `limit` due reminders: scheduled → fired in one statement. Rows another node is
   * claiming at the same moment are skipped (SKIP LOCKED), and the outer status check makes the
   * transition conditional, so each reminder is claimed by exactly one caller, ever.
   */
  async claimDue(limit: number): Promise<ReminderRow[]> {
    return this.db.query<ReminderRow>(
      `UPDATE reminders r SET status = 'fired', fired_at = now()
       WHERE r.status = 'scheduled' AND r.id IN (
         SELECT id FROM reminders WHERE status = 'scheduled' AND due_at <= now()
         ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING ${COLUMNS.split(', ')
         .map((c) => `r.${c}`)
         .join(', ')}`,
      [limit],
    );
  }
}
