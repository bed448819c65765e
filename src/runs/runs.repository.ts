import { Inject, Injectable } from '@nestjs/common';
import type { InteractionKind, InteractionOutcome } from '../contracts/events.js';
import { ACTIVE_RUN_STATUSES } from '../contracts/session.js';
import { keysetPage, type Page } from '../common/page.js';
import { Database } from '../database/database.js';
import type { SqlExecutor } from '../database/sql-executor.js';
import type { InteractionView, RunStatus, RunView } from '../contracts/session.js';

export interface RunRow {
  id: string;
  intent_id: string;
  session_id: string;
  user_id: string;
  attempt: number;
  status: RunStatus;
  node_id: string;
  /** Set while no node holds the run: it waits on a question (PausedRuns). */
  parked_at: Date | null;
  started_at: Date;
  ended_at: Date | null;
  checkpoint: unknown;
}

export interface InteractionRow {
  id: string;
  run_id: string;
  intent_id: string;
  session_id: string;
  kind: InteractionKind;
  payload: Record<string, unknown>;
  expires_at: Date;
  resolved_at: Date | null;
  outcome: InteractionOutcome | null;
}

/** The columns of a RunRow / InteractionRow, for every query of the run engine that returns one. */
export const RUN_COLUMNS =
  'id, intent_id, session_id, user_id, attempt, status, node_id, started_at, ended_at, checkpoint, parked_at';
export const INTERACTION_COLUMNS =
  'id, run_id, intent_id, session_id, kind, payload, expires_at, resolved_at, outcome';

export function toRunView(r: RunRow): RunView {
  return {
    id: r.id,
    intentId: r.intent_id,
    status: r.status,
    attempt: r.attempt,
    startedAt: new Date(r.started_at).toISOString(),
  };
}

export function toInteractionView(r: InteractionRow): InteractionView {
  return {
    id: r.id,
    kind: r.kind,
    runId: r.run_id,
    intentId: r.intent_id,
    expiresAt: new Date(r.expires_at).toISOString(),
    data: r.payload,
  };
}

/** Reads of runs and interactions for views (the RunLifecycle in src/runs is their only writer). */
@Injectable()
export class RunsRepository {
  constructor(@Inject(Database) private readonly db: Database) {}

  async findById(id: string): Promise<RunRow | undefined> {
    const rows = await this.db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1`, [id]);
    return rows[0];
  }

  /** Runs newest first, optionally of one status, keyset-paged on (started_at, id). */
  list(opts: { status?: RunStatus; limit: number; cursor?: string }): Promise<Page<RunRow>> {
    return keysetPage<RunRow>(this.db, {
      columns: RUN_COLUMNS,
      table: 'runs',
      equal: { status: opts.status },
      orderBy: 'started_at',
      descending: true,
      limit: opts.limit,
      cursor: opts.cursor,
    });
  }

  /** Active runs per owning node (for admin stats). */
  async activeByNode(): Promise<{ nodeId: string; activeRuns: number }[]> {
    const rows = await this.db.query<{ node_id: string; n: string }>(
      `SELECT node_id, count(*) AS n FROM runs WHERE status = ANY($1::text[])
       GROUP BY node_id ORDER BY node_id`,
      [ACTIVE_RUN_STATUSES],
    );
    return rows.map((r) => ({ nodeId: r.node_id, activeRuns: Number(r.n) }));
  }

  /** Sessions in which the user has a run going (to cancel them when the user is disabled). */
  async sessionsWithActiveRunOf(userId: string): Promise<string[]> {
    const rows = await this.db.query<{ session_id: string }>(
      `SELECT DISTINCT session_id FROM runs WHERE user_id = $1 AND status = ANY($2::text[])`,
      [userId, ACTIVE_RUN_STATUSES],
    );
    return rows.map((r) => r.session_id);
  }

  async activeRun(sessionId: string, tx: SqlExecutor = this.db): Promise<RunRow | undefined> {
    const rows = await tx.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE session_id = $1 AND status = ANY($2::text[])`,
      [sessionId, ACTIVE_RUN_STATUSES],
    );
    return rows[0];
  }

  async pendingInteraction(
    sessionId: string,
    tx: SqlExecutor = this.db,
  ): Promise<InteractionRow | undefined> {
    const rows = await tx.query<InteractionRow>(
      `SELECT ${INTERACTION_COLUMNS} FROM interactions
       WHERE session_id = $1 AND resolved_at IS NULL ORDER BY created_at DESC LIMIT 1`,
      [sessionId],
    );
    return rows[0];
  }
}
