import type { MigrationInterface, QueryRunner } from 'typeorm';
import { parseReminderTime } from '../src/common/reminder-time.js';

/**
 * Reminders become real: the free-text `remind_at` is kept as `time_text` (what the user said)
 * and read into `due_at timestamptz`, relative to when each reminder was made. A row whose text
 * cannot be read is kept, marked `unreadable` and `cancelled` (so it never fires), due at its
 * creation time. Also: the tool-call ledger that makes tool rounds safe to retry, and an index for
 * counting a user's active runs.
 */
export class RemindersDueAt1732000010000 implements MigrationInterface {
  name = 'RemindersDueAt1732000010000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reminders RENAME COLUMN remind_at TO time_text`);
    await q.query(`
      ALTER TABLE reminders
        ADD COLUMN due_at timestamptz,
        ADD COLUMN status text NOT NULL DEFAULT 'scheduled'
          CHECK (status IN ('scheduled', 'fired', 'cancelled')),
        ADD COLUMN fired_at timestamptz,
        ADD COLUMN unreadable boolean NOT NULL DEFAULT false,
        ADD COLUMN idempotency_key text UNIQUE`);
    const rows = (await q.query(`SELECT id, time_text, created_at FROM reminders`)) as {
      id: string;
      time_text: string;
      created_at: Date | string;
    }[];
    for (const r of rows) {
      const due = parseReminderTime(r.time_text, new Date(r.created_at));
      if (due) {
        await q.query(`UPDATE reminders SET due_at = $2 WHERE id = $1`, [r.id, due]);
      } else {
        await q.query(
          `UPDATE reminders SET due_at = created_at, status = 'cancelled', unreadable = true WHERE id = $1`,
          [r.id],
        );
      }
    }
    await q.query(`ALTER TABLE reminders ALTER COLUMN due_at SET NOT NULL`);
    await q.query(
      `CREATE INDEX reminders_due_idx ON reminders (due_at) WHERE status = 'scheduled'`,
    );
    await q.query(`DROP INDEX reminders_user_idx`);
    await q.query(
      `CREATE INDEX reminders_user_idx ON reminders (user_id, created_at DESC, id DESC)`,
    );

    await q.query(`
      CREATE TABLE tool_calls (
        idempotency_key text PRIMARY KEY,
        intent_id       uuid NOT NULL REFERENCES intents(id) ON DELETE CASCADE,
        run_id          uuid NOT NULL,
        tool            text NOT NULL,
        result          jsonb,
        created_at      timestamptz NOT NULL DEFAULT now(),
        completed_at    timestamptz
      )`);
    await q.query(`CREATE INDEX tool_calls_intent_idx ON tool_calls (intent_id)`);
    await q.query(
      `CREATE INDEX runs_user_active_idx ON runs (user_id) WHERE status IN ('running', 'awaiting_input')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX runs_user_active_idx`);
    await q.query(`DROP TABLE tool_calls`);
    await q.query(`DROP INDEX reminders_due_idx`);
    await q.query(`DROP INDEX reminders_user_idx`);
    await q.query(`CREATE INDEX reminders_user_idx ON reminders (user_id, created_at DESC)`);
    await q.query(`
      ALTER TABLE reminders
        DROP COLUMN due_at, DROP COLUMN status, DROP COLUMN fired_at,
        DROP COLUMN unreadable, DROP COLUMN idempotency_key`);
    await q.query(`ALTER TABLE reminders RENAME COLUMN time_text TO remind_at`);
  }
}
