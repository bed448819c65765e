import { Inject, Injectable } from '@nestjs/common';
import { Database } from '../../database/database.js';
import type { ConversationEntry } from './conversation-entry.js';

interface Row {
  seq: string;
  intent_id: string | null;
  run_id: string | null;
  message_type: string;
  content: Record<string, unknown>;
}

/** The events the memory is made of; of task_cancelled only a rollback matters. */
const WHERE_CONVERSATION = `message_type IN ('user_message', 'task_started', 'intent_dequeued',
    'response', 'generating', 'task_failed')
  OR (message_type = 'task_cancelled' AND content->>'reason' = 'rolled_back')`;

const COLUMNS = `seq, intent_id, run_id, message_type, content`;

/**
 * Reads what a conversation is made of from the session log (the truth): user messages with their
 * parent links, run starts, rollbacks and dequeues, responses and streamed text, each with the
 * intent it belongs to. Read-only; only history writes the log.
 */
@Injectable()
export class ConversationLogReader {
  constructor(@Inject(Database) private readonly db: Database) {}

  /**
   * The entries of the session's newest `intents` intents, oldest first: everything from the
   * message of the `intents`-th newest intent on (all of an intent's events follow its message).
   */
  async newest(sessionId: string, intents: number): Promise<ConversationEntry[]> {
    const rows = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM chat_history
       WHERE session_id = $1 AND (${WHERE_CONVERSATION})
         AND seq >= COALESCE((
           SELECT seq FROM chat_history WHERE session_id = $1 AND message_type = 'user_message'
           ORDER BY seq DESC OFFSET $2 LIMIT 1), 0)
       ORDER BY seq`,
      [sessionId, intents - 1],
    );
    return toEntries(rows);
  }

  /** At most `limit` entries written after `afterSeq`, oldest first. */
  async after(sessionId: string, afterSeq: number, limit: number): Promise<ConversationEntry[]> {
    const rows = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM chat_history
       WHERE session_id = $1 AND seq > $2 AND (${WHERE_CONVERSATION})
       ORDER BY seq LIMIT $3`,
      [sessionId, afterSeq, limit],
    );
    return toEntries(rows);
  }
}

function toEntries(rows: Row[]): ConversationEntry[] {
  const out: ConversationEntry[] = [];
  for (const r of rows) {
    const e = toEntry(r);
    if (e) out.push(e);
  }
  return out;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const parentOf = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function toEntry(r: Row): ConversationEntry | undefined {
  const seq = Number(r.seq);
  const c = r.content;
  // intent_dequeued names its intent in data (the column may be empty).
  const named = r.message_type === 'intent_dequeued' && typeof c.intentId === 'string';
  const intentId = named ? (c.intentId as string) : r.intent_id;
  if (intentId === null) return undefined;
  const base = { seq, intentId };
  // Older rows may lack a run id; the intent then stands for its one run.
  const runId = r.run_id ?? intentId;
  switch (r.message_type) {
    case 'user_message':
      return {
        ...base,
        kind: 'message',
        text: str(c.content),
        parentIntentId: 'parentIntentId' in c ? parentOf(c.parentIntentId) : undefined,
        queued: c.queued === true,
      };
    case 'task_started':
      return { ...base, kind: 'started' };
    case 'task_cancelled':
      return { ...base, kind: 'rolled_back' };
    case 'intent_dequeued':
      return { ...base, kind: 'dequeued' };
    case 'task_failed':
      return { ...base, kind: 'failed', runId };
    case 'response':
      return { ...base, kind: 'response', runId, text: str(c.content) };
    case 'generating':
      return { ...base, kind: 'delta', runId, text: str(c.delta) };
    default:
      return undefined;
  }
}
