import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAX_SESSIONS_PER_USER: a create counts the user's active sessions under the user's row lock;
 * this index holds only active sessions, so the count reads none of the closed ones, however
 * many the user has accumulated.
 */
export class ActiveSessionsIndex1732000014000 implements MigrationInterface {
  name = 'ActiveSessionsIndex1732000014000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX sessions_user_active_idx ON sessions (user_id) WHERE status = 'active'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX sessions_user_active_idx`);
  }
}
