import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions, intents, runs, interactions, the per-session event log and idempotent message ids
 * (DESIGN.md "Data"). Two constraints carry guarantees of PROTOCOL.md:
 * - runs_one_active_per_session: at most one running/awaiting_input run per session, enforced by
 *   the database so that it holds across nodes;
 * - chat_history_session_seq_key: a seq is used once per session.
 */
export class SessionsAndHistory1732000001000 implements MigrationInterface {
  name = 'SessionsAndHistory1732000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sessions (
        id               uuid PRIMARY KEY,
        user_id          uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        title            text,
        status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
        last_seq         bigint NOT NULL DEFAULT 0,
        created_at       timestamptz NOT NULL DEFAULT now(),
        last_activity_at timestamptz NOT NULL DEFAULT now(),
        expired_at       timestamptz,
        watched_until    timestamptz,
        version          integer NOT NULL DEFAULT 0
      )`);
    await q.query(
      `CREATE INDEX sessions_user_activity_idx ON sessions (user_id, last_activity_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX sessions_idle_idx ON sessions (last_activity_at) WHERE status = 'active'`,
    );

    await q.query(`
      CREATE TABLE intents (
        id         uuid PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        status     text NOT NULL DEFAULT 'active'
                   CHECK (status IN ('active', 'completed', 'abandoned', 'cancelled', 'failed')),
        content    text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        ended_at   timestamptz
      )`);
    await q.query(`CREATE INDEX intents_session_idx ON intents (session_id, created_at)`);

    await q.query(`
      CREATE TABLE runs (
        id           uuid PRIMARY KEY,
        intent_id    uuid NOT NULL REFERENCES intents(id) ON DELETE CASCADE,
        session_id   uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        attempt      integer NOT NULL,
        status       text NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'awaiting_input', 'completed', 'cancelled', 'failed', 'interrupted')),
        node_id      text NOT NULL,
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        checkpoint   jsonb,
        started_at   timestamptz NOT NULL DEFAULT now(),
        ended_at     timestamptz,
        UNIQUE (intent_id, attempt)
      )`);
    await q.query(`
      CREATE UNIQUE INDEX runs_one_active_per_session ON runs (session_id)
      WHERE status IN ('running', 'awaiting_input')`);
    await q.query(`CREATE INDEX runs_status_idx ON runs (status, started_at)`);
    await q.query(
      `CREATE INDEX runs_node_active_idx ON runs (node_id) WHERE status IN ('running', 'awaiting_input')`,
    );

    await q.query(`
      CREATE TABLE interactions (
        id          uuid PRIMARY KEY,
        run_id      uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        intent_id   uuid NOT NULL REFERENCES intents(id) ON DELETE CASCADE,
        session_id  uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        kind        text NOT NULL CHECK (kind IN ('confirm', 'form', 'retry')),
        payload     jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        resolved_at timestamptz,
        outcome     text CHECK (outcome IN ('approved', 'denied', 'submitted', 'retry', 'no_retry', 'timeout', 'cancelled')),
        resolved_by text,
        response    jsonb
      )`);
    await q.query(
      `CREATE INDEX interactions_pending_idx ON interactions (expires_at) WHERE resolved_at IS NULL`,
    );
    await q.query(
      `CREATE INDEX interactions_session_pending_idx ON interactions (session_id) WHERE resolved_at IS NULL`,
    );

    // The log. intent_id/run_id carry no foreign keys: the hot path inserts without checking them,
    // and the rows they name are never deleted apart from their session.
    await q.query(`
      CREATE TABLE chat_history (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id    uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        seq           bigint NOT NULL,
        user_id       uuid NOT NULL,
        intent_id     uuid,
        run_id        uuid,
        connection_id text,
        message_type  text NOT NULL,
        content       jsonb NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        is_complete   boolean NOT NULL DEFAULT true,
        abandoned     boolean NOT NULL DEFAULT false,
        CONSTRAINT chat_history_session_seq_key UNIQUE (session_id, seq)
      )`);

    await q.query(`
      CREATE TABLE client_messages (
        session_id        uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        client_message_id text NOT NULL,
        ack               jsonb NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, client_message_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE client_messages`);
    await q.query(`DROP TABLE chat_history`);
    await q.query(`DROP TABLE interactions`);
    await q.query(`DROP TABLE runs`);
    await q.query(`DROP TABLE intents`);
    await q.query(`DROP TABLE sessions`);
  }
}
