import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from '../../test/support/databases.js';
import { type Engine, startEngine } from '../../test/support/engine.js';
import type { RunStatus } from '../contracts/session.js';
import { RUN_TRANSITIONS } from './run-states.js';

const STATUSES = Object.keys(RUN_TRANSITIONS) as RunStatus[];
const ALLOWED = STATUSES.flatMap((to) => RUN_TRANSITIONS[to].map((from) => ({ from, to })));

/**
 * The run state machine as RunsStore applies it on a real database: each transition of the
 * table once, none outside it. Ending transitions run in the session's transaction, as
 * RunLifecycle runs them.
 */
describeEachDatabase('RunsStore: the transition table', (kind) => {
  let database: TestDatabase;
  let engine: Engine;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    engine = await startEngine(database);
  });
  afterAll(async () => {
    await engine?.close();
    await database?.drop();
  });

  const transition = (sessionId: string, runId: string, to: RunStatus) =>
    engine.history.transaction(sessionId, () => engine.store.transitionRun(runId, to));

  /** A new run brought to `status` through allowed transitions. */
  async function runIn(status: RunStatus) {
    const run = await engine.newRun();
    if (status === 'running') return run;
    // Every state is one step from `running` (awaiting_input included).
    if (!(await transition(run.sessionId, run.runId, status)))
      throw new Error(`no way to ${status}`);
    expect((await engine.run(run.runId)).status).toBe(status);
    return run;
  }

  it.each(ALLOWED)('$from → $to succeeds once', async ({ from, to }) => {
    const run = await runIn(from);
    const won = await transition(run.sessionId, run.runId, to);
    expect(won).toMatchObject({ id: run.runId, status: to });
    expect(won?.ended_at === null).toBe(to === 'running' || to === 'awaiting_input');
    // The same transition again finds the run no longer in a state it leaves from.
    expect(await transition(run.sessionId, run.runId, to)).toBeUndefined();
    expect((await engine.run(run.runId)).status).toBe(to);
  });

  it.each(STATUSES)('from %s, every transition outside the table changes nothing', async (from) => {
    const run = await runIn(from);
    const before = await engine.run(run.runId);
    for (const to of STATUSES.filter((t) => !RUN_TRANSITIONS[t].includes(from))) {
      expect(await transition(run.sessionId, run.runId, to)).toBeUndefined();
      expect(await engine.run(run.runId)).toEqual(before);
    }
  });

  it('a run is not ended outside a transaction', async () => {
    const run = await engine.newRun();
    await expect(engine.store.transitionRun(run.runId, 'completed')).rejects.toThrow(
      /only in its session's transaction/,
    );
    expect((await engine.run(run.runId)).status).toBe('running');
  });

  it('a takeover is fenced on the owner and the heartbeat it read', async () => {
    const run = await engine.newRun({ nodeId: 'gone' });
    const { heartbeat_at } = await engine.run(run.runId);
    const to = (where: { nodeId?: string; staleBefore?: Date }) =>
      engine.history.transaction(run.sessionId, () =>
        engine.store.transitionRun(run.runId, 'interrupted', where),
      );
    expect(await to({ nodeId: 'another' })).toBeUndefined();
    // Renewed at or after the deadline: not stale.
    expect(await to({ nodeId: 'gone', staleBefore: heartbeat_at })).toBeUndefined();
    const later = new Date(heartbeat_at.getTime() + 1);
    expect(await to({ nodeId: 'gone', staleBefore: later })).toMatchObject({
      status: 'interrupted',
    });
  });
});
