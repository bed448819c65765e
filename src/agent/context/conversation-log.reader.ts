import { Inject, Injectable } from '@nestjs/common';
import { Database } from '../../database/database.js';

export interface ConversationEntry {
  seq: number;
  intentId: string;
  kind: 'user' | 'response';
  text: string;
}

interface Row {
  seq: string;
  intent_id: string | null;
  message_type: 'user_message' | 'response';
  text: string | null;
}

const NEWEST_ON_FIRST_READ = 2000;

/**
 * Reads what a conversation is made of from the session log (the truth): the user messages and
 * final responses, with the intent each belongs to. Read-only; only history writes the log.
 */
@Injectable()
export class ConversationLogReader {
  constructor(@Inject(Database) private readonly db: Database) {}

  /** The newest entries of the session (bounded), oldest first. */
  async newest(sessionId: string): Promise<ConversationEntry[]> {
    const rows = await this.db.query<Row>(
      `SELECT seq, intent_id, message_type, content->>'content' AS text FROM chat_history
       WHERE session_id = $1 AND message_type IN ('user_message', 'response')
       ORDER BY seq DESC LIMIT $2`,
      [sessionId, NEWEST_ON_FIRST_READ],
    );
    return toEntries(rows.reverse());
  }

  /** Entries written after `afterSeq`, oldest first. */
  async after(sessionId: string, afterSeq: number): Promise<ConversationEntry[]> {
    const rows = await this.db.query<Row>(
      `SELECT seq, intent_id, message_type, content->>'content' AS text FROM chat_history
       WHERE session_id = $1 AND seq > $2 AND message_type IN ('user_message', 'response')
       ORDER BY seq`,
      [sessionId, afterSeq],
    );
    return toEntries(rows);
  }
}

function toEntries(rows: Row[]): ConversationEntry[] {
  return rows
    .filter((r): r is Row & { intent_id: string } => r.intent_id !== null)
    .map((r) => ({
      seq: Number(r.seq),
      intentId: r.intent_id,
      kind: r.message_type === 'user_message' ? 'user' : 'response',
      text: r.text ?? '',
    }));
}
