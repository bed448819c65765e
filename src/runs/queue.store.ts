import { Inject, Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import { ACTIVE_RUN_STATUSES, type IntentStatus } from '../contracts/session.js';

/** An intent as steering reads it: its place in the tree, and whether it ever ran. */
export interface BranchIntentRow {
  id: string;
  status: IntentStatus;
  parent_intent_id: string | null;
  ran: boolean;
}

export interface QueuedIntentRow {
  id: string;
  session_id: string;
  user_id: string;
  content: string;
  created_at: Date;
  parent_intent_id: string | null;
}

const QUEUED_COLUMNS = 'id, session_id, user_id, content, created_at, parent_intent_id';

/**
 * The SQL of steering, beside RunsStore (the run engine writes intents through both): queued
 * intents in their order (the seq of their user_message), the parent link of every intent, and
 * the session's head. Runs in the caller's session transaction.
 */
@Injectable()
export class QueueStore {
  constructor(@Inject(Database) private readonly db: Database) {}

  /** A new intent with no run yet: `queued`, or `active` when a run is inserted next. */
  async insertIntent(i: {
    id: string;
    sessionId: string;
    userId: string;
    content: string;
    parentIntentId: string | null;
    messageSeq: number;
    status: 'queued' | 'active';
  }): Promise<void> {
    await this.db.execute(
      `INSERT INTO intents (id, session_id, user_id, content, parent_intent_id, message_seq, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [i.id, i.sessionId, i.userId, i.content, i.parentIntentId, i.messageSeq, i.status],
    );
  }

  /** The session's queued intents, next first. */
  async queued(sessionId: string, limit = 100): Promise<QueuedIntentRow[]> {
    return this.db.query<QueuedIntentRow>(
      `SELECT ${QUEUED_COLUMNS} FROM intents WHERE session_id = $1 AND status = 'queued'
       ORDER BY message_seq LIMIT $2`,
      [sessionId, limit],
    );
  }

  /** The next queued intent to start: none while its user is disabled (it waits, queued). */
  async nextToStart(sessionId: string): Promise<QueuedIntentRow | undefined> {
    const rows = await this.db.query<QueuedIntentRow>(
      `SELECT ${QUEUED_COLUMNS} FROM intents i WHERE session_id = $1 AND status = 'queued'
         AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = i.user_id AND u.disabled)
       ORDER BY message_seq LIMIT 1`,
      [sessionId],
    );
    return rows[0];
  }

  async queuedCount(sessionId: string): Promise<number> {
    const rows = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM intents WHERE session_id = $1 AND status = 'queued'`,
      [sessionId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** An intent of this session with its parent and whether any run of it was started. */
  async branchIntent(sessionId: string, intentId: string): Promise<BranchIntentRow | undefined> {
    const rows = await this.db.query<BranchIntentRow>(
      `SELECT i.id, i.status, i.parent_intent_id,
              EXISTS (SELECT 1 FROM runs r WHERE r.intent_id = i.id) AS ran
         FROM intents i WHERE i.id = $1 AND i.session_id = $2`,
      [intentId, sessionId],
    );
    return rows[0];
  }

  /**
   * The intent itself or its nearest ancestor that still belongs in the conversation: one that
   * ran or is still queued (not one taken back before it ran); null when there is none.
   */
  async nearestKept(intentId: string): Promise<string | null> {
    const rows = await this.db.query<{ id: string }>(
      `WITH RECURSIVE up(id, parent, kept, depth) AS (
         SELECT i.id, i.parent_intent_id,
                i.status = 'queued' OR EXISTS (SELECT 1 FROM runs r WHERE r.intent_id = i.id), 0
           FROM intents i WHERE i.id = $1
         UNION ALL
         SELECT i.id, i.parent_intent_id,
                i.status = 'queued' OR EXISTS (SELECT 1 FROM runs r WHERE r.intent_id = i.id),
                up.depth + 1
           FROM intents i JOIN up ON i.id = up.parent
          WHERE NOT up.kept AND up.depth < 10000
       )
       SELECT id FROM up WHERE kept ORDER BY depth LIMIT 1`,
      [intentId],
    );
    return rows[0]?.id ?? null;
  }

  /**
   * The head of a session logged before heads were kept: its newest intent that ran (what a
   * message then followed). Null for a session with none.
   */
  async newestRan(sessionId: string): Promise<string | null> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT i.id FROM intents i WHERE i.session_id = $1
         AND EXISTS (SELECT 1 FROM runs r WHERE r.intent_id = i.id)
       ORDER BY i.created_at DESC LIMIT 1`,
      [sessionId],
    );
    return rows[0]?.id ?? null;
  }

  async head(sessionId: string): Promise<string | null> {
    const rows = await this.db.query<{ head_intent_id: string | null }>(
      `SELECT head_intent_id FROM sessions WHERE id = $1`,
      [sessionId],
    );
    return rows[0]?.head_intent_id ?? null;
  }

  async setHead(sessionId: string, intentId: string | null): Promise<void> {
    await this.db.execute(`UPDATE sessions SET head_intent_id = $2 WHERE id = $1`, [
      sessionId,
      intentId,
    ]);
  }

  /**
   * Sessions with queued intents and nothing in front of them (no active run, no open retry
   * offer): what the queue sweep starts, oldest queued first.
   */
  async stalledQueues(limit: number): Promise<string[]> {
    const rows = await this.db.query<{ session_id: string }>(
      `SELECT i.session_id FROM intents i
        WHERE i.status = 'queued'
          AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = i.user_id AND u.disabled)
          AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.session_id = i.session_id
                            AND r.status = ANY($2::text[]))
          AND NOT EXISTS (SELECT 1 FROM interactions x WHERE x.session_id = i.session_id
                            AND x.resolved_at IS NULL AND x.kind = 'retry')
        GROUP BY i.session_id ORDER BY min(i.created_at) LIMIT $1`,
      [limit, ACTIVE_RUN_STATUSES],
    );
    return rows.map((r) => r.session_id);
  }
}
