import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-user daily usage (quotas, admin reports) and the built-in agent's reminders. */
export class UsageAndReminders1732000002000 implements MigrationInterface {
  name = 'UsageAndReminders1732000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_ledger (
        user_id           uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        day               date NOT NULL,
        messages          integer NOT NULL DEFAULT 0,
        runs              integer NOT NULL DEFAULT 0,
        prompt_tokens     bigint NOT NULL DEFAULT 0,
        completion_tokens bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, day)
      )`);
    await q.query(`CREATE INDEX usage_ledger_day_idx ON usage_ledger (day)`);
    await q.query(`
      CREATE TABLE reminders (
        id         uuid PRIMARY KEY,
        user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        session_id uuid REFERENCES sessions(id) ON DELETE SET NULL,
        label      text NOT NULL,
        remind_at  text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX reminders_user_idx ON reminders (user_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE reminders`);
    await q.query(`DROP TABLE usage_ledger`);
  }
}
