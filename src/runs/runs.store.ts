import { Inject, Injectable } from '@nestjs/common';
import type { InteractionKind, InteractionOutcome } from '../contracts/events.js';
import { Database } from '../database/database.js';
import {
  INTERACTION_COLUMNS,
  type InteractionRow,
  RUN_COLUMNS,
  type RunRow,
} from './runs.repository.js';
import {
  ACTIVE_RUN_STATUSES,
  type IntentStatus,
  type RunStatus,
  isActiveRunStatus,
} from '../contracts/session.js';
import { INTENT_TRANSITIONS, RUN_TRANSITIONS } from './run-states.js';

export interface IntentRow {
  id: string;
  session_id: string;
  user_id: string;
  status: IntentStatus;
  content: string;
}

/** A stored interaction with the answer it got (the database row is the truth about answers). */
export interface AnsweredRow extends InteractionRow {
  response: unknown;
  /** The span that asked it (W3C traceparent), when traced; read by findInteraction only. */
  trace_parent?: string | null;
}

/**
 * The SQL of the run lifecycle: the only writer of runs, intents and interactions. Every state
 * change is one conditional UPDATE whose `from` comes from the transition table. Queries run in
 * the ambient transaction when there is one (RunLifecycle opens them).
 */
@Injectable()
export class RunsStore {
  constructor(@Inject(Database) private readonly db: Database) {}

  /** A new intent and its first (running) run, in one statement: one round trip on the send path. */
  async insertIntentWithRun(
    i: {
      id: string;
      sessionId: string;
      userId: string;
      content: string;
      parentIntentId: string | null;
      messageSeq: number;
    },
    r: { id: string; attempt: number; nodeId: string; checkpoint: object },
  ): Promise<RunRow> {
    const rows = await this.db.query<RunRow>(
      `WITH intent AS (
         INSERT INTO intents (id, session_id, user_id, content, parent_intent_id, message_seq)
         VALUES ($1, $2, $3, $4, $9, $10) RETURNING id
       )
       INSERT INTO runs (id, intent_id, session_id, user_id, attempt, node_id, checkpoint)
       SELECT $5, intent.id, $2, $3, $6, $7, $8::jsonb FROM intent RETURNING ${RUN_COLUMNS}`,
      [
        i.id,
        i.sessionId,
        i.userId,
        i.content,
        r.id,
        r.attempt,
        r.nodeId,
        JSON.stringify(r.checkpoint),
        i.parentIntentId,
        i.messageSeq,
      ],
    );
    return rows[0];
  }

  /** Inserts a running run; the partial unique index rejects a second active run of the session. */
  async insertRun(r: {
    id: string;
    intentId: string;
    sessionId: string;
    userId: string;
    attempt: number;
    nodeId: string;
    checkpoint: object;
  }): Promise<RunRow> {
    const rows = await this.db.query<RunRow>(
      `INSERT INTO runs (id, intent_id, session_id, user_id, attempt, node_id, checkpoint)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING ${RUN_COLUMNS}`,
      [r.id, r.intentId, r.sessionId, r.userId, r.attempt, r.nodeId, JSON.stringify(r.checkpoint)],
    );
    return rows[0];
  }

  /** The reason in the run's task_cancelled, if the log has one (a cancelled run's). */
  async cancelReason(runId: string): Promise<string | undefined> {
    const rows = await this.db.query<{ reason: string | null }>(
      `SELECT h.content->>'reason' AS reason FROM runs r
         JOIN chat_history h ON h.session_id = r.session_id AND h.run_id = r.id
        WHERE r.id = $1 AND r.status = 'cancelled' AND h.message_type = 'task_cancelled'`,
      [runId],
    );
    return rows[0]?.reason ?? undefined;
  }

  /**
   * Moves a run to `to` if it is in an allowed state (and, with `nodeId`, held by that node: not
   * parked); the row when this call won. A run that ends, or runs again, is no longer parked.
   *
   * A transition that ends a run (any `to` but running and awaiting_input) must run in a
   * transaction holding the run's session row lock (HistoryService.transaction), and write the
   * run's closing event in it: the run fence (HistoryRepository.appendBatch) reads `runs` under
   * that same lock, without a row lock of its own, and is right only because no run can end
   * while it holds the session lock. Every caller in RunLifecycle does so.
   */
  async transitionRun(
    runId: string,
    to: RunStatus,
    where: { nodeId?: string; staleBefore?: Date } = {},
  ): Promise<RunRow | undefined> {
    // The lock itself cannot be checked here; a transaction at least must be open.
    if (!isActiveRunStatus(to) && !this.db.inTransaction)
      throw new Error(`A run is ended (${to}) only in its session's transaction`);
    const rows = await this.db.query<RunRow>(
      `UPDATE runs SET status = $3, heartbeat_at = now(),
         ended_at = CASE WHEN $3 = ANY($6::text[]) THEN NULL ELSE now() END,
         parked_at = CASE WHEN $3 = 'awaiting_input' THEN parked_at ELSE NULL END
       WHERE id = $1 AND status = ANY($2::text[])
         AND ($4::text IS NULL OR (node_id = $4 AND parked_at IS NULL))
         AND ($5::timestamptz IS NULL OR heartbeat_at < $5)
         AND ($3 <> 'running' OR parked_at IS NULL)
       RETURNING ${RUN_COLUMNS}`,
      [
        runId,
        RUN_TRANSITIONS[to],
        to,
        where.nodeId ?? null,
        where.staleBefore ?? null,
        ACTIVE_RUN_STATUSES,
      ],
    );
    return rows[0];
  }

  async transitionIntent(intentId: string, to: IntentStatus): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE intents SET status = $3, ended_at = CASE WHEN $3 = 'active' THEN NULL ELSE now() END
       WHERE id = $1 AND status = ANY($2::text[])`,
      [intentId, INTENT_TRANSITIONS[to], to],
    );
    return r.rowCount === 1;
  }

  async findIntent(id: string, lock = false): Promise<IntentRow | undefined> {
    const rows = await this.db.query<IntentRow>(
      `SELECT id, session_id, user_id, status, content FROM intents WHERE id = $1
       ${lock ? 'FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0];
  }

  /** Locks a run row for the rest of the transaction. */
  async lockRun(runId: string): Promise<RunRow | undefined> {
    const rows = await this.db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1 FOR UPDATE`,
      [runId],
    );
    return rows[0];
  }

  async lastRun(intentId: string): Promise<RunRow | undefined> {
    const rows = await this.db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE intent_id = $1 ORDER BY attempt DESC LIMIT 1`,
      [intentId],
    );
    return rows[0];
  }

  async activeRun(sessionId: string): Promise<RunRow | undefined> {
    const rows = await this.db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE session_id = $1 AND status = ANY($2::text[])`,
      [sessionId, ACTIVE_RUN_STATUSES],
    );
    return rows[0];
  }

  /** Saves the transcript of a run that is still active; false once it is not. */
  async saveCheckpoint(runId: string, checkpoint: object): Promise<boolean> {
    const r = await this.db.execute(
      `UPDATE runs SET checkpoint = coalesce(checkpoint, '{}'::jsonb) || $2::jsonb,
         heartbeat_at = now()
       WHERE id = $1 AND status = ANY($3::text[])`,
      [runId, JSON.stringify(checkpoint), ACTIVE_RUN_STATUSES],
    );
    return r.rowCount === 1;
  }

  /** Renews the given runs of this node; returns the ids still active and ours. */
  async heartbeat(nodeId: string, runIds: string[]): Promise<string[]> {
    if (runIds.length === 0) return [];
    const rows = await this.db.query<{ id: string }>(
      `UPDATE runs SET heartbeat_at = now()
       WHERE id = ANY($1::uuid[]) AND node_id = $2 AND status = ANY($3::text[])
         AND parked_at IS NULL
       RETURNING id`,
      [runIds, nodeId, ACTIVE_RUN_STATUSES],
    );
    return rows.map((r) => r.id);
  }

  /** Active runs not renewed since `staleBefore` (of other nodes unless `anyNode`), not parked. */
  async staleRuns(opts: {
    nodeId: string;
    staleBefore: Date;
    anyNode: boolean;
  }): Promise<RunRow[]> {
    return this.db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs
       WHERE status = ANY($4::text[]) AND heartbeat_at < $2 AND ($3 OR node_id <> $1)
         AND parked_at IS NULL
       ORDER BY started_at LIMIT 100`,
      [opts.nodeId, opts.staleBefore, opts.anyNode, ACTIVE_RUN_STATUSES],
    );
  }

  async insertInteraction(i: {
    id: string;
    runId: string;
    intentId: string;
    sessionId: string;
    kind: InteractionKind;
    payload: object;
    expiresAt: Date;
    /** The tool call that asks it (its ledger key), for a run that adopts the question. */
    callKey?: string;
    /** The span that asks it (W3C traceparent), so that its answer joins the run's trace. */
    traceparent?: string;
  }): Promise<void> {
    await this.db.query(
      `INSERT INTO interactions (id, run_id, intent_id, session_id, kind, payload, expires_at, call_key, trace_parent)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)`,
      [
        i.id,
        i.runId,
        i.intentId,
        i.sessionId,
        i.kind,
        JSON.stringify(i.payload),
        i.expiresAt,
        i.callKey ?? null,
        i.traceparent ?? null,
      ],
    );
  }

  async findInteraction(id: string): Promise<AnsweredRow | undefined> {
    const rows = await this.db.query<AnsweredRow>(
      `SELECT ${INTERACTION_COLUMNS}, response, trace_parent FROM interactions WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  /** Of the given interactions, those already resolved (what a waiting run may have missed). */
  async resolvedAmong(ids: string[]): Promise<AnsweredRow[]> {
    if (ids.length === 0) return [];
    return this.db.query<AnsweredRow>(
      `SELECT ${INTERACTION_COLUMNS}, response FROM interactions
       WHERE id = ANY($1::uuid[]) AND resolved_at IS NOT NULL`,
      [ids],
    );
  }

  async pendingOf(where: {
    sessionId?: string;
    intentId?: string;
    kind?: InteractionKind;
  }): Promise<InteractionRow[]> {
    return this.db.query<InteractionRow>(
      `SELECT ${INTERACTION_COLUMNS} FROM interactions
       WHERE resolved_at IS NULL AND ($1::uuid IS NULL OR session_id = $1)
         AND ($2::uuid IS NULL OR intent_id = $2) AND ($3::text IS NULL OR kind = $3)
       ORDER BY created_at DESC`,
      [where.sessionId ?? null, where.intentId ?? null, where.kind ?? null],
    );
  }

  async expiredUnresolved(limit: number): Promise<InteractionRow[]> {
    return this.db.query<InteractionRow>(
      `SELECT ${INTERACTION_COLUMNS} FROM interactions WHERE resolved_at IS NULL AND expires_at <= now()
       ORDER BY expires_at LIMIT $1`,
      [limit],
    );
  }

  /**
   * Resolves an interaction if nobody did yet: the single conditional UPDATE is what makes the
   * first answer win across tabs and nodes. Returns the row when this call won.
   */
  async resolveInteraction(
    id: string,
    outcome: InteractionOutcome,
    resolvedBy: string | null,
    response: unknown,
  ): Promise<InteractionRow | undefined> {
    const rows = await this.db.query<InteractionRow>(
      `UPDATE interactions SET resolved_at = now(), outcome = $2, resolved_by = $3, response = $4::jsonb
       WHERE id = $1 AND resolved_at IS NULL RETURNING ${INTERACTION_COLUMNS}`,
      [id, outcome, resolvedBy, response === undefined ? null : JSON.stringify(response)],
    );
    return rows[0];
  }

  /** Resolves every open interaction of a session; returns those it resolved. */
  async resolveAllPending(
    sessionId: string,
    outcome: InteractionOutcome,
  ): Promise<InteractionRow[]> {
    return this.db.query<InteractionRow>(
      `UPDATE interactions SET resolved_at = now(), outcome = $2
       WHERE session_id = $1 AND resolved_at IS NULL RETURNING ${INTERACTION_COLUMNS}`,
      [sessionId, outcome],
    );
  }
}
