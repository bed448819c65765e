import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../src/config/app-config.js';
import { Database } from '../src/database/database.js';
import { EventBus } from '../src/history/event-bus.js';
import { HistoryRepository } from '../src/history/history.repository.js';
import { HistoryService } from '../src/history/history.service.js';

export interface HistoryBenchResult {
  engine: string;
  events: number;
  logRowsPerS: number;
  rawRowsPerS: number;
  ratio: number;
  meanFlush: number;
}

/**
 * Event-log write rate (HistoryService.append from many concurrent writers: seq allocation,
 * group commit, publish) against the raw ceiling: pre-numbered multi-row INSERTs of the same
 * batch size into the same table, one after another. Same process, same database, same run.
 */
export async function benchHistoryAppend(opts: {
  url?: string;
  sessions: number;
  eventsPerSession: number;
}): Promise<HistoryBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-history-'));
  const db = await Database.open({ url: opts.url, dataDir, migrate: true, poolSize: 20 });
  try {
    const userId = randomUUID();
    await db.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
      userId,
      `${userId}@bench`,
    ]);
    const sessions = Array.from({ length: opts.sessions }, () => randomUUID());
    const rawSession = randomUUID();
    for (const id of [...sessions, rawSession]) {
      await db.query(`INSERT INTO sessions (id, user_id) VALUES ($1, $2)`, [id, userId]);
    }
    const history = new HistoryService(new HistoryRepository(db), new EventBus(), {
      agent: { generatingCoalesceMs: 50 },
      database: { url: opts.url, poolSize: 20, writerLanes: opts.url ? 4 : 1 },
    } as AppConfig);
    const flushes: number[] = [];
    history.onFlush = (n) => flushes.push(n);

    const total = opts.sessions * opts.eventsPerSession;
    const logStart = performance.now();
    await Promise.all(
      sessions.map(async (s) => {
        for (let i = 0; i < opts.eventsPerSession; i++) {
          await history.append(s, [{ type: 'generating', data: { delta: `token ${i} ` } }]);
        }
      }),
    );
    const logMs = performance.now() - logStart;
    const meanFlush = flushes.reduce((a, b) => a + b, 0) / flushes.length;

    const batch = Math.max(1, Math.round(meanFlush));
    let seq = 0;
    const rawStart = performance.now();
    for (let written = 0; written < total; written += batch) {
      const n = Math.min(batch, total - written);
      const values: string[] = [];
      const params: unknown[] = [rawSession, userId];
      for (let k = 0; k < n; k++) {
        params.push(++seq, JSON.stringify({ delta: `token ${seq} ` }));
        values.push(`($1, $${params.length - 1}, $2, 'generating', $${params.length}::jsonb)`);
      }
      await db.query(
        `INSERT INTO chat_history (session_id, seq, user_id, message_type, content) VALUES ${values.join(', ')}`,
        params,
      );
    }
    const rawMs = performance.now() - rawStart;

    const logRowsPerS = (total / logMs) * 1000;
    const rawRowsPerS = (total / rawMs) * 1000;
    return {
      engine: db.kind,
      events: total,
      logRowsPerS,
      rawRowsPerS,
      ratio: logRowsPerS / rawRowsPerS,
      meanFlush,
    };
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
