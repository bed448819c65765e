import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The arguments a tool call ran with (a person may have edited them in the confirmation), kept
 * with its ledger entry: an attempt that repeats a completed call after a crash or takeover gets
 * the call back as it ran, so the model's transcript holds what ran. Older rows have none (null):
 * their call is returned as the model asked it.
 */
export class ToolCallArguments1732000023000 implements MigrationInterface {
  name = 'ToolCallArguments1732000023000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tool_calls ADD COLUMN arguments jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tool_calls DROP COLUMN arguments`);
  }
}
