// Appends to one session's log as fast as it can and prints every event its subscriber receives
// ("PUBLISHED <seq>"). The crash test SIGKILLs it mid-stream. Runs on the built code (dist/).
import 'reflect-metadata';
import { Database } from '../../dist/src/database/database.js';
import { EventBus } from '../../dist/src/history/event-bus.js';
import { HistoryRepository } from '../../dist/src/history/history.repository.js';
import { HistoryService } from '../../dist/src/history/history.service.js';

const sessionId = process.env.SESSION_ID;
const db = await Database.open({
  url: process.env.DATABASE_URL || undefined,
  dataDir: process.env.DATA_DIR,
  migrate: true,
});
const bus = new EventBus();
const history = new HistoryService(new HistoryRepository(db), bus, {
  agent: { generatingCoalesceMs: 50 },
});
bus.subscribe(sessionId, (e) => process.stdout.write(`PUBLISHED ${e.seq}\n`));
process.stdout.write('READY\n');

let i = 0;
for (;;) {
  const n = 1 + (i % 4);
  const events = Array.from({ length: n }, (_, k) => ({
    type: 'response',
    data: { content: `e${i}-${k}` },
  }));
  // Several appends in flight at once, as many writers would have.
  await Promise.all([
    history.append(sessionId, events),
    history.append(sessionId, events.slice(0, 1)),
  ]);
  i++;
}
