import { randomUUID } from 'node:crypto';
import type { SessionEvent } from '../src/contracts/events.js';
import { Database } from '../src/database/database.js';
import { EventBus } from '../src/history/event-bus.js';
import { isRunEnded } from '../src/history/history-writer.js';
import { HistoryRepository } from '../src/history/history.repository.js';
import { HistoryService } from '../src/history/history.service.js';
import { describeEachDatabase } from './support/databases.js';
import { useTestApp } from './support/use-test-app.js';

const thinking = (runId: string) => ({
  type: 'thinking' as const,
  data: { step: 'tool_execution' as const, status: 'started' as const },
  runId,
});

/** The run fence of the group commit and of buffered text, at the event log's level. */
describeEachDatabase('event log: the run fence', (kind) => {
  const t = useTestApp(kind, { HISTORY_OUTAGE_WAIT_MS: '100' });

  let user: { accessToken: string; user: { id: string } };
  let db: Database;
  let repo: HistoryRepository;
  let history: HistoryService;
  let original: HistoryRepository['appendBatch'];

  beforeAll(async () => {
    user = await t.http.register();
    db = t.app.get(Database);
    repo = t.app.get(HistoryRepository);
    history = t.app.get(HistoryService);
    original = repo.appendBatch.bind(repo);
  });

  afterEach(() => {
    repo.appendBatch = original;
  });

  /** A session with one run in `status` (as another writer left it). */
  async function sessionWithRun(status: string): Promise<{ sessionId: string; runId: string }> {
    const sessionId = (await t.http.post('/sessions', {}, user.accessToken)).body.id as string;
    const intentId = randomUUID();
    const runId = randomUUID();
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO intents (id, session_id, user_id, content) VALUES ($1, $2, $3, 'x')`,
        [intentId, sessionId, user.user.id],
      );
      await tx.query(
        `INSERT INTO runs (id, intent_id, session_id, user_id, attempt, status, node_id) VALUES ($1, $2, $3, $4, 1, $5, 'test')`,
        [runId, intentId, sessionId, user.user.id, status],
      );
    });
    return { sessionId, runId };
  }

  const rowsOf = async (sessionId: string) =>
    db.query(`SELECT seq FROM chat_history WHERE session_id = $1`, [sessionId]);

  it('a fenced append whose COMMIT reply was lost is refused as run-ended by the retry, not NOT_FOUND', async () => {
    const { sessionId, runId } = await sessionWithRun('cancelled');
    // Fault point: the transaction commits, then the connection drops before its reply arrives.
    let failures = 0;
    repo.appendBatch = async (...args) => {
      const result = await original(...args);
      if (failures++ === 0) throw new Error('Connection terminated unexpectedly');
      return result;
    };
    const err = await history.append(sessionId, [thinking(runId)]).catch((e: unknown) => e);
    expect(failures).toBeGreaterThan(0);
    expect(isRunEnded(err)).toBe(true);
    expect(await rowsOf(sessionId)).toHaveLength(0);
  });

  it('an append is never half stored: its rows of no run fall with its fenced rows', async () => {
    const { sessionId, runId } = await sessionWithRun('cancelled');
    const published: SessionEvent[] = [];
    const sub = t.app.get(EventBus).subscribe(sessionId, (e) => published.push(e));
    try {
      const err = await history
        .append(sessionId, [
          { type: 'thinking', data: { step: 'tool_execution', status: 'started' } },
          thinking(runId),
        ])
        .catch((e: unknown) => e);
      expect(isRunEnded(err)).toBe(true);
      expect(await rowsOf(sessionId)).toHaveLength(0);
      expect(published).toEqual([]);
    } finally {
      sub();
    }
  });

  it("a run's fenced text tells it that it ended (CONFLICT), lost text that it was lost (UNAVAILABLE)", async () => {
    const ended = await sessionWithRun('cancelled');
    history.appendDelta(ended.sessionId, { runId: ended.runId }, 'fenced text');
    await history.settle(ended.sessionId);
    expect(() => history.appendDelta(ended.sessionId, { runId: ended.runId }, 'more')).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    const live = await sessionWithRun('running');
    // Fault point: the database is unreachable until the log gives the write up.
    repo.appendBatch = () => Promise.reject(new Error('Connection terminated unexpectedly'));
    history.appendDelta(live.sessionId, { runId: live.runId }, 'lost text');
    await history.settle(live.sessionId);
    repo.appendBatch = original;
    expect(() => history.appendDelta(live.sessionId, { runId: live.runId }, 'more')).toThrow(
      expect.objectContaining({ code: 'UNAVAILABLE' }),
    );
    expect(await rowsOf(ended.sessionId)).toHaveLength(0);
  });

  it("a transaction writing about a run whose fenced text was recorded is not refused (only the run's own writes are)", async () => {
    // A stale execution's text was fenced here (recorded for it), then another writer, a close or
    // an answer of that run's retry offer, appends an event carrying the run's id in a transaction.
    const ended = await sessionWithRun('interrupted');
    history.appendDelta(ended.sessionId, { runId: ended.runId }, 'fenced text');
    await history.settle(ended.sessionId);
    const stored = await history.transaction(ended.sessionId, () =>
      history.append(ended.sessionId, [
        {
          type: 'interaction_resolved',
          runId: ended.runId,
          data: { interactionId: randomUUID(), outcome: 'cancelled' },
        },
      ]),
    );
    expect(stored.map((e) => e.type)).toEqual(['interaction_resolved']);
    // The stale execution itself is still told that its run ended.
    expect(() => history.appendDelta(ended.sessionId, { runId: ended.runId }, 'more')).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
  });
});
