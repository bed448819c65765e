import { Inject, Injectable } from '@nestjs/common';
import { keysetPage, type Page } from '../common/page.js';
import { Database } from '../database/database.js';
import type { SqlExecutor } from '../database/sql-executor.js';
import { lockUserForLimits } from '../users/user-limits-lock.js';
import type { SessionStatus, SessionView } from '../contracts/session.js';

export interface SessionRow {
  id: string;
  user_id: string;
  title: string | null;
  status: SessionStatus;
  last_seq: string;
  created_at: Date;
  last_activity_at: Date;
}

const COLUMNS = 'id, user_id, title, status, last_seq, created_at, last_activity_at';

export function toSessionView(r: SessionRow): SessionView {
  return {
    id: r.id,
    title: r.title,
    status: r.status,
    createdAt: new Date(r.created_at).toISOString(),
    lastActivityAt: new Date(r.last_activity_at).toISOString(),
    lastSeq: Number(r.last_seq),
  };
}

@Injectable()
export class SessionsRepository {
  constructor(@Inject(Database) private readonly db: Database) {}

  async insert(s: { id: string; userId: string; title: string | null }): Promise<SessionRow> {
    const rows = await this.db.query<SessionRow>(
      `INSERT INTO sessions (id, user_id, title) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
      [s.id, s.userId, s.title],
    );
    return rows[0];
  }

  /**
   * How many active sessions the user has, counting up to `max` (enough to compare with it; the
   * partial index sessions_user_active_idx reads only the active ones). The user's row is locked
   * first (lockUserForLimits), so creates racing for the last slot are serialized on every node
   * until the caller's transaction ends.
   */
  async lockAndCountActive(userId: string, max: number): Promise<number> {
    await lockUserForLimits(this.db, userId);
    const rows = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM (
         SELECT 1 FROM sessions WHERE user_id = $1 AND status = 'active' LIMIT $2) s`,
      [userId, max],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async findById(id: string, tx: SqlExecutor = this.db): Promise<SessionRow | undefined> {
    const rows = await tx.query<SessionRow>(`SELECT ${COLUMNS} FROM sessions WHERE id = $1`, [id]);
    return rows[0];
  }

  /** Sets the title of the user's session; undefined when they have no such session. */
  async rename(id: string, userId: string, title: string): Promise<SessionRow | undefined> {
    const rows = await this.db.query<SessionRow>(
      `UPDATE sessions SET title = $3 WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
      [id, userId, title],
    );
    return rows[0];
  }

  /** Sessions by last activity, newest first, optionally of one user and status. */
  list(opts: {
    userId?: string;
    status?: SessionStatus;
    limit: number;
    cursor?: string;
  }): Promise<Page<SessionRow>> {
    return keysetPage<SessionRow>(this.db, {
      columns: COLUMNS,
      table: 'sessions',
      equal: { user_id: opts.userId, status: opts.status },
      orderBy: 'last_activity_at',
      descending: true,
      limit: opts.limit,
      cursor: opts.cursor,
    });
  }

  async totals(): Promise<{ users: number; sessions: number; activeSessions: number }> {
    const rows = await this.db.query<{ users: string; sessions: string; active: string }>(
      `SELECT (SELECT count(*) FROM users) AS users, count(*) AS sessions,
              count(*) FILTER (WHERE status = 'active') AS active FROM sessions`,
    );
    const r = rows[0];
    return {
      users: Number(r.users),
      sessions: Number(r.sessions),
      activeSessions: Number(r.active),
    };
  }

  /** Marks the session closed (in the caller's transaction); false when it was not active. */
  async close(id: string): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE sessions SET status = 'closed', version = version + 1
       WHERE id = $1 AND status = 'active'`,
      [id],
    );
    return r.rowCount === 1;
  }

  /**
   * Whether the session's log holds `session_closed`: a close completed once. A closed session
   * without it was left half-closed by an older version (its status changed, its event never
   * written). Whatever an older version wrote after the event is left as it is: a second
   * `session_closed` would break "exactly one, and last".
   */
  async hasClosedEvent(id: string): Promise<boolean> {
    const rows = await this.db.query<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM chat_history
                       WHERE session_id = $1 AND message_type = 'session_closed') AS found`,
      [id],
    );
    return rows[0]?.found === true;
  }

  /**
   * Active sessions idle since before `cutoff`, not watched by any node and not already expired
   * since their last activity. Sessions with an empty log have nothing to expire.
   */
  async findIdle(cutoff: Date, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM sessions
       WHERE status = 'active' AND last_activity_at < $1 AND last_seq > 0
         AND (expired_at IS NULL OR expired_at < last_activity_at)
         AND (watched_until IS NULL OR watched_until < now())
       ORDER BY last_activity_at LIMIT $2`,
      [cutoff, limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Claims the expiry of one session: exactly one caller (of any node) gets the row back, and
   * only while the session is still idle and unwatched.
   */
  async claimExpiry(id: string, cutoff: Date): Promise<{ lastActivityAt: Date } | undefined> {
    const rows = await this.db.query<{ last_activity_at: Date }>(
      `UPDATE sessions SET expired_at = now()
       WHERE id = $1 AND status = 'active' AND last_activity_at < $2
         AND (expired_at IS NULL OR expired_at < last_activity_at)
         AND (watched_until IS NULL OR watched_until < now())
       RETURNING last_activity_at`,
      [id, cutoff],
    );
    return rows[0] && { lastActivityAt: new Date(rows[0].last_activity_at) };
  }

  /** Marks sessions as watched (a socket or stream is on them) until `until`, for every node's sweeper. */
  async markWatched(ids: string[], until: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`UPDATE sessions SET watched_until = $2 WHERE id = ANY($1::uuid[])`, [
      ids,
      until,
    ]);
  }
}
