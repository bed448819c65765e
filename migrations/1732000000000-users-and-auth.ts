import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts and rotating refresh tokens (DESIGN.md "Data"). */
export class UsersAndAuth1732000000000 implements MigrationInterface {
  name = 'UsersAndAuth1732000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id            uuid PRIMARY KEY,
        email         text NOT NULL,
        password_hash text NOT NULL,
        display_name  text,
        role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
        disabled      boolean NOT NULL DEFAULT false,
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);
    // Emails are stored lower-cased by the service; the index makes uniqueness hold regardless.
    await q.query(`CREATE UNIQUE INDEX users_email_key ON users (lower(email))`);
    await q.query(`CREATE INDEX users_created_at_idx ON users (created_at, id)`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        id          uuid PRIMARY KEY,
        user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        family_id   uuid NOT NULL,
        token_hash  text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        used_at     timestamptz,
        revoked_at  timestamptz
      )`);
    await q.query(`CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)`);
    await q.query(`CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE refresh_tokens`);
    await q.query(`DROP TABLE users`);
  }
}
