import {
  checkClosedSession,
  checkSessionLog,
  checkSocketStream,
  type LogEvent,
} from './log-invariants.js';
import { Database } from '../../src/database/database.js';
import type { StressDriver, StressSession, StressTab } from './stress.js';
import type { AppUnderTest } from './use-test-app.js';

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

/**
 * After the quiet phase: no run is still going, waiting or parked (each ended). An ended run may
 * keep its parked_at (a parked run cancelled or closed): nothing reads it without the status.
 */
export async function unendedRuns(node: AppUnderTest): Promise<string[]> {
  const rows = await node.get(Database).query<{
    id: string;
    session_id: string;
    status: string;
    parked_at: unknown;
  }>(
    `SELECT id, session_id, status, parked_at FROM runs
      WHERE status IN ('running', 'awaiting_input')`,
  );
  return rows.map(
    (r) =>
      `session ${r.session_id}: [run-not-ended] run ${r.id} is ${r.status}` +
      (r.parked_at ? ', parked' : ''),
  );
}

/** How long a parked run may stay answered and not adopted (the sweeps run every second). */
const ADOPT_WITHIN_MS = 5_000;

/**
 * Watches for parked runs whose questions are all answered and that no node adopts: a run stuck
 * parked. The quiet phase would cancel it (and hide it), so `drain` waits for the ones still
 * there to be adopted before it, and everything found is a finding.
 */
export class ParkedWatch {
  private readonly readySince = new Map<string, number>();
  private readonly stuck = new Map<string, string>();
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(private readonly witness: AppUnderTest) {
    this.loop = this.watch();
  }

  private async ready(): Promise<{ id: string; session_id: string }[]> {
    return this.witness.get(Database).query<{ id: string; session_id: string }>(
      `SELECT r.id, r.session_id FROM runs r
        WHERE r.parked_at IS NOT NULL AND r.status = 'awaiting_input'
          AND NOT EXISTS (SELECT 1 FROM interactions i WHERE i.run_id = r.id AND i.resolved_at IS NULL)`,
    );
  }

  private async look(): Promise<number> {
    const rows = await this.ready();
    const now = Date.now();
    for (const id of [...this.readySince.keys()])
      if (!rows.some((r) => r.id === id)) this.readySince.delete(id);
    for (const r of rows) {
      const since = this.readySince.get(r.id) ?? now;
      this.readySince.set(r.id, since);
      if (now - since > ADOPT_WITHIN_MS)
        this.stuck.set(
          r.id,
          `session ${r.session_id}: [stuck-parked] run ${r.id}: answered, parked, not adopted for ${now - since} ms`,
        );
    }
    return rows.length;
  }

  private async watch(): Promise<void> {
    while (!this.stopped) {
      // A failed look (the test failed and tears down) is not a finding; drain looks again.
      await this.look().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Stops watching (a test that failed before drain). */
  stop(): void {
    this.stopped = true;
  }

  /** Stops watching once no answered run is parked (or ADOPT_WITHIN_MS told it is stuck). */
  async drain(): Promise<string[]> {
    const until = Date.now() + ADOPT_WITHIN_MS + 1_000;
    while ((await this.look()) > this.stuck.size && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    this.stopped = true;
    await this.loop;
    return [...this.stuck.values()];
  }
}
