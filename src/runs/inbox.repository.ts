import { Inject, Injectable } from '@nestjs/common';
import type { InteractionKind } from '../contracts/events.js';
import { keysetPage, type Page } from '../common/page.js';
import { Database } from '../database/database.js';

export interface PendingInteractionRow {
  id: string;
  session_id: string;
  session_title: string | null;
  kind: InteractionKind;
  payload: Record<string, unknown>;
  created_at: Date;
  expires_at: Date;
}

/** Whose an interaction is and what kind: who gets its `inbox` events. */
export interface InteractionOwner {
  user_id: string;
  kind: InteractionKind;
}

/**
 * The open questions with their session's owner and title. A derived table, because the keyset
 * page orders and filters by bare `created_at, id` (a join would make them ambiguous); the
 * planner pushes `user_id` down to the sessions' index, and only open interactions are read
 * (interactions_session_pending_idx holds nothing else).
 */
const PENDING = `(
  SELECT i.id, i.session_id, s.title AS session_title, s.user_id, i.kind, i.payload,
         i.created_at, i.expires_at
  FROM interactions i JOIN sessions s ON s.id = i.session_id
  WHERE i.resolved_at IS NULL) pending`;

/** Reads of interactions across a user's sessions: the inbox (RunsStore is their writer). */
@Injectable()
export class InboxRepository {
  constructor(@Inject(Database) private readonly db: Database) {}

  /** The user's open questions, oldest first, keyset-paged on (created_at, id). */
  pending(
    userId: string,
    q: { limit: number; cursor?: string },
  ): Promise<Page<PendingInteractionRow>> {
    return keysetPage<PendingInteractionRow>(this.db, {
      columns: 'id, session_id, session_title, kind, payload, created_at, expires_at',
      table: PENDING,
      equal: { user_id: userId },
      orderBy: 'created_at',
      descending: false,
      limit: q.limit,
      cursor: q.cursor,
    });
  }

  /**
   * Read after the interaction's event committed, outside any transaction the caller may be in
   * (a listener of committed events runs wherever the publisher was).
   */
  async ownerOf(interactionId: string): Promise<InteractionOwner | undefined> {
    const rows = await this.db.detached(() =>
      this.db.query<InteractionOwner>(
        `SELECT s.user_id, i.kind FROM interactions i JOIN sessions s ON s.id = i.session_id
         WHERE i.id = $1`,
        [interactionId],
      ),
    );
    return rows[0];
  }
}
