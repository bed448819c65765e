import { Inject, Injectable } from '@nestjs/common';
import { Database } from '../../database/database.js';

/**
 * The idempotency key of a tool call: the intent, where in the intent's transcript the model
 * asked for it (the index of that assistant message), which call of that message, and the tool.
 * A retry or resume is a new run of the same intent that starts from the last checkpointed
 * transcript, so the call it repeats sits at the same place and gets the same key; the run id
 * would not do (it changes with every attempt), nor the model's call id (a new one per answer).
 */
export function toolCallKey(
  intentId: string,
  transcriptIndex: number,
  callIndex: number,
  tool: string,
): string {
  return `${intentId}:${transcriptIndex}:${callIndex}:${tool}`;
}

/** A call about to run: whose it is, and the arguments it runs with (after any edit). */
interface ToolCallClaim {
  intentId: string;
  runId: string;
  tool: string;
  arguments: Record<string, unknown>;
}

/** A call that ran to the end: the result the model read, and the arguments it ran with. */
interface CompletedCall {
  result: string;
  /** Absent for calls recorded before the arguments were kept. */
  arguments?: Record<string, unknown>;
}

/**
 * Tool calls by idempotency key: begun (recorded before the side effect, with the arguments it runs
 * with) and completed (with the result the model read). A repeated call whose first run completed
 * gets that result and those arguments back without running again; one begun but not completed runs again, and the tool itself makes
 * that safe by passing the key on (create_reminder stores one reminder per key).
 */
@Injectable()
export class ToolCallLedger {
  constructor(@Inject(Database) private readonly db: Database) {}

  /** A completed call's result (as the model read it) and the arguments it ran with, if stored. */
  async completed(key: string): Promise<CompletedCall | undefined> {
    const rows = await this.db.query<{ result: unknown; arguments: unknown }>(
      `SELECT result, arguments FROM tool_calls
        WHERE idempotency_key = $1 AND completed_at IS NOT NULL`,
      [key],
    );
    const row = rows[0];
    if (!row) return undefined;
    const args = row.arguments;
    return {
      result: JSON.stringify(row.result),
      ...(typeof args === 'object' && args !== null && !Array.isArray(args)
        ? { arguments: args as Record<string, unknown> }
        : {}),
    };
  }

  /** Records the call before its side effect, with the arguments it runs with. */
  async begin(key: string, c: ToolCallClaim): Promise<void> {
    await this.db.query(
      `INSERT INTO tool_calls (idempotency_key, intent_id, run_id, tool, arguments)
       VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (idempotency_key) DO UPDATE
         SET run_id = EXCLUDED.run_id, arguments = EXCLUDED.arguments`,
      [key, c.intentId, c.runId, c.tool, JSON.stringify(c.arguments)],
    );
  }

  /**
   * `begin` for a call a standing grant approves, only while the grant is there: in one
   * transaction under the session row's lock, the lock a revoke deletes the grant under, so the
   * grant is read after any revoke that has answered. False (nothing recorded) when it is gone:
   * the call asks instead.
   */
  async beginByGrant(key: string, c: ToolCallClaim & { sessionId: string }): Promise<boolean> {
    return this.db.transaction(async () => {
      // A share lock: claims do not wait for each other, only for a revoke (FOR UPDATE).
      await this.db.query(`SELECT 1 FROM sessions WHERE id = $1 FOR SHARE`, [c.sessionId]);
      const rows = await this.db.query(
        `INSERT INTO tool_calls (idempotency_key, intent_id, run_id, tool, arguments)
         SELECT $1, $2, $3, $4, $6::jsonb
          WHERE EXISTS (SELECT 1 FROM approval_grants WHERE session_id = $5 AND tool = $4)
         ON CONFLICT (idempotency_key) DO UPDATE
           SET run_id = EXCLUDED.run_id, arguments = EXCLUDED.arguments
         RETURNING 1`,
        [key, c.intentId, c.runId, c.tool, c.sessionId, JSON.stringify(c.arguments)],
      );
      return rows.length > 0;
    });
  }

  async complete(key: string, content: string): Promise<void> {
    await this.db.query(
      `UPDATE tool_calls SET result = $2::jsonb, completed_at = now() WHERE idempotency_key = $1`,
      [key, content],
    );
  }
}
