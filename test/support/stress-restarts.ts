import { Database } from '../../src/database/database.js';
import { RunLauncher } from '../../src/runs/run-launcher.js';
import { Http } from './http.js';
import { formAnswer, type StressSession } from './stress.js';
import type { StressTab } from './stress-tab.js';
import type { AppUnderTest } from './use-test-app.js';

/** What the restarts of a stress run did (printed, and checked: one met a question it held). */
export interface RestartReport {
  restarts: number;
  /** Restarts whose stop parked a run waiting on a question (it held one when it stopped). */
  parking: number;
  lines: string[];
  /** What became of the parked run that was followed, when it was not what it should be. */
  findings: string[];
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
  /** Sessions being closed (a run of theirs may end cancelled whatever the restart did). */
  readonly closing: Set<string>;
  /** A run a send was acked with (it must end like the workers' runs). */
  started(sessionId: string, runId: string): void;
}

/**
 * No run waited on a question on the node when a restart had to park one: one of the sessions
 * is held and sent a message through the node (interrupting what it was doing, as a person
 * may) whose run asks a confirmation; its run, once it waits, is what the restart parks.
 */
async function provokeQuestion(
  node: AppUnderTest,
  sessions: StressSession[],
  holding: Holding,
): Promise<{ id: string; session_id: string }[]> {
  const s = sessions.find((x) => !holding.closing.has(x.id));
  if (!s) return [];
  holding.hold([s.id]);
  await pause(150);
  (node.config.agent as { failFirstAttempts: number }).failFirstAttempts = 0;
  const r = await new Http(node.baseUrl).post(
    `/sessions/${s.id}/messages`,
    { content: 'search restarts', ifBusy: 'interrupt' },
    s.token,
  );
  if (r.status !== 202) return [];
  holding.started(s.id, r.body.runId as string);
  const until = Date.now() + 5_000;
  while (Date.now() < until) {
    const held = (await questionsHeld(node)).filter((x) => x.id === r.body.runId);
    if (held.length > 0) return held;
    await pause(40);
  }
  return [];
}

/** How long a parked run, once answered, may take to be adopted and reach its end. */
const FOLLOW_MS = 10_000;

/**
 * A parked run, answered over REST through the restarted node (a person on another tab) while
 * the workers still leave its session alone: it must be adopted and go on by itself to its end
 * (task_completed). Anything else is a finding: still waiting or parked (stuck), or ended
 * otherwise (not continued). A deadline that beat the answer resolves it just as well.
 */
async function answerParked(
  node: AppUnderTest,
  witness: AppUnderTest,
  runId: string,
  sessions: StressSession[],
  holding: Holding,
): Promise<string[]> {
  const runOf = async () =>
    (
      await witness
        .get(Database)
        .query<{ session_id: string; status: string; parked_at: Date | null }>(
          `SELECT session_id, status, parked_at FROM runs WHERE id = $1`,
          [runId],
        )
    )[0];
  const sessionId = (await runOf()).session_id;
  const s = sessions.find((x) => x.id === sessionId)!;
  const http = new Http(node.baseUrl);
  const q = (await http.get(`/sessions/${s.id}`, s.token)).body.state?.pendingInteraction;
  let answered = 'its deadline';
  if (q?.runId === runId) {
    const fields = (q.data?.fields ?? []) as { name: string; type: string }[];
    const response = q.kind === 'form' ? formAnswer(fields) : { approved: true };
    const r = await http.post(`/sessions/${s.id}/interactions/${q.id}`, { response }, s.token);
    if (r.status === 200) answered = `${q.kind} answered on the restarted node`;
    else if (r.body?.code !== 'INTERACTION_RESOLVED')
      return [`session ${s.id}: [unexpected-ack] answer to parked run ${runId}: ${r.status}`];
  }
  const until = Date.now() + FOLLOW_MS;
  let run = await runOf();
  while (['awaiting_input', 'running'].includes(run.status) && Date.now() < until) {
    await pause(100);
    run = await runOf();
  }
  const say = (m: string): string => `session ${s.id}: [${m}] parked run ${runId} (${answered})`;
  if (run.status === 'running')
    return [say('parked-run-not-ended') + `: adopted, still running after ${FOLLOW_MS} ms`];
  if (run.status === 'awaiting_input')
    return [
      say(`stuck-parked`) +
        `: still waiting${run.parked_at ? ', parked' : ''} after ${FOLLOW_MS} ms`,
    ];
  if (run.status !== 'completed' && !holding.closing.has(s.id))
    return [say('parked-run-not-continued') + `: ended ${run.status}`];
  return [];
}

/**
 * Waits (until `giveUpAt`) for the node to hold a run waiting on a question; with `holding`, the
 * workers then leave its session alone and, once their calls in flight are answered, it is
 * looked at again (a question answered or cancelled meanwhile is no longer held); and if none
 * came by `giveUpAt`, one is made (provokeQuestion).
 */
async function awaitQuestion(
  node: AppUnderTest,
  giveUpAt: number,
  holding?: Holding,
  sessions: StressSession[] = [],
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
    if (Date.now() >= giveUpAt)
      return holding ? (await provokeQuestion(node, sessions, holding)).map((r) => r.id) : [];
    await pause(40);
  }
}

/**
 * Restarts `node` `count` times while the actions go on: each in its own slice of the window
 * (ending `reserveMs` before `untilMs`, so the last one is back before the quiet phase), at a
 * random moment of the slice's first half, then waiting (at most to the slice's 80%) for the
 * node to hold a run waiting on a question, so the stop parks it (`witness`, another node on the
 * same database, tells while the node is down). Until one restart has parked a run, the workers
 * leave the waiting run's session alone (else a cancel often beats the stop), and after it until
 * the run, answered and adopted, has ended (answerParked): so one restart parks a run and follows
 * it to its end; the others race the actions freely. A restart is a graceful close
 * (the tabs on the node were told first: their disconnect is expected and they send nothing),
 * a new app on the same database, and every tab of the node moving to it.
 */
export async function restartNode(opts: {
  node: AppUnderTest;
  witness: AppUnderTest;
  /** The tabs connected to `node`. */
  tabs: StressTab[];
  sessions: StressSession[];
  holding: Holding;
  rnd: () => number;
  count: number;
  untilMs: number;
  reserveMs?: number;
}): Promise<RestartReport> {
  const { node, witness, tabs, sessions, holding, rnd, count, untilMs } = opts;
  const reserveMs = opts.reserveMs ?? 3_000;
  const report: RestartReport = { restarts: 0, parking: 0, lines: [], findings: [] };
  const start = Date.now();
  const slice = (untilMs - reserveMs - start) / count;
  for (let i = 0; i < count; i++) {
    const from = start + i * slice;
    await pause(from + slice * 0.5 * rnd() - Date.now());
    // Until one restart has parked a run, the workers leave the waiting run's session alone.
    const following = report.parking === 0;
    const held = following
      ? await awaitQuestion(node, from + slice * 0.8, holding, sessions)
      : await awaitQuestion(node, from + slice * 0.8);
    const began = Date.now();
    const nodeId = node.get(RunLauncher).nodeId;
    let parked = 0;
    let left: string[] = [];
    let why: string[] = [];
    for (const t of tabs) t.leaving();
    try {
      await node.restart(async () => {
        parked = await parkedOf(witness, held, nodeId);
        if (parked < held.length) why = await notParked(witness, held, began);
        left = await leftBehind(witness, nodeId, began);
      });
      await Promise.all(tabs.map((t) => t.moveTo(node.baseUrl)));
      if (following && parked > 0)
        report.findings.push(...(await answerParked(node, witness, held[0], sessions, holding)));
    } finally {
      holding.release();
    }
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
