import type { SqlExecutor } from '../database/sql-executor.js';

/**
 * Locks the user's row for the rest of the caller's transaction, before counting what a per-user
 * limit caps (active sessions, concurrent runs): two requests racing for the last slot are
 * serialized on every node, the second counting what the first inserted.
 *
 * FOR NO KEY UPDATE rather than FOR UPDATE: it excludes other limit checks the same way, but not
 * the KEY SHARE locks that inserting rows with a foreign key to users (intents, runs, sessions)
 * takes, which would otherwise deadlock two such transactions against each other.
 *
 * Lock order: a path that also locks a session row (a send: history.transaction) locks that
 * first, then this one; a session creation takes only this one. Nothing locks a session row after
 * the user's, so no two transactions wait on each other in a cycle. Keep it so: take this lock
 * last, just before the count.
 */
export async function lockUserForLimits(tx: SqlExecutor, userId: string): Promise<void> {
  await tx.query(`SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE`, [userId]);
}
