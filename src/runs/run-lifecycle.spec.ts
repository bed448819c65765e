import { randomUUID } from 'node:crypto';
import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from '../../test/support/databases.js';
import { type Engine, startEngine } from '../../test/support/engine.js';
import { INTERRUPTED_ERROR } from './run-lifecycle.service.js';
import type { RunRef } from './run-ref.js';

const USAGE = { promptTokens: 3, completionTokens: 5 };

/**
 * What RunLifecycle writes for each ending, read back from the log, the runs and intents and the
 * usage ledger; and that a closing which lost (the run had ended, or another closing won the
 * race) changes nothing at all.
 */
describeEachDatabase('RunLifecycle: endings and their events', (kind) => {
  let database: TestDatabase;
  let engine: Engine;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    // One retry: the first attempt's failure offers it, the second's does not.
    engine = await startEngine(database, { MAX_RETRIES: '1' });
  });
  afterAll(async () => {
    await engine?.close();
    await database?.drop();
  });
  afterEach(() => engine.faults.disarm());

  /** A run that has begun (task_started written), as its execution would begin it. */
  async function begun(): Promise<RunRef> {
    const run = await engine.newRun();
    expect(await engine.lifecycle.begin(run)).toBe(true);
    return run;
  }

  /** An open confirmation of the run (the run waiting for it). */
  async function question(run: RunRef): Promise<string> {
    const id = randomUUID();
    await engine.history.transaction(run.sessionId, async () => {
      await engine.store.transitionRun(run.runId, 'awaiting_input');
      await engine.store.insertInteraction({
        ...run,
        id,
        kind: 'confirm',
        payload: {},
        expiresAt: new Date(Date.now() + 60_000),
      });
    });
    return id;
  }

  const types = async (run: RunRef) => (await engine.log(run.sessionId)).map((e) => e.type);

  it('complete: the answer and task_completed; run and intent completed; one run counted', async () => {
    const run = await begun();
    expect(await engine.lifecycle.complete(run, 'the answer', USAGE)).toBe(true);
    expect(await engine.log(run.sessionId)).toEqual([
      { type: 'task_started', runId: run.runId, data: { attempt: 1 } },
      { type: 'response', runId: run.runId, data: { content: 'the answer' } },
      { type: 'task_completed', runId: run.runId, data: { usage: USAGE } },
    ]);
    expect(await engine.statusOf(run.runId)).toEqual({ run: 'completed', intent: 'completed' });
    expect(await engine.runsCounted(run.userId)).toBe(1);
  });

  it('cancel by the user: open questions closed, then task_cancelled; intent cancelled', async () => {
    const run = await begun();
    const asked = await question(run);
    expect(await engine.lifecycle.cancel(run, 'user')).toBe(true);
    expect((await engine.log(run.sessionId)).slice(1)).toEqual([
      {
        type: 'interaction_resolved',
        runId: run.runId,
        data: { interactionId: asked, outcome: 'cancelled' },
      },
      { type: 'task_cancelled', runId: run.runId, data: { reason: 'user' } },
    ]);
    expect(await engine.statusOf(run.runId)).toEqual({ run: 'cancelled', intent: 'cancelled' });
    expect(await engine.store.pendingOf({ sessionId: run.sessionId })).toEqual([]);
    expect(await engine.runsCounted(run.userId)).toBe(1);
  });

  it.each(['shutdown', 'expired'] as const)(
    'cancel for %s leaves the intent abandoned (resumable)',
    async (reason) => {
      const run = await begun();
      expect(await engine.lifecycle.cancel(run, reason)).toBe(true);
      expect((await engine.log(run.sessionId)).at(-1)).toEqual({
        type: 'task_cancelled',
        runId: run.runId,
        data: { reason },
      });
      expect(await engine.statusOf(run.runId)).toEqual({ run: 'cancelled', intent: 'abandoned' });
    },
  );

  it('fail with attempts left: task_failed offering a retry; the intent stays active', async () => {
    const run = await begun();
    expect(await engine.lifecycle.fail(run, 'boom', 'intent_recognition')).toBe(true);
    const [offer] = await engine.store.pendingOf({ sessionId: run.sessionId });
    expect(offer).toMatchObject({ run_id: run.runId, kind: 'retry' });
    expect((await engine.log(run.sessionId)).slice(1)).toEqual([
      {
        type: 'thinking',
        runId: run.runId,
        data: { step: 'intent_recognition', status: 'failed', detail: 'boom' },
      },
      {
        type: 'task_failed',
        runId: run.runId,
        data: { error: 'boom', attempt: 1, canRetry: true, interactionId: offer.id },
      },
    ]);
    expect(await engine.statusOf(run.runId)).toEqual({ run: 'failed', intent: 'active' });
    expect(await engine.runsCounted(run.userId)).toBe(1);
  });

  it('fail of the last attempt: task_failed without a retry; the intent failed', async () => {
    const first = await begun();
    await engine.lifecycle.fail(first, 'boom', undefined);
    const [offer] = await engine.store.pendingOf({ sessionId: first.sessionId });
    const { run } = await engine.history.transaction(first.sessionId, async () => {
      await engine.store.resolveInteraction(offer.id, 'retry', null, null);
      return engine.attempts.startNextAttempt(first.intentId, engine.launcher.nodeId);
    });
    expect(run.attempt).toBe(2);
    expect(await engine.lifecycle.begin(run)).toBe(true);
    expect(await engine.lifecycle.fail(run, 'boom again', undefined)).toBe(true);
    expect((await engine.log(run.sessionId)).at(-1)).toEqual({
      type: 'task_failed',
      runId: run.runId,
      data: { error: 'boom again', attempt: 2, canRetry: false },
    });
    expect(await engine.statusOf(run.runId)).toEqual({ run: 'failed', intent: 'failed' });
    expect(await engine.runsCounted(run.userId)).toBe(2);
  });

  it('interrupt: its open question closed, task_failed offering a retry', async () => {
    const run = await begun();
    const asked = await question(run);
    expect(await engine.lifecycle.interrupt(await engine.run(run.runId))).toBe(true);
    const [offer] = await engine.store.pendingOf({ sessionId: run.sessionId });
    expect((await engine.log(run.sessionId)).slice(1)).toEqual([
      {
        type: 'interaction_resolved',
        runId: run.runId,
        data: { interactionId: asked, outcome: 'cancelled' },
      },
      {
        type: 'task_failed',
        runId: run.runId,
        data: { error: INTERRUPTED_ERROR, attempt: 1, canRetry: true, interactionId: offer.id },
      },
    ]);
    expect(await engine.statusOf(run.runId)).toEqual({ run: 'interrupted', intent: 'active' });
  });

  it('every closing of an ended run is lost and writes nothing', async () => {
    const run = await begun();
    await engine.lifecycle.cancel(run, 'user');
    const log = await engine.log(run.sessionId);
    const row = await engine.run(run.runId);
    expect(await engine.lifecycle.begin(run)).toBe(false);
    expect(await engine.lifecycle.complete(run, 'late', USAGE)).toBe(false);
    expect(await engine.lifecycle.fail(run, 'late', undefined)).toBe(false);
    expect(await engine.lifecycle.cancel(run, 'admin')).toBe(false);
    expect(await engine.lifecycle.interrupt(row)).toBe(false);
    expect(await engine.lifecycle.checkpoint(run.runId, { transcript: [] })).toBe(false);
    expect(await engine.log(run.sessionId)).toEqual(log);
    expect(await engine.run(run.runId)).toEqual(row);
    expect(await engine.statusOf(run.runId)).toEqual({ run: 'cancelled', intent: 'cancelled' });
    expect(await engine.runsCounted(run.userId)).toBe(1);
  });

  it('task_started only while running: a run cancelled before it began never starts', async () => {
    const run = await engine.newRun();
    await engine.lifecycle.cancel(run, 'user');
    expect(await engine.lifecycle.begin(run)).toBe(false);
    expect(await types(run)).toEqual(['task_cancelled']);
  });

  it.each([
    { first: 'complete', second: 'cancel', ending: 'task_completed' },
    { first: 'cancel', second: 'complete', ending: 'task_cancelled' },
    { first: 'fail', second: 'cancel', ending: 'task_failed' },
  ] as const)(
    'two closings racing: $first holds its transition, $second loses',
    async ({ first, second, ending }) => {
      const run = await begun();
      const close = (how: 'complete' | 'cancel' | 'fail') =>
        how === 'complete'
          ? engine.lifecycle.complete(run, 'answer', USAGE)
          : how === 'cancel'
            ? engine.lifecycle.cancel(run, 'user')
            : engine.lifecycle.fail(run, 'boom', undefined);
      const closing = engine.faults.pause('run.closing');
      const winner = close(first);
      await closing.reached;
      // The second waits for the session lock the first holds, then finds the run ended.
      const loser = close(second);
      closing.release();
      expect(await Promise.all([winner, loser])).toEqual([true, false]);
      const log = await types(run);
      expect(log.filter((t) => t.startsWith('task_') && t !== 'task_started')).toEqual([ending]);
      expect(await engine.runsCounted(run.userId)).toBe(1);
    },
  );
});
