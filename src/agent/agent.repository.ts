import { Inject, Injectable } from '@nestjs/common';
import type { InteractionKind } from '../contracts/events.js';
import { Database } from '../database/database.js';
import type { SqlExecutor } from '../database/sql-executor.js';
import type { InteractionRow, RunRow } from '../sessions/runs.repository.js';
import type { IntentStatus, RunStatus } from '../sessions/session.types.js';
import type { TranscriptMessage } from './providers/provider.js';

export interface IntentRow {
  id: string;
  session_id: string;
  user_id: string;
  status: IntentStatus;
  content: string;
}

export interface Checkpoint {
  transcript: TranscriptMessage[];
}

const RUN_COLUMNS =
  'id, intent_id, session_id, user_id, attempt, status, node_id, started_at, ended_at, checkpoint';
const INTERACTION_COLUMNS =
  'id, run_id, intent_id, session_id, kind, payload, expires_at, resolved_at, outcome';

/** The agent's writes to intents, runs, interactions and client_messages. */
@Injectable()
export class AgentRepository {
  constructor(@Inject(Database) private readonly db: Database) {}

  async insertIntent(
    i: { id: string; sessionId: string; userId: string; content: string },
    tx: SqlExecutor,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO intents (id, session_id, user_id, content) VALUES ($1, $2, $3, $4)`,
      [i.id, i.sessionId, i.userId, i.content],
    );
  }

  /** Inserts a running run; the partial unique index rejects a second active run of the session. */
  async insertRun(
    r: {
      id: string;
      intentId: string;
      sessionId: string;
      userId: string;
      attempt: number;
      nodeId: string;
      checkpoint: Checkpoint;
    },
    tx: SqlExecutor = this.db,
  ): Promise<RunRow> {
    const rows = await tx.query<RunRow>(
      `INSERT INTO runs (id, intent_id, session_id, user_id, attempt, node_id, checkpoint)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING ${RUN_COLUMNS}`,
      [r.id, r.intentId, r.sessionId, r.userId, r.attempt, r.nodeId, JSON.stringify(r.checkpoint)],
    );
    return rows[0];
  }

  async findIntent(id: string, tx: SqlExecutor = this.db): Promise<IntentRow | undefined> {
    const rows = await tx.query<IntentRow>(
      `SELECT id, session_id, user_id, status, content FROM intents WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async lockIntent(id: string, tx: SqlExecutor): Promise<IntentRow | undefined> {
    const rows = await tx.query<IntentRow>(
      `SELECT id, session_id, user_id, status, content FROM intents WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0];
  }

  async lastRun(intentId: string, tx: SqlExecutor = this.db): Promise<RunRow | undefined> {
    const rows = await tx.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE intent_id = $1 ORDER BY attempt DESC LIMIT 1`,
      [intentId],
    );
    return rows[0];
  }

  async setRunStatus(runId: string, from: RunStatus[], to: RunStatus): Promise<boolean> {
    const ended = ['completed', 'cancelled', 'failed', 'interrupted'].includes(to);
    const r = await this.db.execute(
      `UPDATE runs SET status = $3, ended_at = CASE WHEN $4 THEN now() ELSE ended_at END, heartbeat_at = now()
       WHERE id = $1 AND status = ANY($2::text[])`,
      [runId, from, to, ended],
    );
    return r.rowCount === 1;
  }

  async setIntentStatus(
    intentId: string,
    from: IntentStatus[],
    to: IntentStatus,
    tx: SqlExecutor = this.db,
  ): Promise<boolean> {
    const r = await tx.execute(
      `UPDATE intents SET status = $3, ended_at = CASE WHEN $3 = 'active' THEN NULL ELSE now() END
       WHERE id = $1 AND status = ANY($2::text[])`,
      [intentId, from, to],
    );
    return r.rowCount === 1;
  }

  async saveCheckpoint(runId: string, checkpoint: Checkpoint): Promise<void> {
    await this.db.query(
      `UPDATE runs SET checkpoint = $2::jsonb, heartbeat_at = now() WHERE id = $1`,
      [runId, JSON.stringify(checkpoint)],
    );
  }

  async heartbeat(nodeId: string): Promise<void> {
    await this.db.query(
      `UPDATE runs SET heartbeat_at = now() WHERE node_id = $1 AND status IN ('running', 'awaiting_input')`,
      [nodeId],
    );
  }

  async insertInteraction(
    i: {
      id: string;
      runId: string;
      intentId: string;
      sessionId: string;
      kind: InteractionKind;
      payload: object;
      expiresAt: Date;
    },
    tx: SqlExecutor = this.db,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO interactions (id, run_id, intent_id, session_id, kind, payload, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)`,
      [i.id, i.runId, i.intentId, i.sessionId, i.kind, JSON.stringify(i.payload), i.expiresAt],
    );
  }

  async findInteraction(id: string): Promise<InteractionRow | undefined> {
    const rows = await this.db.query<InteractionRow>(
      `SELECT ${INTERACTION_COLUMNS} FROM interactions WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async pendingRetryOfSession(
    sessionId: string,
    tx: SqlExecutor = this.db,
  ): Promise<InteractionRow | undefined> {
    const rows = await tx.query<InteractionRow>(
      `SELECT ${INTERACTION_COLUMNS} FROM interactions
       WHERE session_id = $1 AND kind = 'retry' AND resolved_at IS NULL ORDER BY created_at DESC LIMIT 1`,
      [sessionId],
    );
    return rows[0];
  }

  async pendingOfIntent(intentId: string, tx: SqlExecutor = this.db): Promise<InteractionRow[]> {
    return tx.query<InteractionRow>(
      `SELECT ${INTERACTION_COLUMNS} FROM interactions WHERE intent_id = $1 AND resolved_at IS NULL`,
      [intentId],
    );
  }

  async expiredUnresolved(limit: number): Promise<InteractionRow[]> {
    return this.db.query<InteractionRow>(
      `SELECT ${INTERACTION_COLUMNS} FROM interactions WHERE resolved_at IS NULL AND expires_at <= now()
       ORDER BY expires_at LIMIT $1`,
      [limit],
    );
  }

  /** Runs left active by a process that is gone; marks them interrupted and returns them. */
  async interruptRuns(where: {
    nodeId?: string;
    staleBefore?: Date;
    all?: boolean;
  }): Promise<RunRow[]> {
    if (where.all) {
      return this.db.query<RunRow>(
        `UPDATE runs SET status = 'interrupted', ended_at = now()
         WHERE status IN ('running', 'awaiting_input') RETURNING ${RUN_COLUMNS}`,
      );
    }
    return this.db.query<RunRow>(
      `UPDATE runs SET status = 'interrupted', ended_at = now()
       WHERE status IN ('running', 'awaiting_input') AND node_id <> $1 AND heartbeat_at < $2
       RETURNING ${RUN_COLUMNS}`,
      [where.nodeId ?? '', where.staleBefore ?? new Date(0)],
    );
  }

  async findClientMessage(
    sessionId: string,
    clientMessageId: string,
    tx: SqlExecutor = this.db,
  ): Promise<Record<string, unknown> | undefined> {
    const rows = await tx.query<{ ack: Record<string, unknown> }>(
      `SELECT ack FROM client_messages WHERE session_id = $1 AND client_message_id = $2`,
      [sessionId, clientMessageId],
    );
    return rows[0]?.ack;
  }

  /** Claims a client message id; false when the id was already used in this session. */
  async claimClientMessage(
    sessionId: string,
    clientMessageId: string,
    ack: object,
    tx: SqlExecutor,
  ): Promise<boolean> {
    const r = await tx.execute(
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
