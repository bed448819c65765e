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

/** Runs waiting on a question that the node holds (not parked): what its stop parks. */
async function questionsHeld(node: AppUnderTest): Promise<string[]> {
  const rows = await node
    .get(Database)
    .query<{ id: string }>(
      `SELECT id FROM runs WHERE status = 'awaiting_input' AND parked_at IS NULL AND node_id = $1`,
      [node.get(RunLauncher).nodeId],
    );
  return rows.map((r) => r.id);
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

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Restarts `node` `count` times while the actions go on: each in its own slice of the window
 * (ending `reserveMs` before `untilMs`, so the last one is back before the quiet phase), at a
 * random moment of the slice's first half, then waiting (at most to the slice's 80%) for the
 * node to hold a run waiting on a question, so the stop parks it. A restart is a graceful close
 * (the tabs on the node were told first: their disconnect is expected and they send nothing),
 * a new app on the same database, and every tab of the node moving to it.
 */
export async function restartNode(
  node: AppUnderTest,
  witness: AppUnderTest,
  tabs: StressTab[],
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
    const giveUpAt = from + slice * 0.8;
    let held = await questionsHeld(node);
    while (held.length === 0 && Date.now() < giveUpAt) {
      await pause(40);
      held = await questionsHeld(node);
    }
    const began = Date.now();
    const nodeId = node.get(RunLauncher).nodeId;
    let parked = 0;
    for (const t of tabs) t.leaving();
    await node.restart(async () => (parked = await parkedOf(witness, held, nodeId)));
    await Promise.all(tabs.map((t) => t.moveTo(node.baseUrl)));
    report.restarts += 1;
    if (parked > 0) report.parking += 1;
    report.lines.push(
      `restart ${i + 1} at +${((began - start) / 1000).toFixed(1)} s: ` +
        `${held.length} run(s) waiting on a question, ${parked} parked, back in ${Date.now() - began} ms`,
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
