import type { AppConfig } from '../config/app-config.js';

/**
 * One kind of row the retention job removes. `sql` deletes (or clears) at most `$1` rows per call
 * and returns one row per row touched; the job repeats it until fewer come back, so no statement
 * holds locks for long. A table that needs cleaning adds an entry here.
 */
export interface RetentionCleanup {
  name: string;
  sql: string;
  /** Parameters after the batch size `$1`. */
  params: (config: AppConfig) => unknown[];
}

const deleteIn = (table: string, key: string, where: string): string =>
  `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${where} LIMIT $1)
   RETURNING 1`;

export const RETENTION_CLEANUPS: readonly RetentionCleanup[] = [
  {
    // Used, revoked or expired refresh tokens, once nothing of their family can be refreshed any
    // more (no token in it is unused, unrevoked and unexpired). A used token is what reveals its
    // theft: presented again, it revokes the family. Deleted while a successor is still valid, it
    // would be answered as unknown instead, and the thief's rotation would go on unnoticed. So a
    // family's used tokens stay until its last token expires or the family is revoked, plus the age.
    name: 'refresh_tokens',
    sql: `DELETE FROM refresh_tokens WHERE id IN (
            SELECT t.id FROM refresh_tokens t
            WHERE coalesce(least(t.used_at, t.revoked_at, t.expires_at), t.expires_at)
                    < now() - make_interval(secs => $2::int)
              AND NOT EXISTS (
                SELECT 1 FROM refresh_tokens live
                WHERE live.family_id = t.family_id AND live.used_at IS NULL
                  AND live.revoked_at IS NULL AND live.expires_at > now())
            LIMIT $1)
          RETURNING 1`,
    params: (c) => [c.retention.refreshTokensAfterS],
  },
  {
    // Any token expired more than the age ago, even one of a family still in use (each rotation
    // extends a family, so the rule above alone would keep a live family's used tokens forever).
    // An expired token is refused before its reuse is looked at (AuthService.refresh), so
    // deleting it changes no answer. Served by refresh_tokens_expires_idx.
    name: 'refresh_tokens_expired',
    sql: deleteIn('refresh_tokens', 'id', `expires_at < now() - make_interval(secs => $2::int)`),
    params: (c) => [c.retention.refreshTokensAfterS],
  },
  {
    // The sealed pair a rotation keeps for the 10 s refresh grace is useless after it: clear it.
    name: 'refresh_grace_pairs',
    sql: `UPDATE refresh_tokens SET grace_pair = NULL WHERE id IN (
            SELECT id FROM refresh_tokens
            WHERE grace_pair IS NOT NULL AND used_at < now() - interval '1 minute' LIMIT $1)
          RETURNING 1`,
    params: () => [],
  },
  {
    // Idempotency records of message sends: a retry of a send this old is not a retry.
    name: 'client_messages',
    sql: `DELETE FROM client_messages WHERE (session_id, client_message_id) IN (
            SELECT session_id, client_message_id FROM client_messages
            WHERE created_at < now() - make_interval(secs => $2::int) LIMIT $1)
          RETURNING 1`,
    params: (c) => [c.retention.clientMessagesAfterS],
  },
  {
    // SSE stream tickets live 60 s and are single use: gone a minute after they expired.
    name: 'stream_tickets',
    sql: deleteIn('stream_tickets', 'ticket_hash', `expires_at < now() - interval '1 minute'`),
    params: () => [],
  },
  {
    // Webhook deliveries that are done (delivered or failed) are kept 30 days for the admin's
    // delivery list, then deleted; pending ones stay however old. Served by
    // webhook_deliveries_done_idx.
    name: 'webhook_deliveries',
    sql: deleteIn(
      'webhook_deliveries',
      'id',
      `status <> 'pending' AND created_at < now() - interval '30 days'`,
    ),
    params: () => [],
  },
];
