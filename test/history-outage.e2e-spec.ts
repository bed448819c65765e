import type { SessionEvent } from '../src/contracts/events.js';
import { Database } from '../src/database/database.js';
import { EventBus } from '../src/history/event-bus.js';
import { laneIndex } from '../src/history/history-writer.js';
import { HistoryRepository } from '../src/history/history.repository.js';
import { HistoryService } from '../src/history/history.service.js';
import { describeEachDatabase } from './support/databases.js';
import { useTestApp } from './support/use-test-app.js';

describeEachDatabase('event log: a COMMIT whose reply was lost', (kind) => {
  const t = useTestApp(kind, { HISTORY_OUTAGE_WAIT_MS: '100' });

  let token: string;

  beforeAll(async () => {
    token = (await t.http.register()).accessToken;
  });

  it('is not written a second time by the retry, and the append resolves with what was stored', async () => {
    const sessionId: string = (await t.http.post('/sessions', {}, token)).body.id;
    const repo = t.app.get(HistoryRepository);
    const history = t.app.get(HistoryService);
    const published: SessionEvent[] = [];
    const sub = t.app.get(EventBus).subscribe(sessionId, (e) => published.push(e));
    // Fault point: the transaction commits, then the connection drops before its reply arrives.
    const original = repo.appendBatch.bind(repo);
    let failures = 0;
    repo.appendBatch = async (...args) => {
      const result = await original(...args);
      if (failures++ === 0) throw new Error('Connection terminated unexpectedly');
      return result;
    };
    try {
      const stored = await history.append(sessionId, [
        { type: 'thinking', data: { step: 'tool_execution', status: 'started' } },
      ]);
      const rows = await t.app
        .get(Database)
        .query<{ seq: string; created_at: Date }>(
          `SELECT seq, created_at FROM chat_history WHERE session_id = $1 AND message_type = 'thinking'`,
          [sessionId],
        );
      expect(rows).toHaveLength(1);
      expect(stored.map((e) => e.seq)).toEqual([Number(rows[0].seq)]);
      expect(stored[0].createdAt).toBe(new Date(rows[0].created_at).toISOString());
      expect(published.filter((e) => e.type === 'thinking').map((e) => e.seq)).toEqual([
        Number(rows[0].seq),
      ]);
    } finally {
      repo.appendBatch = original;
      sub();
    }
  });

  it('after an outage it gave up on, a poisoned append again fails alone, not its batch-mates', async () => {
    const [a, b] = await Promise.all([
      t.http.post('/sessions', {}, token).then((r) => r.body.id as string),
      t.http.post('/sessions', {}, token).then((r) => r.body.id as string),
    ]);
    const repo = t.app.get(HistoryRepository);
    const history = t.app.get(HistoryService);
    const original = repo.appendBatch.bind(repo);
    // Fault point: the database is unreachable until the log gives the write up.
    repo.appendBatch = () => Promise.reject(new Error('Connection terminated unexpectedly'));
    await expect(
      history.append(a, [
        { type: 'thinking', data: { step: 'tool_execution', status: 'started' } },
      ]),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    repo.appendBatch = original;
    // Back: one batch holding an append the database refuses (NUL) and a good one.
    const poisoned = history.append(a, [
      { type: 'thinking', data: { step: 'tool_execution', status: 'started', detail: 'x\u0000' } },
    ] as any);
    const good = history.append(b, [
      { type: 'thinking', data: { step: 'tool_execution', status: 'started' } },
    ]);
    await expect(poisoned).rejects.toBeDefined();
    expect((await good).map((e) => e.sessionId)).toEqual([b]);
  });
});

describeEachDatabase('event log: an outage with several writer lanes', (kind) => {
  const t = useTestApp(kind, { HISTORY_OUTAGE_WAIT_MS: '20000', HISTORY_WRITER_LANES: '4' });

  let token: string;

  beforeAll(async () => {
    token = (await t.http.register()).accessToken;
  });

  it('retries every lane in order: each session keeps its call order, nothing is lost or doubled', async () => {
    const sessions: string[] = [];
    // Sessions in at least two lanes, so that two lanes retry at the same time.
    while (sessions.length < 8 || new Set(sessions.map((s) => laneIndex(s, 4))).size < 2)
      sessions.push((await t.http.post('/sessions', {}, token)).body.id as string);
    const repo = t.app.get(HistoryRepository);
    const history = t.app.get(HistoryService);
    const original = repo.appendBatch.bind(repo);
    let refused = 0;
    // Fault point: the database is unreachable for the first writes of every lane.
    repo.appendBatch = (...args) =>
      refused++ < 6
        ? Promise.reject(new Error('Connection terminated unexpectedly'))
        : original(...args);
    try {
      const appends = sessions.map((sessionId) =>
        Array.from({ length: 5 }, (_, i) =>
          history.append(sessionId, [
            {
              type: 'thinking',
              data: { step: 'tool_execution', status: 'started', detail: `${i}` },
            },
          ]),
        ),
      );
      const stored = await Promise.all(appends.map((list) => Promise.all(list)));
      expect(refused).toBeGreaterThan(6);
      for (const [k, sessionId] of sessions.entries()) {
        const rows = await t.app.get(Database).query<{ seq: string; content: { detail: string } }>(
          `SELECT seq, content FROM chat_history
             WHERE session_id = $1 AND message_type = 'thinking' ORDER BY seq`,
          [sessionId],
        );
        expect(rows.map((r) => r.content.detail)).toEqual(['0', '1', '2', '3', '4']);
        expect(stored[k].map(([e]) => e.seq)).toEqual(rows.map((r) => Number(r.seq)));
      }
    } finally {
      repo.appendBatch = original;
    }
  });
});
