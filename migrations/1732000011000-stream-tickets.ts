import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One-use tickets that let a browser's EventSource (which cannot send headers) open a session's
 * SSE stream. Kept in the database so that any node can redeem a ticket another node issued; only
 * a hash of the ticket is stored.
 */
export class StreamTickets1732000011000 implements MigrationInterface {
  name = 'StreamTickets1732000011000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stream_tickets (
        ticket_hash text PRIMARY KEY,
        user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        session_id  uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        expires_at  timestamptz NOT NULL,
        used_at     timestamptz
      )`);
    await q.query(`CREATE INDEX stream_tickets_expires_idx ON stream_tickets (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE stream_tickets`);
  }
}
