import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh grace: a used refresh token keeps the pair its rotation produced, encrypted with a key
 * derived from that token's own secret (which only the client holds), so the same token presented
 * again within the grace returns the same pair. Indexes serve the retention job's deletes.
 */
export class RefreshGrace1732000013000 implements MigrationInterface {
  name = 'RefreshGrace1732000013000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refresh_tokens ADD COLUMN grace_pair text`);
    await q.query(`CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at)`);
    await q.query(`CREATE INDEX client_messages_created_idx ON client_messages (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX client_messages_created_idx`);
    await q.query(`DROP INDEX refresh_tokens_expires_idx`);
    await q.query(`ALTER TABLE refresh_tokens DROP COLUMN grace_pair`);
  }
}
