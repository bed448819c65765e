import { Database } from '../src/database/database.js';
import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from './support/databases.js';
import { Http } from './support/http.js';
import { lifecycleProblems, storedLog, waitFor } from './support/lifecycle.js';
import { startServerProcess } from './support/server-process.js';

const CLOSING = ['task_completed', 'task_cancelled', 'task_failed'];

/**
 * The process dies between a run's state change and its closing event (FAULT_CRASH_AT, a
 * test-only fault point); after a restart every run that is no longer active has its closing
 * event. Runs the built service (`npm run build` first).
 */
describeEachDatabase('a crash while a run closes', (kind) => {
  let target: TestDatabase;

  beforeAll(async () => {
    target = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await target?.drop();
  });

  it('leaves no ended run without its closing event', async () => {
    const env = {
      NODE_ENV: 'test',
      DATA_DIR: target.dataDir,
      BUILTIN_TOKEN_DELAY_MS: '1',
      ...(target.url ? { DATABASE_URL: target.url } : {}),
    };
    const doomed = await startServerProcess({ ...env, FAULT_CRASH_AT: 'run.closing' });
    const http = new Http(doomed.baseUrl);
    const token = (await http.register('crash')).accessToken;
    const sessionId = (await http.post('/sessions', {}, token)).body.id as string;
    expect(
      (await http.post(`/sessions/${sessionId}/messages`, { content: 'hi' }, token)).status,
    ).toBe(202);
    const crashed = await Promise.race([
      doomed.exited.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 30_000)),
    ]);
    if (!crashed) await doomed.stop('SIGKILL');
    expect(crashed).toBe(true);

    const restarted = await startServerProcess(env);
    try {
      const replay = async () =>
        (await new Http(restarted.baseUrl).get(`/sessions/${sessionId}/events`, token)).body;
      // Recovery at start-up closes what the dead process left open.
      await waitFor(async () => {
        const body = await replay();
        return (body.items ?? []).some((e: any) => CLOSING.includes(e.type));
      });
    } finally {
      await restarted.stop();
    }

    const db = await Database.open({ url: target.url, dataDir: target.dataDir, migrate: false });
    try {
      const log = await storedLog(db, sessionId);
      expect(lifecycleProblems(log)).toEqual([]);
      const runs = await db.query<{ id: string; status: string }>(
        'SELECT id, status FROM runs WHERE session_id = $1',
        [sessionId],
      );
      expect(runs).toHaveLength(1);
      expect(['running', 'awaiting_input']).not.toContain(runs[0].status);
      const closing = log.filter((e) => e.runId === runs[0].id && CLOSING.includes(e.type));
      expect(closing).toHaveLength(1);
    } finally {
      await db.close();
    }
  }, 120_000);
});
