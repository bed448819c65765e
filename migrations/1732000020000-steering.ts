import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Steering (docs/protocol.md "Steering"): intents form a tree and may wait in a queue.
 * - intents.parent_intent_id: the intent each follows (its branch); null for a conversation's first.
 *   No foreign key: the same session's intents are deleted only with their session.
 * - intents.message_seq: seq of the intent's user_message, the queue's order (the session lock
 *   serializes sends, so it rises with every send; created_at, a transaction's start, need not).
 * - intents.status gains `queued` and `rolled_back`.
 * - sessions.head_intent_id: the intent a new message follows by default.
 * - intents_queue_idx: a session's queued intents in order, read on every run end.
 * Existing rows are filled in as the linear history they were: each intent follows the one before.
 */
export class Steering1732000020000 implements MigrationInterface {
  name = 'Steering1732000020000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE intents ADD COLUMN parent_intent_id uuid`);
    await q.query(`ALTER TABLE intents ADD COLUMN message_seq bigint`);
    await q.query(`ALTER TABLE intents DROP CONSTRAINT intents_status_check`);
    await q.query(
      `ALTER TABLE intents ADD CONSTRAINT intents_status_check CHECK (status IN
         ('queued', 'active', 'completed', 'abandoned', 'cancelled', 'failed', 'rolled_back'))`,
    );
    await q.query(
      `CREATE INDEX intents_queue_idx ON intents (session_id, message_seq) WHERE status = 'queued'`,
    );
    await q.query(`ALTER TABLE sessions ADD COLUMN head_intent_id uuid`);
    // What was logged before: a line. Each intent follows the one sent before it in its
    // session (as the log's messages without parentIntentId are read), in the order of their
    // user_message, and the head is the newest.
    await q.query(
      `UPDATE intents i SET message_seq = h.seq FROM chat_history h
        WHERE h.session_id = i.session_id AND h.intent_id = i.id
          AND h.message_type = 'user_message'`,
    );
    await q.query(
      `UPDATE intents i SET parent_intent_id = p.prev
         FROM (SELECT id, lag(id) OVER (PARTITION BY session_id
                                        ORDER BY message_seq NULLS FIRST, created_at) AS prev
                 FROM intents) p
        WHERE p.id = i.id AND p.prev IS NOT NULL`,
    );
    await q.query(
      `UPDATE sessions s SET head_intent_id = (
         SELECT i.id FROM intents i WHERE i.session_id = s.id
          ORDER BY i.message_seq DESC NULLS LAST, i.created_at DESC LIMIT 1)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sessions DROP COLUMN head_intent_id`);
    await q.query(`DROP INDEX intents_queue_idx`);
    await q.query(
      `UPDATE intents SET status = 'cancelled' WHERE status IN ('queued', 'rolled_back')`,
    );
    await q.query(`ALTER TABLE intents DROP CONSTRAINT intents_status_check`);
    await q.query(
      `ALTER TABLE intents ADD CONSTRAINT intents_status_check
         CHECK (status IN ('active', 'completed', 'abandoned', 'cancelled', 'failed'))`,
    );
    await q.query(`ALTER TABLE intents DROP COLUMN message_seq`);
    await q.query(`ALTER TABLE intents DROP COLUMN parent_intent_id`);
  }
}
