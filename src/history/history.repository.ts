import { Inject, Injectable } from '@nestjs/common';
import type { EventType, NewEvent, SessionEvent } from '../contracts/events.js';
import { ACTIVE_RUN_STATUSES } from '../contracts/session.js';
import { Database } from '../database/database.js';
import type { NamedSql } from '../database/sql-executor.js';
import { webhookPayloadOf, type WebhookPayload } from './webhook-outbox.js';
import {
  LOCK_SESSIONS_SQL,
  WRITE_BATCH_SQL,
  WRITE_BATCH_WITH_HOOKS_SQL,
} from './history-batch.sql.js';

/** One event of a group-commit batch; `ord` keeps the append order inside the batch. */
export interface BatchRow {
  ord: number;
  sessionId: string;
  event: NewEvent;
  /** False for events that must not count as session activity (what the idle expiry writes). */
  touch: boolean;
  /**
   * A run's own progress (streamed text, steps), left out once its run has ended; false for what
   * a lifecycle transaction writes under its own checked transition (the closing events).
   */
  fenced: boolean;
  /** Rows of one append share a group: when a fenced row is left out, the whole group is. */
  group: number;
}

/**
 * What one appendBatch() call left behind, so that when its COMMIT's reply is lost (the
 * connection dropped) the caller can ask whether the batch was stored before writing it again.
 */
export interface BatchAttempt {
  txid?: string;
  seqs?: { ord: number; sessionId: string; seq: number }[];
}

/**
 * Asks appendBatch to leave out the fenced rows (BatchRow.fenced) of runs that are no longer
 * active, and says which runs those were. Every path that writes what runs produce on their own
 * uses it: the group commit, and the outbox when a transaction first writes the session's
 * earlier appends and buffered text. A run ended by another writer (a cancel on another node,
 * expiry, takeover) took the session row lock to do so, and this check runs under the same lock,
 * so nothing of the run lands after its closing event.
 */
export interface RunFence {
  ended: Set<string>;
}

const ENDED_RUNS_SQL: NamedSql = {
  name: 'history_ended_runs',
  text: `SELECT id FROM runs WHERE id = ANY($1::uuid[]) AND status <> ALL($2::text[])`,
};

/** A session row locked for the rest of a transaction. */
export interface LockedSession {
  id: string;
  userId: string;
  status: 'active' | 'closed';
}

interface HistoryRow {
  session_id: string;
  seq: string;
  message_type: EventType;
  intent_id: string | null;
  run_id: string | null;
  connection_id: string | null;
  content: unknown;
  /** Already in the wire format (HISTORY_COLUMNS formats it). */
  created_at: string;
}

/**
 * The columns of an event as the wire wants them. createdAt is formatted by PostgreSQL exactly
 * as Date#toISOString() would (milliseconds, truncated like the drivers' own parsing), so a
 * replay parses no timestamps: that was the second largest cost of a replayed row.
 */
const HISTORY_COLUMNS = `session_id, seq, message_type, intent_id, run_id, connection_id, content,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at`;

/**
 * Assigned field by field in the wire order: with conditional spreads this was the largest
 * function of a replay's profile (every spread a temporary object and a generic copy).
 */
function toSessionEvent(r: HistoryRow): SessionEvent {
  const e: Record<string, unknown> = {
    sessionId: r.session_id,
    seq: Number(r.seq),
    type: r.message_type,
  };
  if (r.intent_id) e.intentId = r.intent_id;
  if (r.run_id) e.runId = r.run_id;
  if (r.connection_id) e.connectionId = r.connection_id;
  e.createdAt = r.created_at;
  e.data = r.content;
  return e as unknown as SessionEvent;
}

@Injectable()
export class HistoryRepository {
  /** Told after a commit that stored webhook deliveries (the dispatcher sends them at once). */
  onDeliveries: (() => void) | undefined;

  constructor(@Inject(Database) readonly db: Database) {}

  /**
   * Persists the batch (in the caller's transaction when there is one); returns seq and createdAt per `ord` that was stored. Rows of sessions that
   * do not exist are left out of the result (and not written).
   */
  async appendBatch(
    rows: BatchRow[],
    attempt: BatchAttempt = {},
    fence?: RunFence,
  ): Promise<Map<number, { seq: number; createdAt: string }>> {
    const sessionIds = [...new Set(rows.map((r) => r.sessionId))];
    return this.db.transaction(async (tx) => {
      const locked = await tx.query<{
        id: string;
        user_id: string;
        last_seq: string;
        txid: string;
        now: Date;
      }>(LOCK_SESSIONS_SQL, [sessionIds]);
      attempt.txid = locked[0]?.txid;
      const runIds = fence
        ? [...new Set(rows.flatMap((r) => (r.fenced && r.event.runId) || []))]
        : [];
      if (fence && runIds.length > 0) {
        const ended = await tx.query<{ id: string }>(ENDED_RUNS_SQL, [runIds, ACTIVE_RUN_STATUSES]);
        for (const r of ended) fence.ended.add(r.id);
      }
      const dropped = new Set(
        rows.flatMap((r) =>
          r.fenced && r.event.runId && fence?.ended.has(r.event.runId) ? [r.group] : [],
        ),
      );
      const counters = new Map(
        locked.map((l) => [l.id, { userId: l.user_id, seq: Number(l.last_seq), touch: false }]),
      );
      const events: Record<string, unknown>[] = [];
      const hooks: WebhookPayload[] = [];
      const createdAt = locked[0] ? new Date(locked[0].now).toISOString() : '';
      const seqByOrd = new Map<number, number>();
      for (const r of rows) {
        const c = counters.get(r.sessionId);
        if (!c || dropped.has(r.group)) continue;
        c.seq += 1;
        c.touch ||= r.touch;
        seqByOrd.set(r.ord, c.seq);
        const hook = webhookPayloadOf(r.event, {
          userId: c.userId,
          sessionId: r.sessionId,
          seq: c.seq,
          createdAt,
        });
        if (hook) hooks.push(hook);
        events.push({
          session_id: r.sessionId,
          seq: c.seq,
          user_id: c.userId,
          intent_id: r.event.intentId ?? null,
          run_id: r.event.runId ?? null,
          connection_id: r.event.connectionId ?? null,
          message_type: r.event.type,
          content: r.event.data,
        });
      }
      const result = new Map<number, { seq: number; createdAt: string }>();
      attempt.seqs = rows.flatMap((r) => {
        const seq = seqByOrd.get(r.ord);
        return seq === undefined ? [] : [{ ord: r.ord, sessionId: r.sessionId, seq }];
      });
      if (events.length === 0) return result;
      const advanced = [...counters].map(([id, c]) => ({ id, last_seq: c.seq, touch: c.touch }));
      const params = [JSON.stringify(advanced), JSON.stringify(events)];
      if (hooks.length === 0) await tx.execute(WRITE_BATCH_SQL, params);
      else {
        const [{ deliveries }] = await tx.query<{ deliveries: number }>(
          WRITE_BATCH_WITH_HOOKS_SQL,
          [...params, JSON.stringify(hooks.map((h) => ({ type: h.type, payload: h })))],
        );
        if (deliveries > 0) this.db.afterCommit(() => this.onDeliveries?.());
      }
      for (const r of rows) {
        const seq = seqByOrd.get(r.ord);
        if (seq !== undefined) result.set(r.ord, { seq, createdAt });
      }
      return result;
    });
  }

  /**
   * The result of an earlier appendBatch() attempt if its transaction committed, undefined if it
   * did not (then it can simply be written again). Throws while that cannot be known yet.
   */
  async committedBatch(
    attempt: BatchAttempt,
  ): Promise<Map<number, { seq: number; createdAt: string }> | undefined> {
    if (attempt.txid === undefined || !attempt.seqs) return undefined;
    const [{ status }] = await this.db.query<{ status: string | null }>(
      'SELECT txid_status($1::bigint) AS status',
      [attempt.txid],
    );
    if (status === 'in progress')
      throw Object.assign(new Error('Connection terminated: the earlier batch is still open'), {
        code: '08006',
      });
    if (status !== 'committed') return undefined;
    const stored = await this.db.query<{ session_id: string; seq: string; created_at: Date }>(
      `SELECT session_id, seq, created_at FROM chat_history
       WHERE (session_id, seq) IN (SELECT * FROM unnest($1::uuid[], $2::bigint[]))`,
      [attempt.seqs.map((s) => s.sessionId), attempt.seqs.map((s) => s.seq)],
    );
    const createdAt = new Map(
      stored.map((s) => [`${s.session_id}:${s.seq}`, new Date(s.created_at).toISOString()]),
    );
    return new Map(
      attempt.seqs.map((s) => [
        s.ord,
        { seq: s.seq, createdAt: createdAt.get(`${s.sessionId}:${s.seq}`) ?? '' },
      ]),
    );
  }

  /**
   * Locks one session row (the first lock of a lifecycle transaction); undefined if it is gone,
   * or, given `ownerId`, if it is another user's: a row the filter leaves out is neither locked
   * nor waited for (user_id never changes).
   */
  async lockSession(sessionId: string, ownerId?: string): Promise<LockedSession | undefined> {
    const rows = await this.db.query<LockedSession>(
      ownerId === undefined
        ? {
            name: 'history_lock_session',
            text: `SELECT id, user_id AS "userId", status FROM sessions WHERE id = $1 FOR UPDATE`,
          }
        : {
            name: 'history_lock_owned_session',
            text: `SELECT id, user_id AS "userId", status FROM sessions
                   WHERE id = $1 AND user_id = $2 FOR UPDATE`,
          },
      ownerId === undefined ? [sessionId] : [sessionId, ownerId],
    );
    return rows[0];
  }

  /** Whether the session exists and belongs to the user (one primary-key read, no lock). */
  async isOwnedBy(sessionId: string, userId: string): Promise<boolean> {
    const rows = await this.db.query(
      {
        name: 'history_session_owned',
        text: `SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2`,
      },
      [sessionId, userId],
    );
    return rows.length > 0;
  }

  async listAfter(sessionId: string, afterSeq: number, limit: number): Promise<SessionEvent[]> {
    const rows = await this.db.query<HistoryRow>(
      `SELECT ${HISTORY_COLUMNS}
       FROM chat_history WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [sessionId, afterSeq, limit],
    );
    return rows.map(toSessionEvent);
  }

  /** Events with from < seq < to (used to fill a gap seen on a live stream). */
  async listBetween(sessionId: string, fromSeq: number, toSeq: number): Promise<SessionEvent[]> {
    const rows = await this.db.query<HistoryRow>(
      `SELECT ${HISTORY_COLUMNS}
       FROM chat_history WHERE session_id = $1 AND seq > $2 AND seq < $3 ORDER BY seq`,
      [sessionId, fromSeq, toSeq],
    );
    return rows.map(toSessionEvent);
  }
}
