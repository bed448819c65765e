import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { isUuid } from '../common/uuid.js';
import type { ApprovalGrantView } from '../contracts/rest.js';
import { Database } from '../database/database.js';
import { HistoryService } from '../history/history.service.js';

interface GrantRow {
  tool: string | null;
  granted_at: Date | null;
  granted_by_user: string | null;
  granted_by_connection: string | null;
  interaction_id: string | null;
}

/** Who made a grant, and with which answer. */
export interface GrantedBy {
  userId: string;
  connectionId?: string;
  interactionId: string;
}

function toView(r: GrantRow): ApprovalGrantView {
  return {
    tool: r.tool as string,
    scope: 'session',
    grantedAt: (r.granted_at as Date).toISOString(),
    grantedBy: {
      userId: r.granted_by_user as string,
      ...(r.granted_by_connection ? { connectionId: r.granted_by_connection } : {}),
    },
    interactionId: r.interaction_id as string,
  };
}

/**
 * Standing grants (`{approved: true, scope: "session"}`): one row per session and tool in
 * approval_grants, written only here: granted inside the transaction that resolves the
 * confirmation (InteractionLifecycle), revoked under the session lock, each with its event.
 * A run reads a grant when a tool needs confirmation; a revoke applies from the next call.
 */
@Injectable()
export class ApprovalGrants {
  constructor(
    @Inject(Database) private readonly db: Database,
    @Inject(HistoryService) private readonly history: HistoryService,
  ) {}

  /**
   * In the caller's session transaction, right after interaction_resolved: grants the tool for
   * the session (a grant already there is replaced by this newer answer) and writes
   * approval_granted.
   */
  async grantInTx(
    sessionId: string,
    tool: string,
    by: GrantedBy,
    ids: { runId: string; intentId: string },
  ): Promise<void> {
    await this.db.execute(
      `INSERT INTO approval_grants
         (session_id, tool, granted_by_user, granted_by_connection, interaction_id)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (session_id, tool) DO UPDATE SET granted_at = now(),
         granted_by_user = EXCLUDED.granted_by_user,
         granted_by_connection = EXCLUDED.granted_by_connection,
         interaction_id = EXCLUDED.interaction_id`,
      [sessionId, tool, by.userId, by.connectionId ?? null, by.interactionId],
    );
    await this.history.append(sessionId, [
      {
        type: 'approval_granted',
        data: { tool, scope: 'session', interactionId: by.interactionId },
        ...ids,
        ...(by.connectionId ? { connectionId: by.connectionId } : {}),
      },
    ]);
  }

  /** Whether the session holds a standing grant of the tool (read when the tool would ask). */
  async has(sessionId: string, tool: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM approval_grants WHERE session_id = $1 AND tool = $2`,
      [sessionId, tool],
    );
    return rows.length > 0;
  }

  /** The grants of a session of this user, oldest first; NOT_FOUND for another user's session. */
  async list(sessionId: string, userId: string): Promise<ApprovalGrantView[]> {
    if (!isUuid(sessionId)) throw DomainError.notFound('Session');
    // One read: the session row (whose owner is checked) with its grants, if any.
    const rows = await this.db.query<GrantRow>(
      `SELECT g.tool, g.granted_at, g.granted_by_user, g.granted_by_connection, g.interaction_id
         FROM sessions s LEFT JOIN approval_grants g ON g.session_id = s.id
        WHERE s.id = $1 AND s.user_id = $2
        ORDER BY g.granted_at, g.tool`,
      [sessionId, userId],
    );
    if (rows.length === 0) throw DomainError.notFound('Session');
    return rows.filter((r) => r.tool !== null).map(toView);
  }

  /**
   * `DELETE /sessions/:id/approvals/:tool`: the grant goes and approval_revoked is written, in
   * one transaction under the session lock. NOT_FOUND when there is no such grant (or the
   * session is another user's); SESSION_CLOSED in a closed session (its log ends at its close).
   */
  async revoke(sessionId: string, tool: string, userId: string): Promise<void> {
    if (!isUuid(sessionId)) throw DomainError.notFound('Session');
    await this.history.transaction(
      sessionId,
      async (locked) => {
        if (locked?.userId !== userId) throw DomainError.notFound('Session');
        if (locked.status !== 'active')
          throw new DomainError('SESSION_CLOSED', 'This session is closed');
        const gone = await this.db.query(
          `DELETE FROM approval_grants WHERE session_id = $1 AND tool = $2 RETURNING tool`,
          [sessionId, tool],
        );
        if (gone.length === 0) throw DomainError.notFound('Grant');
        await this.history.append(sessionId, [{ type: 'approval_revoked', data: { tool } }]);
      },
      userId,
    );
  }
}
