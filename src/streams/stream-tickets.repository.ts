import { Inject, Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';

/** The one owner of `stream_tickets`. */
@Injectable()
export class StreamTicketsRepository {
  constructor(@Inject(Database) private readonly db: Database) {}

  async insert(t: {
    ticketHash: string;
    userId: string;
    sessionId: string;
    expiresAt: Date;
  }): Promise<void> {
    await this.db.query(
      `INSERT INTO stream_tickets (ticket_hash, user_id, session_id, expires_at)
       VALUES ($1, $2, $3, $4)`,
      [t.ticketHash, t.userId, t.sessionId, t.expiresAt],
    );
  }

  /** The holder of an unused, unexpired ticket; reads only (see `use`). */
  async findValid(ticketHash: string): Promise<{ userId: string; sessionId: string } | undefined> {
    const rows = await this.db.query<{ user_id: string; session_id: string }>(
      `SELECT user_id, session_id FROM stream_tickets
       WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > now()`,
      [ticketHash],
    );
    const row = rows[0];
    return row ? { userId: row.user_id, sessionId: row.session_id } : undefined;
  }

  /** Marks the ticket used if it is still unused and unexpired; one caller wins, on any node. */
  async use(ticketHash: string): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE stream_tickets SET used_at = now()
       WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > now()`,
      [ticketHash],
    );
    return r.rowCount === 1;
  }

  async deleteExpiredBefore(cutoff: Date): Promise<void> {
    await this.db.query(`DELETE FROM stream_tickets WHERE expires_at < $1`, [cutoff]);
  }
}
