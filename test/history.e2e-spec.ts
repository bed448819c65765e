import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../src/config/app-config.js';
import type { SessionEvent } from '../src/contracts/events.js';
import { Database } from '../src/database/database.js';
import { EventBus } from '../src/history/event-bus.js';
import { laneIndex } from '../src/history/history-writer.js';
import { HistoryService } from '../src/history/history.service.js';
import { createTestDatabase, describeEachDatabase } from './support/databases.js';
import { Http } from './support/http.js';
import { startTestApp } from './support/test-app.js';
import { useTestApp } from './support/use-test-app.js';

async function newSessions(http: Http, token: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await http.post('/sessions', {}, token)).body.id);
  return ids;
}

async function storedSeqs(
  db: Database,
  sessionId: string,
): Promise<{ seq: number; content: any }[]> {
  const rows = await db.query<{ seq: string; content: any }>(
    'SELECT seq, content FROM chat_history WHERE session_id = $1 ORDER BY seq',
    [sessionId],
  );
  return rows.map((r) => ({ seq: Number(r.seq), content: r.content }));
}

/** Per session: seqs are exactly 1..n, each (writer, i) once, and each writer's events in order. */
function checkLog(rows: { seq: number; content: any }[], writers: number, perWriter: number): void {
  expect(rows.map((r) => r.seq)).toEqual(
    Array.from({ length: writers * perWriter }, (_, i) => i + 1),
  );
  const byWriter = new Map<number, number[]>();
  for (const r of rows) {
    const list = byWriter.get(r.content.detail.writer) ?? [];
    list.push(r.content.detail.i);
    byWriter.set(r.content.detail.writer, list);
  }
  expect(byWriter.size).toBe(writers);
  for (const list of byWriter.values()) {
    expect(list).toEqual(Array.from({ length: perWriter }, (_, i) => i));
  }
}

function writer(
  history: HistoryService,
  sessionId: string,
  w: number,
  count: number,
): Promise<void> {
  return (async () => {
    for (let i = 0; i < count; i++) {
      await history.append(sessionId, [
        {
          type: 'thinking',
          data: { step: 'tool_execution', status: 'started', detail: { writer: w, i } as any },
        },
      ]);
    }
  })();
}

describeEachDatabase('history (event log)', (kind) => {
  // One user creates well over 30 sessions here: the per-user creation rate is lifted.
  const t = useTestApp(kind, {
    GENERATING_COALESCE_MS: '40',
    RATE_LIMIT_SESSIONS_PER_MINUTE: '100000',
  });

  let token: string;
  let history: HistoryService;
  let db: Database;

  beforeAll(async () => {
    token = (await t.http.register()).accessToken;
    history = t.app.get(HistoryService);
    db = t.app.get(Database);
  });

  it('gives each session seqs 1..n with no gap or repeat under concurrent writers, in each writer’s order', async () => {
    const sessions = await newSessions(t.http, token, 8);
    const WRITERS = 4;
    const PER_WRITER = 15;
    await Promise.all(
      sessions.flatMap((s) =>
        Array.from({ length: WRITERS }, (_, w) => writer(history, s, w, PER_WRITER)),
      ),
    );
    for (const s of sessions) checkLog(await storedSeqs(db, s), WRITERS, PER_WRITER);
    const view = await t.http.get(`/sessions/${sessions[0]}`, token);
    expect(view.body.lastSeq).toBe(WRITERS * PER_WRITER);
  });

  it('writes appends from many sessions made in the same moment as one group commit', async () => {
    const sessions = await newSessions(t.http, token, 20);
    const flushes: number[] = [];
    history.onFlush = (events) => flushes.push(events);
    try {
      await Promise.all(
        sessions.map((s) => history.append(s, [{ type: 'response', data: { content: 'x' } }])),
      );
    } finally {
      history.onFlush = undefined;
    }
    expect(flushes.reduce((a, b) => a + b, 0)).toBe(20);
    // One group commit per writer lane (plus one for appends that arrived during a flush).
    const lanes = t.app.get<AppConfig>(APP_CONFIG).database.writerLanes;
    expect(flushes.length).toBeLessThanOrEqual(2 * lanes);
  });

  it('keeps each session in call order while several writer lanes flush at once', async () => {
    const sessions = await newSessions(t.http, token, 12);
    const perSession = 30;
    await Promise.all(
      sessions.flatMap((s) =>
        Array.from({ length: perSession }, (_, i) =>
          history.append(s, [{ type: 'response', data: { content: String(i) } }]),
        ),
      ),
    );
    for (const s of sessions) {
      const stored = await history.listAfter(s, 0, 1000);
      const responses = stored.filter((e) => e.type === 'response');
      expect(responses.map((e) => e.data.content)).toEqual(
        Array.from({ length: perSession }, (_, i) => String(i)),
      );
      expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
    }
  });

  it('publishes only after commit, in seq order, and resolves with the stored events', async () => {
    const [s] = await newSessions(t.http, token, 1);
    const seen: SessionEvent[] = [];
    const committed: Promise<boolean>[] = [];
    const unsubscribe = t.app.get(EventBus).subscribe(s, (e) => {
      seen.push(e);
      committed.push(
        db
          .query('SELECT 1 FROM chat_history WHERE session_id = $1 AND seq = $2', [s, e.seq])
          .then((r) => r.length === 1),
      );
    });
    const out = await history.append(s, [
      { type: 'task_started', data: { attempt: 1 } },
      { type: 'response', data: { content: 'done' } },
    ]);
    unsubscribe();
    expect(out.map((e) => [e.seq, e.type])).toEqual([
      [1, 'task_started'],
      [2, 'response'],
    ]);
    expect(seen.map((e) => e.seq)).toEqual([1, 2]);
    expect(await Promise.all(committed)).toEqual([true, true]);
  });

  it('coalesces generating deltas and writes them before the next event', async () => {
    const [s] = await newSessions(t.http, token, 1);
    const ids = { runId: randomUUID(), intentId: randomUUID() };
    const words = Array.from({ length: 60 }, (_, i) => `w${i} `);
    const started = Date.now();
    for (const w of words) {
      history.appendDelta(s, ids, w);
      await new Promise((r) => setTimeout(r, 2));
    }
    const elapsed = Date.now() - started;
    await history.append(s, [{ type: 'response', data: { content: words.join('') }, ...ids }]);
    const rows = await storedSeqs(db, s);
    const deltas = rows.slice(0, -1).map((r) => r.content.delta as string);
    expect(deltas.join('')).toBe(words.join(''));
    // At most one event per 40 ms window of deltas (however slow the machine made the loop),
    // and far fewer events than deltas.
    expect(deltas.length).toBeLessThanOrEqual(Math.ceil(elapsed / 40) + 1);
    expect(deltas.length).toBeLessThan(words.length / 2);
    expect(rows[rows.length - 1].content).toEqual({ content: words.join('') });
    expect(history.bufferedSessions).toBe(0);
  });

  it('rejects appends to a session that does not exist, without harming a batch', async () => {
    const [s] = await newSessions(t.http, token, 1);
    const [bad, good] = await Promise.allSettled([
      history.append(randomUUID(), [{ type: 'response', data: { content: 'x' } }]),
      history.append(s, [{ type: 'response', data: { content: 'y' } }]),
    ]);
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason.code).toBe('NOT_FOUND');
    expect(good.status).toBe('fulfilled');
  });

  it('a query inside a transaction uses its connection; a nested transaction joins it', async () => {
    const [s] = await newSessions(t.http, token, 1);
    const title = await db.transaction(async () => {
      await db.query(`UPDATE sessions SET title = 'inside' WHERE id = $1`, [s]);
      // On PGlite a second connection would wait for this transaction forever.
      await db.transaction(() =>
        db.query(`UPDATE sessions SET title = 'nested' WHERE id = $1`, [s]),
      );
      return (await db.query<{ title: string }>('SELECT title FROM sessions WHERE id = $1', [s]))[0]
        .title;
    });
    expect(title).toBe('nested');
    await expect(
      db.transaction(async () => {
        await db.query(`UPDATE sessions SET title = 'rolled back' WHERE id = $1`, [s]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const rows = await db.query<{ title: string }>('SELECT title FROM sessions WHERE id = $1', [s]);
    expect(rows[0].title).toBe('nested');
  });

  it('an append inside a transaction is stored with it and published only after COMMIT', async () => {
    const [s] = await newSessions(t.http, token, 1);
    const seen: number[] = [];
    const unsubscribe = t.app.get(EventBus).subscribe(s, (e) => seen.push(e.seq));
    try {
      const ids = { runId: randomUUID(), intentId: randomUUID() };
      const queued = history.append(s, [{ type: 'response', data: { content: 'queued' } }]);
      const stored = await history.transaction(s, async (locked) => {
        expect(locked?.status).toBe('active');
        history.appendDelta(s, ids, 'streamed ');
        const out = await history.append(s, [{ type: 'task_started', data: { attempt: 1 } }]);
        expect(seen).toEqual([1]);
        return out;
      });
      // What was called first keeps its place in the log: the queued append, then the delta.
      expect((await queued).map((e) => e.seq)).toEqual([1]);
      expect(stored.map((e) => e.seq)).toEqual([3]);
      expect(seen).toEqual([1, 2, 3]);

      await expect(
        db.transaction(async () => {
          await history.append(s, [{ type: 'response', data: { content: 'never' } }]);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      const [after] = await history.append(s, [{ type: 'response', data: { content: 'next' } }]);
      expect(after.seq).toBe(4);
      expect(seen).toEqual([1, 2, 3, 4]);
      expect((await storedSeqs(db, s)).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    } finally {
      unsubscribe();
    }
  });

  if (kind === 'postgres') {
    it('a transaction about one session waits for its own writer lane only', async () => {
      const lanes = t.app.get<AppConfig>(APP_CONFIG).database.writerLanes;
      expect(lanes).toBeGreaterThan(1);
      const sessions = await newSessions(t.http, token, 12);
      const a = sessions[0];
      const b = sessions.find((s) => laneIndex(s, lanes) !== laneIndex(a, lanes));
      if (!b) throw new Error('no two sessions in different lanes');
      // Another transaction holds b's row: the group commit of b's lane waits for it.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let lockTaken!: () => void;
      const taken = new Promise<void>((r) => (lockTaken = r));
      const holder = db.transaction(async () => {
        await db.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [b]);
        lockTaken();
        await gate;
      });
      try {
        await taken;
        let bStored = false;
        const bAppend = history
          .append(b, [{ type: 'response', data: { content: 'held' } }])
          .then((out) => ((bStored = true), out));
        const aQueued = history.append(a, [{ type: 'response', data: { content: 'queued' } }]);
        const inTx = await history.transaction(a, () =>
          history.append(a, [{ type: 'response', data: { content: 'in tx' } }]),
        );
        expect(bStored).toBe(false);
        expect((await aQueued).map((e) => e.seq)).toEqual([1]);
        expect(inTx.map((e) => e.seq)).toEqual([2]);
        release();
        await holder;
        expect((await bAppend).map((e) => e.seq)).toEqual([1]);
      } finally {
        release();
        await holder;
      }
    });

    it('keeps seqs gap-free when two app instances append to the same sessions', async () => {
      const other = await startTestApp(t.database, { DATA_DIR: t.database.dataDir + '-b' });
      try {
        const sessions = await newSessions(t.http, token, 4);
        const h2 = other.app.get(HistoryService);
        await Promise.all(
          sessions.flatMap((s) => [
            writer(history, s, 0, 20),
            writer(h2, s, 1, 20),
            writer(history, s, 2, 20),
            writer(h2, s, 3, 20),
          ]),
        );
        for (const s of sessions) checkLog(await storedSeqs(db, s), 4, 20);
      } finally {
        await other.close();
      }
    });
  }
});

describe('history without the app', () => {
  it('appends to several Database instances in one process (no shared state)', async () => {
    const a = await createTestDatabase('pglite');
    const db = await Database.open({ url: undefined, dataDir: a.dataDir, migrate: true });
    try {
      const tables = await db.query<{ n: string }>(`SELECT count(*) AS n FROM chat_history`);
      expect(tables[0].n).toBe('0');
    } finally {
      await db.close();
      await a.drop();
    }
  });
});
