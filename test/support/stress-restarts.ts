import { Database } from '../../src/database/database.js';
import { RunLauncher } from '../../src/runs/run-launcher.js';
import type { StressTab } from './stress-tab.js';
import type { AppUnderTest } from './use-test-app.js';

/** What the restarts of a stress run did (printed, and checked: one met a question it held). */
export interface RestartReport {
  restarts: number;
  /** Restarts whose stop parked a run waiting on a question (it held one when it stopped). */
  parking: number;
  lines: string[];
}

/** Runs waiting on an open question that the node holds (not parked): what its stop parks. */
async function questionsHeld(node: AppUnderTest): Promise<{ id: string; session_id: string }[]> {
  return node.get(Database).query<{ id: string; session_id: string }>(
    `SELECT id, session_id FROM runs
      WHERE status = 'awaiting_input' AND parked_at IS NULL AND node_id = $1
        AND EXISTS (SELECT 1 FROM interactions i WHERE i.run_id = runs.id AND i.resolved_at IS NULL)`,
    [node.get(RunLauncher).nodeId],
  );
}

/** Of `runIds` (held by the stopped node `nodeId`): those it parked (or another node adopted since). */
async function parkedOf(witness: AppUnderTest, runIds: string[], nodeId: string): Promise<number> {
  const rows = await witness.get(Database).query<{ n: number }>(
    `SELECT count(*)::int AS n FROM runs
      WHERE id = ANY($1::uuid[]) AND (parked_at IS NOT NULL OR node_id <> $2)`,
    [runIds, nodeId],
  );
  return rows[0].n;
}

/** Why runs held at a stop were not parked: each one's status and the fate of its last question. */
async function notParked(
  witness: AppUnderTest,
  runIds: string[],
  stopAt: number,
): Promise<string[]> {
  const rows = await witness.get(Database).query<{
    id: string;
    status: string;
    parked_at: Date | null;
    kind: string;
    outcome: string | null;
    created_at: Date;
    resolved_at: Date | null;
  }>(
    `SELECT r.id, r.status, r.parked_at, i.kind, i.outcome, i.created_at, i.resolved_at
       FROM runs r JOIN LATERAL (
         SELECT kind, outcome, created_at, resolved_at FROM interactions
          WHERE run_id = r.id ORDER BY created_at DESC LIMIT 1) i ON true
      WHERE r.id = ANY($1::uuid[])`,
    [runIds],
  );
  const rel = (d: Date | null): string => (d ? `${d.getTime() - stopAt} ms` : 'never');
  return rows.map(
    (r) =>
      `${r.id.slice(0, 8)} ${r.status}${r.parked_at ? ' parked' : ''}, its ${r.kind} asked at ` +
      `${rel(r.created_at)}, resolved ${r.outcome ?? ''} at ${rel(r.resolved_at)} (from the stop)`,
  );
}

/**
 * Runs the stopped node still holds: ones it started while stopping (their launch refused) are
 * left to the takeover (interrupted after RUN_STALE_AFTER_MS), by design; counted, not a finding.
 */
async function leftBehind(
  witness: AppUnderTest,
  nodeId: string,
  stopAt: number,
): Promise<string[]> {
  const rows = await witness
    .get(Database)
    .query<{ id: string; status: string; attempt: number; started_at: Date }>(
      `SELECT id, status, attempt, started_at FROM runs
        WHERE node_id = $1 AND status IN ('running', 'awaiting_input') AND parked_at IS NULL`,
      [nodeId],
    );
  return rows.map(
    (r) =>
      `${r.id.slice(0, 8)} ${r.status} attempt ${r.attempt} ` +
      `started at ${r.started_at.getTime() - stopAt} ms`,
  );
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** What the restarts need of the driver: to leave some sessions alone for a moment. */
export interface Holding {
  hold(sessionIds: string[]): void;
  release(): void;
}

/**
 * Waits (until `giveUpAt`) for the node to hold a run waiting on a question; with `holding`, the
 * workers then leave its session alone and, once their calls in flight are answered, it is
 * looked at again (a question answered or cancelled meanwhile is no longer held).
 */
async function awaitQuestion(
  node: AppUnderTest,
  giveUpAt: number,
  holding?: Holding,
): Promise<string[]> {
  for (;;) {
    const held = await questionsHeld(node);
    if (held.length > 0 && !holding) return held.map((r) => r.id);
    if (held.length > 0 && holding) {
      holding.hold(held.map((r) => r.session_id));
      await pause(150);
      const still = (await questionsHeld(node)).filter((r) => held.some((h) => h.id === r.id));
      if (still.length > 0) return still.map((r) => r.id);
      holding.release();
    }
    if (Date.now() >= giveUpAt) return [];
    await pause(40);
  }
}

/**
 * Restarts `node` `count` times while the actions go on: each in its own slice of the window
 * (ending `reserveMs` before `untilMs`, so the last one is back before the quiet phase), at a
 * random moment of the slice's first half, then waiting (at most to the slice's 80%) for the
 * node to hold a run waiting on a question, so the stop parks it (`witness`, another node on the
 * same database, tells while the node is down). For the first restart the workers leave that
 * run's session alone until the node is down (else a cancel often beats the stop), so at least
 * one restart parks a run; the others race the actions freely. A restart is a graceful close
 * (the tabs on the node were told first: their disconnect is expected and they send nothing),
 * a new app on the same database, and every tab of the node moving to it.
 */
export async function restartNode(
  node: AppUnderTest,
  witness: AppUnderTest,
  tabs: StressTab[],
  holding: Holding,
  rnd: () => number,
  count: number,
  untilMs: number,
  reserveMs = 3_000,
): Promise<RestartReport> {
  const report: RestartReport = { restarts: 0, parking: 0, lines: [] };
  const start = Date.now();
  const slice = (untilMs - reserveMs - start) / count;
  for (let i = 0; i < count; i++) {
    const from = start + i * slice;
    await pause(from + slice * 0.5 * rnd() - Date.now());
    const held = await awaitQuestion(node, from + slice * 0.8, i === 0 ? holding : undefined);
    const began = Date.now();
    const nodeId = node.get(RunLauncher).nodeId;
    let parked = 0;
    let left: string[] = [];
    let why: string[] = [];
    for (const t of tabs) t.leaving();
    try {
      await node.restart(async () => {
        holding.release();
        parked = await parkedOf(witness, held, nodeId);
        if (parked < held.length) why = await notParked(witness, held, began);
        left = await leftBehind(witness, nodeId, began);
      });
    } finally {
      holding.release();
    }
    await Promise.all(tabs.map((t) => t.moveTo(node.baseUrl)));
    report.restarts += 1;
    if (parked > 0) report.parking += 1;
    report.lines.push(
      `restart ${i + 1} at +${((began - start) / 1000).toFixed(1)} s: ` +
        `${held.length} run(s) waiting on a question, ${parked} parked, ` +
        `${left.length} left to the takeover, back in ${Date.now() - began} ms` +
        (why.length ? ` [not parked: ${why.join('; ')}]` : '') +
        (left.length ? ` [left: ${left.join('; ')}]` : ''),
    );
  }
  return report;
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
      await pause(250);
    }
  }

  /** Stops watching (a test that failed before drain). */
  stop(): void {
    this.stopped = true;
  }

  /** Stops watching once no answered run is parked (or ADOPT_WITHIN_MS told it is stuck). */
  async drain(): Promise<string[]> {
    const until = Date.now() + ADOPT_WITHIN_MS + 1_000;
    while ((await this.look()) > this.stuck.size && Date.now() < until) await pause(100);
    this.stopped = true;
    await this.loop;
    return [...this.stuck.values()];
  }
}
