import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from '../../test/support/databases.js';
import { type Engine, startEngine, until } from '../../test/support/engine.js';
import { INTERRUPTED_ERROR } from './run-lifecycle.service.js';
import type { RunRef } from './run-ref.js';

/** Short, so RunFencing's tick (a quarter of it) comes every half second. */
const STALE_AFTER_MS = 2000;

/**
 * RunFencing on the real engine, one node without Redis: the periodic takeover of runs nothing
 * renews, and the heartbeat that renews this node's executions and abandons one whose run
 * somebody else ended. The tests wait for the tick's effect, never for a time.
 */
describeEachDatabase('RunFencing: heartbeats and takeover', (kind) => {
  let database: TestDatabase;
  let engine: Engine;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    engine = await startEngine(database, { RUN_STALE_AFTER_MS: String(STALE_AFTER_MS) });
  });
  afterAll(async () => {
    await engine?.close();
    await database?.drop();
  });

  const setHeartbeat = (run: RunRef, at: string) =>
    engine.db.query(`UPDATE runs SET heartbeat_at = now() + $2::interval WHERE id = $1`, [
      run.runId,
      at,
    ]);

  it('a stale run of a gone node is interrupted and offered a retry; a renewed one is not', async () => {
    const stale = await engine.newRun({ nodeId: 'gone-node' });
    expect(await engine.lifecycle.begin(stale)).toBe(true);
    await setHeartbeat(stale, '-1 hour');
    // Renewed (by its node, in the future so that it stays fresh): no sweep may take it.
    const renewed = await engine.newRun({ nodeId: 'other-node' });
    await setHeartbeat(renewed, '1 hour');

    await until(async () => (await engine.run(stale.runId)).status === 'interrupted');
    const [offer] = await engine.store.pendingOf({ sessionId: stale.sessionId });
    expect(offer).toMatchObject({ run_id: stale.runId, kind: 'retry' });
    expect(await engine.log(stale.sessionId)).toEqual([
      { type: 'task_started', runId: stale.runId, data: { attempt: 1 } },
      {
        type: 'task_failed',
        runId: stale.runId,
        data: { error: INTERRUPTED_ERROR, attempt: 1, canRetry: true, interactionId: offer.id },
      },
    ]);
    expect(await engine.statusOf(stale.runId)).toEqual({ run: 'interrupted', intent: 'active' });
    expect(await engine.runsCounted(stale.userId)).toBe(1);
    // The same sweep read the renewed run and left it alone.
    expect(await engine.statusOf(renewed.runId)).toEqual({ run: 'running', intent: 'active' });
    expect(await engine.log(renewed.sessionId)).toEqual([]);
  });

  it('a run this node executes is renewed, never taken over by its own node', async () => {
    const { run, execution } = await engine.launchedRun();
    await setHeartbeat(run, '-1 hour');
    const hourAgo = Date.now() - 3_600_000;
    await until(
      async () => (await engine.run(run.runId)).heartbeat_at.getTime() > hourAgo + 60_000,
    );
    expect((await engine.run(run.runId)).status).toBe('running');
    expect(execution.result).toBeUndefined();
    await execution.finish();
    expect(execution.result).toEqual({ kind: 'finish', won: true });
  });

  it('an execution whose run another writer ended is abandoned by the heartbeat, writing nothing', async () => {
    const { run, execution } = await engine.launchedRun();
    // Another writer (an admin on another node, say) ends the run behind the execution's back.
    expect(await engine.lifecycle.cancel(run, 'admin')).toBe(true);
    await execution.finished;
    expect(execution.abandons).toEqual(['no longer ours']);
    expect(execution.result).toEqual({ kind: 'abandon' });
    expect(engine.live.isLive(run.sessionId)).toBe(false);
    expect((await engine.log(run.sessionId)).map((e) => e.type)).toEqual([
      'task_started',
      'task_cancelled',
    ]);
  });
});

describeEachDatabase('RunFencing at shutdown', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('a heartbeat that hangs does not hold the shutdown (its renewals are moot by then)', async () => {
    const engine = await startEngine(database, { RUN_STALE_AFTER_MS: String(STALE_AFTER_MS) });
    const heartbeat = engine.faults.pause('node.heartbeat');
    try {
      await heartbeat.reached;
      let deadline: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        engine.close().then(() => 'closed'),
        new Promise((r) => (deadline = setTimeout(() => r('still closing'), 10_000))),
      ]);
      clearTimeout(deadline);
      expect(outcome).toBe('closed');
    } finally {
      heartbeat.release();
    }
  });
});
