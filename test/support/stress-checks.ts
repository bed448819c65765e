import {
  checkClosedSession,
  checkSessionLog,
  checkSocketStream,
  type LogEvent,
} from './log-invariants.js';
import type { StressDriver, StressSession, StressTab } from './stress.js';

/** What the lifecycle stress checks once everything is quiet (see test/support/stress.ts). */

/** The whole log of a session over REST. */
async function readLog(s: StressSession): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  for (;;) {
    const r = await s.http.get(
      `/sessions/${s.id}/events?afterSeq=${out.length}&limit=1000`,
      s.token,
    );
    if (r.status !== 200) throw new Error(`events read failed: ${r.status}`);
    out.push(...(r.body.items as LogEvent[]));
    if (!r.body.hasMore) return out;
  }
}

/**
 * Ends what is still going (cancels acked are recorded like the others, open retry offers are
 * declined), then waits until no session has an active run or an open question and every log
 * and every tab has stopped moving. Returns a finding when that does not happen in time.
 */
export async function quiesce(
  sessions: StressSession[],
  tabs: StressTab[],
  driver: StressDriver,
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let stableSince = 0;
  let lastSeqs = '';
  while (Date.now() < deadline) {
    let busy = false;
    for (const s of sessions) {
      const got = (await s.http.get(`/sessions/${s.id}`, s.token)).body;
      // A closed session is left as its close left it: checkAll says if anything is still open.
      if (got.status === 'closed') continue;
      const state = got.state;
      // Queued messages start as the runs in front end (the cancels below end them).
      if (state.queue.length > 0) busy = true;
      if (state.run && ['running', 'awaiting_input'].includes(state.run.status)) {
        busy = true;
        const r = await s.http.post(`/sessions/${s.id}/cancel`, {}, s.token);
        if (r.status === 202) driver.cancelled(s.id, r.body.runId as string);
      } else if (state.pendingInteraction) {
        busy = true;
        const id = state.pendingInteraction.id as string;
        const response =
          state.pendingInteraction.kind === 'retry' ? { retry: false } : { approved: false };
        await s.http.post(`/sessions/${s.id}/interactions/${id}`, { response }, s.token);
      }
    }
    const ends = await Promise.all(sessions.map(async (s) => (await readLog(s)).length));
    const seqs = JSON.stringify(ends);
    const caughtUp = tabs.every(
      (t) =>
        t.joinedAfter < 0 || t.lastSeen >= ends[sessions.findIndex((s) => s.id === t.sessionId)],
    );
    if (!busy && caughtUp && seqs === lastSeqs) {
      if (stableSince && Date.now() - stableSince > 1_000) return undefined;
      stableSince ||= Date.now();
    } else stableSince = 0;
    lastSeqs = seqs;
    await new Promise((r) => setTimeout(r, 250));
  }
  return `[not-quiet] after ${timeoutMs} ms: a run or question did not end`;
}

export async function checkAll(
  sessions: StressSession[],
  tabs: StressTab[],
  driver: StressDriver,
): Promise<string[]> {
  const problems = [...driver.findings];
  for (const t of tabs.filter((x) => x.disconnectedBecause))
    problems.push(`[disconnected] ${t.label}: ${t.disconnectedBecause}`);
  for (const s of sessions) {
    const log = await readLog(s);
    if (process.env.STRESS_DUMP)
      process.stderr.write(
        `\n=== ${s.id}\n` +
          log
            .map(
              (e) =>
                `${e.seq} ${e.type} ${e.runId?.slice(0, 8) ?? ''} ${JSON.stringify(e.data).slice(0, 80)}`,
            )
            .join('\n'),
      );
    problems.push(
      ...checkSessionLog(
        s.id,
        log,
        driver.ackedCancels.get(s.id) ?? new Set(),
        driver.ackedRuns.get(s.id) ?? new Set(),
      ),
    );
    for (const t of tabs.filter((x) => x.sessionId === s.id && x.joinedAfter >= 0))
      problems.push(...checkSocketStream(t.label, log, t.joinedAfter, t.live));
    if (driver.closing.has(s.id)) problems.push(...(await checkClosed(s, log)));
  }
  return problems;
}

/** A session the driver closed: closed, its log ends as a close leaves it, nothing of it open. */
async function checkClosed(s: StressSession, log: LogEvent[]): Promise<string[]> {
  const problems = checkClosedSession(s.id, log);
  const got = (await s.http.get(`/sessions/${s.id}`, s.token)).body;
  if (got.status !== 'closed') problems.push(`[closed-session] ${s.id}: status ${got.status}`);
  if (got.state.run)
    problems.push(`[closed-session] ${s.id}: run ${JSON.stringify(got.state.run)}`);
  if (got.state.pendingInteraction)
    problems.push(
      `[open-interaction-after-close] ${s.id}: ${JSON.stringify(got.state.pendingInteraction)}`,
    );
  return problems;
}
