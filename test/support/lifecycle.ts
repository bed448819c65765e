import type { Database } from '../../src/database/database.js';

export interface LogRow {
  seq: number;
  type: string;
  runId: string | null;
  intentId: string | null;
  data: any;
}

const CLOSING = ['task_completed', 'task_cancelled', 'task_failed'];

/** A session's log as stored (the truth every client replays). */
export async function storedLog(db: Database, sessionId: string): Promise<LogRow[]> {
  const rows = await db.query<{
    seq: string;
    message_type: string;
    run_id: string | null;
    intent_id: string | null;
    content: any;
  }>(
    `SELECT seq, message_type, run_id, intent_id, content FROM chat_history
     WHERE session_id = $1 ORDER BY seq`,
    [sessionId],
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    type: r.message_type,
    runId: r.run_id,
    intentId: r.intent_id,
    data: r.content,
  }));
}

/** Polls `probe` until it returns a truthy value (a condition, not a timing guess). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once the session has no active run and every run of it has its closing event. */
export function settled(db: Database, sessionId: string, timeoutMs?: number): Promise<LogRow[]> {
  return waitFor(async () => {
    const active = await db.query(
      `SELECT 1 FROM runs WHERE session_id = $1 AND status IN ('running', 'awaiting_input')`,
      [sessionId],
    );
    if (active.length) return undefined;
    const runs = await db.query<{ id: string }>(`SELECT id FROM runs WHERE session_id = $1`, [
      sessionId,
    ]);
    const log = await storedLog(db, sessionId);
    const closed = runs.every((r) => log.some((e) => e.runId === r.id && CLOSING.includes(e.type)));
    return closed ? log : undefined;
  }, timeoutMs);
}

/**
 * The lifecycle invariants, read from the log: seqs 1..n; per run exactly one closing event and
 * nothing of the run after it; at most one open run at any point of the log.
 */
export function lifecycleProblems(log: LogRow[]): string[] {
  const problems: string[] = [];
  log.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`seq ${e.seq} at position ${i + 1}`);
  });
  const closedAt = new Map<string, number>();
  const open = new Set<string>();
  const offers = new Set<string>();
  for (const e of log) {
    if (!e.runId) continue;
    if (closedAt.has(e.runId)) {
      // The answer to the retry offer its task_failed made is the one thing allowed after it.
      if (e.type === 'interaction_resolved' && offers.has(e.data?.interactionId)) continue;
      problems.push(`${e.type} (seq ${e.seq}) after the run's closing event`);
      continue;
    }
    if (e.type === 'task_started') open.add(e.runId);
    if (CLOSING.includes(e.type)) {
      if (e.data?.canRetry) offers.add(e.data.interactionId);
      closedAt.set(e.runId, e.seq);
      open.delete(e.runId);
    }
    if (open.size > 1) problems.push(`two open runs at seq ${e.seq}`);
  }
  return problems;
}

export { queueProblems } from './log-invariants.js';
