import { Inject, Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';

/** The agent's own table: client_messages (idempotent sends); and the reminders list it shows. */
@Injectable()
export class AgentRepository {
  constructor(@Inject(Database) private readonly db: Database) {}

  async findClientMessage(
    sessionId: string,
    clientMessageId: string,
  ): Promise<Record<string, unknown> | undefined> {
    const rows = await this.db.query<{ ack: Record<string, unknown> }>(
      `SELECT ack FROM client_messages WHERE session_id = $1 AND client_message_id = $2`,
      [sessionId, clientMessageId],
    );
    return rows[0]?.ack;
  }

  /** The ack of a send with this client message id, if the session is that user's. */
  async findOwnClientMessage(
    sessionId: string,
    clientMessageId: string,
    userId: string,
  ): Promise<Record<string, unknown> | undefined> {
    const rows = await this.db.query<{ ack: Record<string, unknown> }>(
      `SELECT cm.ack FROM client_messages cm JOIN sessions s ON s.id = cm.session_id
        WHERE cm.session_id = $1 AND cm.client_message_id = $2 AND s.user_id = $3`,
      [sessionId, clientMessageId, userId],
    );
    return rows[0]?.ack;
  }

  /** Claims a client message id; false when the id was already used in this session. */
  async claimClientMessage(
    sessionId: string,
    clientMessageId: string,
    ack: object,
  ): Promise<boolean> {
    const r = await this.db.execute(
      `INSERT INTO client_messages (session_id, client_message_id, ack) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (session_id, client_message_id) DO NOTHING`,
      [sessionId, clientMessageId, JSON.stringify(ack)],
    );
    return r.rowCount === 1;
  }

  async completeClientMessage(
    sessionId: string,
    clientMessageId: string,
    ack: object,
  ): Promise<void> {
    await this.db.query(
      `UPDATE client_messages SET ack = $3::jsonb WHERE session_id = $1 AND client_message_id = $2`,
      [sessionId, clientMessageId, JSON.stringify(ack)],
    );
  }
}
