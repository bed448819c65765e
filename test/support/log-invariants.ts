/** Checks of a session's log (read over REST) that must hold whatever the clients did. */

const CLOSING = new Set(['task_completed', 'task_cancelled', 'task_failed']);

export interface LogEvent {
  seq: number;
  type: string;
  runId?: string;
  intentId?: string;
  data: any;
}

const at = (e: LogEvent): string => `seq ${e.seq} ${e.type}${e.runId ? ` run ${e.runId}` : ''}`;

/**
 * seq 1..n without gaps; at most one open run (from its first event to its closing event) at any
 * point; exactly one closing event per run, nothing of the run after it (the one answer to a
 * retry it offered aside: that belongs to the offer); every run ended by an acked cancel ends
 * cancelled; every run a send or resume was acked with is in the log (else it never closed).
 */
export function checkSessionLog(
  sessionId: string,
  log: LogEvent[],
  ackedCancels: Set<string>,
  ackedRuns: Set<string> = new Set(),
): string[] {
  const problems: string[] = [];
  const say = (m: string): void => void problems.push(`session ${sessionId}: ${m}`);
  log.forEach((e, i) => {
    const expected = i === 0 ? 1 : log[i - 1].seq + 1;
    if (e.seq !== expected) say(`[seq-gap] seq ${e.seq} where ${expected} was due`);
  });
  const open = new Set<string>();
  const closedBy = new Map<string, LogEvent>();
  const retryOffers = new Map<string, string>();
  const seen = new Set<string>();
  const afterClose = new Map<string, LogEvent[]>();
  for (const e of log) {
    if (!e.runId || e.type === 'user_message') continue;
    seen.add(e.runId);
    const closing = closedBy.get(e.runId);
    if (closing) {
      const answersOffer =
        e.type === 'interaction_resolved' &&
        retryOffers.get(e.runId) === e.data?.interactionId &&
        e.data?.interactionId !== undefined;
      // An offer is answered once: a second answer is an event after closing like any other.
      if (answersOffer) retryOffers.delete(e.runId);
      else afterClose.set(e.runId, [...(afterClose.get(e.runId) ?? []), e]);
      continue;
    }
    if (!open.has(e.runId)) {
      if (open.size > 0) say(`[two-open-runs] ${at(e)} while run ${[...open].join(', ')} is open`);
      open.add(e.runId);
    }
    if (CLOSING.has(e.type)) {
      open.delete(e.runId);
      closedBy.set(e.runId, e);
      if (e.type === 'task_failed' && e.data?.interactionId)
        retryOffers.set(e.runId, e.data.interactionId as string);
    }
  }
  for (const [runId, late] of afterClose) {
    say(
      `[event-after-closing] run ${runId}: ${late.length} event(s) after ${at(closedBy.get(runId)!)}, ` +
        `from ${at(late[0])} to ${at(late[late.length - 1])}`,
    );
  }
  for (const runId of seen) {
    if (!closedBy.has(runId)) say(`[no-closing-event] run ${runId}`);
  }
  for (const runId of ackedRuns) {
    if (!seen.has(runId)) say(`[no-closing-event] run ${runId}: acked, no event of it in the log`);
  }
  for (const p of queueProblems(log)) say(p);
  for (const p of dialogProblems(log)) say(p);
  for (const runId of ackedCancels) {
    const end = closedBy.get(runId);
    if (!end) say(`[cancel-not-honoured] run ${runId}: acked ok, no closing event`);
    else if (end.type !== 'task_cancelled')
      say(`[cancel-not-honoured] run ${runId}: acked ok, ended with ${at(end)}`);
  }
  return problems;
}

/** The events that open a dialog: a question, or a failure offering a retry. */
const opensDialog = (e: LogEvent): boolean =>
  (e.type === 'request_confirmation' || e.type === 'component' || e.type === 'task_failed') &&
  typeof e.data?.interactionId === 'string';

/**
 * Each run starts once (a run picked up again after its node stopped goes on, with no second
 * task_started); each dialog opened is resolved exactly once (one interaction_resolved per
 * interactionId), and nothing resolves a dialog that was never opened.
 */
export function dialogProblems(log: readonly LogEvent[]): string[] {
  const problems: string[] = [];
  const starts = new Map<string, LogEvent[]>();
  for (const e of log.filter((x) => x.type === 'task_started' && x.runId))
    starts.set(e.runId!, [...(starts.get(e.runId!) ?? []), e]);
  for (const [runId, es] of starts)
    if (es.length > 1)
      problems.push(
        `[restarted-run] run ${runId}: task_started at seqs ${es.map((e) => e.seq).join(', ')}`,
      );
  const resolutions = new Map<string, LogEvent[]>();
  for (const e of log.filter((x) => x.type === 'interaction_resolved')) {
    const id = String(e.data?.interactionId);
    resolutions.set(id, [...(resolutions.get(id) ?? []), e]);
  }
  const opened = new Map(log.filter(opensDialog).map((e) => [e.data.interactionId as string, e]));
  for (const [id, e] of opened) {
    const got = resolutions.get(id) ?? [];
    if (got.length === 0) problems.push(`[unresolved-interaction] ${at(e)}: interaction ${id}`);
    if (got.length > 1)
      problems.push(
        `[resolved-twice] interaction ${id}: ${got.map((r) => `${at(r)} ${r.data?.outcome}`).join(', ')}`,
      );
  }
  for (const [id, got] of resolutions)
    if (!opened.has(id)) problems.push(`[resolved-unasked] interaction ${id}: ${at(got[0])}`);
  return problems;
}

/**
 * A closed session's log: `session_closed` exactly once and last (nothing follows it), and every
 * dialog opened before it resolved (its `interaction_resolved`) before it.
 */
export function checkClosedSession(sessionId: string, log: LogEvent[]): string[] {
  const problems: string[] = [];
  const say = (m: string): void => void problems.push(`session ${sessionId}: ${m}`);
  const closes = log.filter((e) => e.type === 'session_closed');
  if (closes.length !== 1) say(`[closed-session] ${closes.length} session_closed events`);
  const closedAt = log.findIndex((e) => e.type === 'session_closed');
  if (closedAt < 0) return problems;
  const after = log.slice(closedAt + 1);
  if (after.length > 0)
    say(
      `[event-after-session-closed] ${after.length} event(s) after ${at(log[closedAt])}, ` +
        `from ${at(after[0])} to ${at(after[after.length - 1])}`,
    );
  const before = log.slice(0, closedAt);
  const resolved = new Set(
    before.filter((e) => e.type === 'interaction_resolved').map((e) => e.data?.interactionId),
  );
  for (const e of before.filter(opensDialog)) {
    if (!resolved.has(e.data.interactionId))
      say(`[open-interaction-after-close] ${at(e)}: interaction ${e.data.interactionId}`);
  }
  return problems;
}

/**
 * What one socket got live for one session must be the log from its join point on: consecutive
 * seqs, each the same event as the log's, up to the end of the log; the join's replay reaches at
 * least up to the first live event.
 */
export function checkSocketStream(
  label: string,
  log: LogEvent[],
  joinedAfter: number,
  live: LogEvent[],
): string[] {
  const problems: string[] = [];
  const say = (m: string): void => void problems.push(`[socket-stream] ${label}: ${m}`);
  const last = log.length;
  if (live.length === 0) {
    if (joinedAfter < last)
      say(`got no live event, the log ends at ${last} (joined at ${joinedAfter})`);
    return problems;
  }
  if (live[0].seq > joinedAfter + 1)
    say(`first live seq ${live[0].seq}, but the join covered only up to ${joinedAfter}`);
  for (let i = 1; i < live.length; i++) {
    if (live[i].seq !== live[i - 1].seq + 1) {
      say(`live seq ${live[i].seq} after ${live[i - 1].seq} (out of order, missing or repeated)`);
      break;
    }
  }
  for (const e of live) {
    const stored = log[e.seq - 1];
    if (!stored || stored.type !== e.type || stored.runId !== e.runId) {
      say(`live ${at(e)} differs from the log's ${stored ? at(stored) : 'nothing'}`);
      break;
    }
  }
  if (live[live.length - 1].seq !== last)
    say(`last live seq ${live[live.length - 1].seq}, the log ends at ${last}`);
  return problems;
}

/** Counts per kind of violation, with a few examples of each. */
export function summarize(problems: string[], examples = 3): string {
  const byKind = new Map<string, string[]>();
  for (const p of problems) {
    const kind = /\[([a-z-]+)\]/.exec(p)?.[1] ?? 'other';
    byKind.set(kind, [...(byKind.get(kind) ?? []), p]);
  }
  return [...byKind]
    .map(([kind, ps]) => `${kind}: ${ps.length}\n  ${ps.slice(0, examples).join('\n  ')}`)
    .join('\n');
}

/**
 * The queue's promise, from a settled log: every intent sent queued either starts once (a run of
 * it wrote something: one cancelled before its task_started still writes task_cancelled; its first
 * task_started at most once) or leaves the queue once (`intent_dequeued`), never both.
 */
export function queueProblems(
  log: readonly {
    seq: number;
    type: string;
    runId?: string | null;
    intentId?: string | null;
    data: any;
  }[],
): string[] {
  const problems: string[] = [];
  for (const m of log.filter((e) => e.type === 'user_message' && e.data?.queued)) {
    const ran = log.some((e) => e.intentId === m.intentId && e.runId) ? 1 : 0;
    const firstStarts = log.filter(
      (e) => e.type === 'task_started' && e.intentId === m.intentId && e.data?.attempt === 1,
    ).length;
    const dequeued = log.filter(
      (e) => e.type === 'intent_dequeued' && e.data?.intentId === m.intentId,
    ).length;
    if (ran + dequeued !== 1 || firstStarts > 1)
      problems.push(
        `[queue] seq ${m.seq}: ran ${ran}, first starts ${firstStarts}, dequeued ${dequeued}`,
      );
  }
  return problems;
}
