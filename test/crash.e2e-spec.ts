import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Database } from '../src/database/database.js';
import { EventBus } from '../src/history/event-bus.js';
import { HistoryRepository } from '../src/history/history.repository.js';
import { HistoryService } from '../src/history/history.service.js';
import type { AppConfig } from '../src/config/app-config.js';
import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from './support/databases.js';

const WORKER = fileURLToPath(new URL('./support/append-worker.mjs', import.meta.url));

async function seedSession(target: TestDatabase): Promise<string> {
  const db = await Database.open({ url: target.url, dataDir: target.dataDir, migrate: true });
  try {
    const userId = randomUUID();
    const sessionId = randomUUID();
    await db.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
      userId,
      `${userId}@example.com`,
    ]);
    await db.query(`INSERT INTO sessions (id, user_id) VALUES ($1, $2)`, [sessionId, userId]);
    return sessionId;
  } finally {
    await db.close();
  }
}

/** Runs the append worker until `published` seqs were reported, then SIGKILLs it. */
function runAndKill(target: TestDatabase, sessionId: string, published: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [WORKER], {
      env: {
        PATH: process.env.PATH ?? '',
        SESSION_ID: sessionId,
        DATA_DIR: target.dataDir,
        DATABASE_URL: target.url ?? '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const seqs: number[] = [];
    let buf = '';
    let err = '';
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    proc.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^PUBLISHED (\d+)$/.exec(line);
        if (m) seqs.push(Number(m[1]));
      }
      if (seqs.length >= published && proc.exitCode === null) proc.kill('SIGKILL');
    });
    proc.once('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(seqs);
      else reject(new Error(`worker exited with ${code}: ${err}`));
    });
  });
}

describeEachDatabase('crash safety of the event log', (kind) => {
  let target: TestDatabase;
  beforeAll(async () => {
    target = await createTestDatabase(kind);
  });
  afterAll(async () => target?.drop());

  it('keeps every event a subscriber saw after SIGKILL, and continues at last seq + 1', async () => {
    const sessionId = await seedSession(target);
    const published = await runAndKill(target, sessionId, 300);
    expect(published.length).toBeGreaterThanOrEqual(300);

    // Reopen as a restarted process would (PGlite recovers its WAL; the stale lock is taken over).
    const db = await Database.open({ url: target.url, dataDir: target.dataDir, migrate: true });
    try {
      const rows = await db.query<{ seq: string }>(
        'SELECT seq FROM chat_history WHERE session_id = $1 ORDER BY seq',
        [sessionId],
      );
      const stored = rows.map((r) => Number(r.seq));
      expect(stored).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
      for (const seq of published) expect(stored).toContain(seq);
      const [session] = await db.query<{ last_seq: string }>(
        'SELECT last_seq FROM sessions WHERE id = $1',
        [sessionId],
      );
      expect(Number(session.last_seq)).toBe(stored.length);

      const history = new HistoryService(new HistoryRepository(db), new EventBus(), {
        agent: { generatingCoalesceMs: 50 },
      } as AppConfig);
      const [next] = await history.append(sessionId, [
        { type: 'response', data: { content: 'after restart' } },
      ]);
      expect(next.seq).toBe(stored.length + 1);
    } finally {
      await db.close();
    }
  });
});
