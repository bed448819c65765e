import { Inject, Injectable } from '@nestjs/common';
import type { InteractionKind } from '../contracts/events.js';
import { Database } from '../database/database.js';
import { INTERACTION_COLUMNS, RUN_COLUMNS, type RunRow } from './runs.repository.js';
import type { AnsweredRow } from './runs.store.js';

/**
 * The SQL of parked runs: runs waiting on a question that no process holds (`parked_at` set).
 * Parking and adopting are single conditional UPDATEs, so a run is held by one node at a time:
 * the node that parks it must hold it (or find it stale), and a node adopts it only while it is
 * parked, still waiting, and its questions are all answered.
 */
@Injectable()
export class PausedRunsStore {
  constructor(@Inject(Database) private readonly db: Database) {}

  /**
   * Lets go of a waiting run held by `nodeId` (and, for a takeover, not renewed since
   * `staleBefore`). Only a run paused at a tool call's question (its checkpoint says where) can
   * be picked up again by replaying to that question; false for any other.
   */
  async park(runId: string, nodeId: string, staleBefore?: Date): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE runs SET parked_at = now()
        WHERE id = $1 AND status = 'awaiting_input' AND parked_at IS NULL AND node_id = $2
          AND ($3::timestamptz IS NULL OR heartbeat_at < $3)
          AND jsonb_typeof(checkpoint->'pausedAt') = 'object'`,
      [runId, nodeId, staleBefore ?? null],
    );
    return r.rowCount === 1;
  }

  /**
   * A waiting run this node held, answered in the very moment the node began to stop: moved back
   * to waiting and parked at once. Only for an execution stopped before it acted on the answer
   * (RunExecution.shutdown): the adopting node replays to the same answered question.
   */
  async repark(runId: string, nodeId: string): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE runs SET status = 'awaiting_input', parked_at = now()
        WHERE id = $1 AND status = 'running' AND parked_at IS NULL AND node_id = $2
          AND jsonb_typeof(checkpoint->'pausedAt') = 'object'`,
      [runId, nodeId],
    );
    return r.rowCount === 1;
  }

  /** Takes a parked run whose questions are all answered for `nodeId`; the row when this won. */
  async adopt(runId: string, nodeId: string): Promise<RunRow | undefined> {
    const rows = await this.db.query<RunRow>(
      `UPDATE runs SET node_id = $2, parked_at = NULL, heartbeat_at = now()
        WHERE id = $1 AND status = 'awaiting_input' AND parked_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM interactions i WHERE i.run_id = $1 AND i.resolved_at IS NULL)
        RETURNING ${RUN_COLUMNS}`,
      [runId, nodeId],
    );
    return rows[0];
  }

  /** Parked runs ready to go on (every question of theirs answered), oldest parked first. */
  async ready(limit: number): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT r.id FROM runs r
        WHERE r.parked_at IS NOT NULL AND r.status = 'awaiting_input'
          AND NOT EXISTS (SELECT 1 FROM interactions i WHERE i.run_id = r.id AND i.resolved_at IS NULL)
        ORDER BY r.parked_at LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  /** The question a tool call of the run asked (what a run replaying to it waits on). */
  async question(
    runId: string,
    callKey: string,
    kind: InteractionKind,
  ): Promise<AnsweredRow | undefined> {
    const rows = await this.db.query<AnsweredRow>(
      `SELECT ${INTERACTION_COLUMNS}, response
         FROM interactions WHERE run_id = $1 AND call_key = $2 AND kind = $3
        ORDER BY created_at DESC LIMIT 1`,
      [runId, callKey, kind],
    );
    return rows[0];
  }
}
