import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from '../../test/support/databases.js';
import { type Engine, startEngine, until } from '../../test/support/engine.js';
import type { RunRef } from './run-ref.js';

/**
 * RunControlService.cancelActive on one node (no Redis), with the engine real and a test
 * executor: the live path, the stored path, and a cancel racing the run's own completion,
 * replayed at the fault points 'cancel.not-live' and 'run.closing'.
 */
describeEachDatabase('RunControlService: cancelling the active run', (kind) => {
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
  afterEach(() => engine.faults.disarm());

  const types = async (run: RunRef) => (await engine.log(run.sessionId)).map((e) => e.type);
  const launch = (run: RunRef) => engine.launcher.launch({ ...run, transcript: [] });

  it('a run executing here is cancelled by its execution: its id is returned', async () => {
    const { run, execution } = await engine.launchedRun();
    expect(engine.live.executes(run.sessionId, run.runId)).toBe(true);
    expect(await engine.control.cancelActive(run.sessionId, 'user')).toBe(run.runId);
    expect(execution.cancels).toEqual(['user']);
    expect(execution.result).toEqual({ kind: 'cancel', won: true });
    expect((await engine.log(run.sessionId)).at(-1)).toEqual({
      type: 'task_cancelled',
      runId: run.runId,
      data: { reason: 'user' },
    });
    await until(() => !engine.live.isLive(run.sessionId));
  });

  it('a run nothing executes is ended as stored', async () => {
    const run = await engine.newRun();
    const made = engine.executor.made.length;
    expect(await engine.control.cancelActive(run.sessionId, 'admin')).toBe(run.runId);
    expect(await types(run)).toEqual(['task_cancelled']);
    expect(await engine.statusOf(run.runId)).toEqual({ run: 'cancelled', intent: 'cancelled' });
    expect(engine.executor.made.length).toBe(made);
    // Launched after all (a send that committed it before the cancel): it never begins.
    expect(launch(run)).toBe(true);
    const late = engine.executor.of(run.runId);
    await late.finished;
    expect(late.began).toBe(false);
    expect(await types(run)).toEqual(['task_cancelled']);
  });

  it('nothing active: undefined, and a retry on offer stays on offer', async () => {
    const { sessionId } = await engine.newSession();
    expect(await engine.control.cancelActive(sessionId, 'user')).toBeUndefined();
    const { run, execution } = await engine.launchedRun();
    await execution.fail('boom');
    const log = await engine.log(run.sessionId);
    expect(await engine.control.cancelActive(run.sessionId, 'user')).toBeUndefined();
    expect(await engine.log(run.sessionId)).toEqual(log);
    expect(await engine.store.pendingOf({ sessionId: run.sessionId })).toEqual([
      expect.objectContaining({ run_id: run.runId, kind: 'retry' }),
    ]);
  });

  it('the run completes while the cancel is about to end it as stored: the cancel is lost', async () => {
    const run = await engine.newRun();
    expect(await engine.lifecycle.begin(run)).toBe(true);
    const notLive = engine.faults.pause('cancel.not-live');
    const cancel = engine.control.cancelActive(run.sessionId, 'user');
    await notLive.reached;
    expect(
      await engine.lifecycle.complete(run, 'answer', { promptTokens: 0, completionTokens: 0 }),
    ).toBe(true);
    notLive.release();
    expect(await cancel).toBeUndefined();
    expect(await types(run)).toEqual(['task_started', 'response', 'task_completed']);
    expect(await engine.statusOf(run.runId)).toEqual({ run: 'completed', intent: 'completed' });
  });

  it('the execution here is closing its completion when the cancel asks it: the cancel is lost', async () => {
    const { run, execution } = await engine.launchedRun();
    const closing = engine.faults.pause('run.closing');
    const finished = execution.finish('answer');
    await closing.reached;
    const cancel = engine.control.cancelActive(run.sessionId, 'user');
    await execution.cancelAsked;
    closing.release();
    expect(await cancel).toBeUndefined();
    await finished;
    expect(execution.result).toEqual({ kind: 'finish', won: true });
    expect(await types(run)).toEqual(['task_started', 'response', 'task_completed']);
  });

  it('a run launched here after the cancel found none live is cancelled by its execution', async () => {
    const run = await engine.newRun();
    const notLive = engine.faults.pause('cancel.not-live');
    const cancel = engine.control.cancelActive(run.sessionId, 'user');
    await notLive.reached;
    // The launch lands between the cancel's look at LiveRuns and its transaction: the stored
    // path sees the run executing here (under the session lock) and leaves it to the live path.
    expect(launch(run)).toBe(true);
    notLive.release();
    expect(await cancel).toBe(run.runId);
    const execution = engine.executor.of(run.runId);
    expect(execution.cancels).toEqual(['user']);
    expect(execution.result).toEqual({ kind: 'cancel', won: true });
    const log = await types(run);
    expect(log.filter((t) => t === 'task_cancelled')).toHaveLength(1);
  });
});
