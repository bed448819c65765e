import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from '../../test/support/databases.js';
import { type Engine, startEngine, until } from '../../test/support/engine.js';

/**
 * The runs executing in this process (LiveRuns, RunLauncher, LiveRunStopper) on the real
 * engine: an abandon stops an execution without writing; shutdown cancels every live run with
 * reason `shutdown` and launches nothing more. Shutdown is last: it cannot be undone.
 */
describeEachDatabase('LiveRuns: abandon and shutdown', (kind) => {
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

  it('a launched run is live until it lets go of its run', async () => {
    const { run, execution } = await engine.launchedRun();
    expect(engine.live.executing(run.sessionId)).toBe(run.runId);
    expect(engine.live.activeRuns).toBe(1);
    await execution.finish();
    expect(engine.live.isLive(run.sessionId)).toBe(false);
    expect(engine.live.activeRuns).toBe(0);
  });

  it('an abandon stops the execution without writing, and the row is left as it was', async () => {
    const { run, execution } = await engine.launchedRun();
    const row = await engine.run(run.runId);
    engine.stopper.stopEverywhere(run.sessionId);
    await execution.finished;
    expect(execution.abandons).toEqual(['ended elsewhere']);
    expect(execution.result).toEqual({ kind: 'abandon' });
    expect(engine.live.isLive(run.sessionId)).toBe(false);
    expect((await engine.log(run.sessionId)).map((e) => e.type)).toEqual(['task_started']);
    expect(await engine.run(run.runId)).toEqual(row);
  });

  it('shutdown cancels every live run (reason shutdown, resumable), then launches nothing', async () => {
    const a = await engine.launchedRun();
    const b = await engine.launchedRun();
    await engine.live.beforeApplicationShutdown();
    for (const { run, execution } of [a, b]) {
      expect(execution.cancels).toEqual(['shutdown']);
      expect(execution.result).toEqual({ kind: 'cancel', won: true });
      expect((await engine.log(run.sessionId)).at(-1)).toEqual({
        type: 'task_cancelled',
        runId: run.runId,
        data: { reason: 'shutdown' },
      });
      expect(await engine.statusOf(run.runId)).toEqual({ run: 'cancelled', intent: 'abandoned' });
    }
    await until(() => engine.live.activeRuns === 0);
    expect(engine.live.accepting).toBe(false);
    // A run committed now is refused: its row stays for the takeover sweep (RunFencing).
    const late = await engine.newRun();
    const made = engine.executor.made.length;
    expect(engine.launcher.launch({ ...late, transcript: [] })).toBe(false);
    expect(engine.executor.made.length).toBe(made);
    expect(engine.live.isLive(late.sessionId)).toBe(false);
    expect(await engine.statusOf(late.runId)).toEqual({ run: 'running', intent: 'active' });
  });
});
