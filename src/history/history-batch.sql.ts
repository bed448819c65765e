import type { NamedSql } from '../database/sql-executor.js';

/**
 * Writes one batch (many sessions, many events) in one transaction of two statements:
 * 1. lock the batch's session rows in id order (a fixed order, so two writers cannot deadlock)
 *    and read their last_seq;
 * 2. advance last_seq (and last_activity_at) and insert the events numbered last_seq+1, +2, …
 * The row locks are held until commit, so concurrent writers (other batches, other processes on
 * the same PostgreSQL) queue behind them and continue from the committed last_seq: no gap, no
 * reuse. A failed transaction rolls the counters back with the rows.
 */
export const LOCK_SESSIONS_SQL: NamedSql = {
  name: 'history_lock_sessions',
  text: `
SELECT id, user_id, last_seq, txid_current()::text AS txid, now() AS now
FROM sessions WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
};

const ADVANCE_SESSIONS = `
  UPDATE sessions s
  SET last_seq = a.last_seq,
      last_activity_at = CASE WHEN a.touch THEN now() ELSE s.last_activity_at END,
      version = s.version + 1
  FROM jsonb_to_recordset($1::jsonb) AS a(id uuid, last_seq bigint, touch boolean)
  WHERE s.id = a.id`;

const INSERT_EVENTS = `
INSERT INTO chat_history (session_id, seq, user_id, intent_id, run_id, connection_id, message_type, content)
SELECT e.session_id, e.seq, e.user_id, e.intent_id, e.run_id, e.connection_id, e.message_type, e.content
FROM jsonb_to_recordset($2::jsonb) AS e(
  session_id uuid, seq bigint, user_id uuid, intent_id uuid, run_id uuid, connection_id text,
  message_type text, content jsonb)`;

/**
 * Returns nothing: created_at defaults to now(), the transaction's start, the same for every row
 * of the batch and already read by LOCK_SESSIONS_SQL (no row, timestamp and map per event).
 */
export const WRITE_BATCH_SQL: NamedSql = {
  name: 'history_write_batch',
  text: `WITH advanced AS (${ADVANCE_SESSIONS})${INSERT_EVENTS}`,
};

/**
 * WRITE_BATCH_SQL plus the webhook outbox, for a batch that has events webhooks report (a run's
 * end, a question, ...): a delivery row per subscribed endpoint, in the same statement, so it
 * commits with the event. Batches of streamed text and steps never take this path, and with no
 * endpoint the join finds nothing: the hot path is unchanged.
 */
export const WRITE_BATCH_WITH_HOOKS_SQL: NamedSql = {
  name: 'history_write_batch_hooks',
  text: `
WITH advanced AS (${ADVANCE_SESSIONS}),
events AS (${INSERT_EVENTS}),
hooks AS (
  INSERT INTO webhook_deliveries (endpoint_id, event_type, payload)
  SELECT w.id, h.type, h.payload
  FROM jsonb_to_recordset($3::jsonb) AS h(type text, payload jsonb)
  JOIN webhook_endpoints w ON h.type = ANY(w.events)
  RETURNING 1
)
SELECT count(*)::int AS deliveries FROM hooks`,
};
