import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from '../../../test/support/databases.js';
import type { AppConfig } from '../../config/app-config.js';
import { loadConfig } from '../../config/config.loader.js';
import { ConfigModule } from '../../config/config.module.js';
import type { NewEvent } from '../../contracts/events.js';
import { Database } from '../../database/database.js';
import { DatabaseModule } from '../../database/database.module.js';
import { HistoryModule } from '../../history/history.module.js';
import { HistoryService } from '../../history/history.service.js';
import { ConversationContextBuilder } from './conversation-context.builder.js';
import { ConversationLogReader } from './conversation-log.reader.js';
import { systemPrompt } from './system-prompt.js';
import { TOKEN_COUNTER } from './token-counter.factory.js';
import { WordTokenCounter } from './word.token-counter.js';

describeEachDatabase('ConversationContextBuilder: memory follows the branch', (kind) => {
  let database: TestDatabase;
  let module: TestingModule;
  let history: HistoryService;
  let db: Database;
  let reader: ConversationLogReader;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: database.dataDir,
      ...(database.url ? { DATABASE_URL: database.url } : {}),
    });
    module = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), DatabaseModule, HistoryModule],
      providers: [
        ConversationLogReader,
        ConversationContextBuilder,
        { provide: TOKEN_COUNTER, useValue: new WordTokenCounter() },
      ],
    }).compile();
    module.useLogger(false);
    await module.init();
    history = module.get(HistoryService);
    db = module.get(Database);
    reader = module.get(ConversationLogReader);
  });

  afterAll(async () => {
    await module.close();
    await database.drop();
  });

  /** A fresh builder (its own cache) over the same log; `maxTokens` sets its budget. */
  const builderWith = (maxTokens = 4000): ConversationContextBuilder =>
    new ConversationContextBuilder(
      { limits: { contextMaxTokens: maxTokens } } as AppConfig,
      reader,
      new WordTokenCounter(),
    );

  const newSession = async (): Promise<string> => {
    const userId = randomUUID();
    const sessionId = randomUUID();
    await db.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
      userId,
      `${userId}@context.test`,
    ]);
    await db.query(`INSERT INTO sessions (id, user_id) VALUES ($1, $2)`, [sessionId, userId]);
    return sessionId;
  };

  /** Writes a session's log the way sends and runs do. Ids are short names mapped to uuids. */
  const logOf = (sessionId: string) => {
    const ids = new Map<string, string>();
    const id = (name: string): string => {
      if (!ids.has(name)) ids.set(name, randomUUID());
      return ids.get(name) as string;
    };
    const write = (events: NewEvent[]) => history.append(sessionId, events);
    return {
      id,
      send: (name: string, content: string, parent: string | null, queued = false) =>
        write([
          {
            type: 'user_message',
            intentId: id(name),
            data: {
              content,
              clientMessageId: randomUUID(),
              parentIntentId: parent === null ? null : id(parent),
              ...(queued ? { queued: true as const } : {}),
            },
          },
        ]),
      /** A message logged before messages carried parentIntentId. */
      sendOld: (name: string, content: string) =>
        write([
          {
            type: 'user_message',
            intentId: id(name),
            data: { content, clientMessageId: randomUUID() },
          } as unknown as NewEvent,
        ]),
      start: (name: string, run = 1) =>
        write([
          {
            type: 'task_started',
            intentId: id(name),
            runId: id(`${name}#${run}`),
            data: { attempt: run },
          },
        ]),
      stream: (name: string, delta: string, run = 1) =>
        write([
          { type: 'generating', intentId: id(name), runId: id(`${name}#${run}`), data: { delta } },
        ]),
      answer: (name: string, content: string, run = 1) =>
        write([
          {
            type: 'generating',
            intentId: id(name),
            runId: id(`${name}#${run}`),
            data: { delta: content },
          },
          { type: 'response', intentId: id(name), runId: id(`${name}#${run}`), data: { content } },
          {
            type: 'task_completed',
            intentId: id(name),
            runId: id(`${name}#${run}`),
            data: { usage: { promptTokens: 1, completionTokens: 1 } },
          },
        ]),
      cancel: (name: string, reason: 'interrupted' | 'rolled_back' | 'user', run = 1) =>
        write([
          {
            type: 'task_cancelled',
            intentId: id(name),
            runId: id(`${name}#${run}`),
            data: { reason },
          },
        ]),
      dequeue: (name: string) =>
        write([{ type: 'intent_dequeued', data: { intentId: id(name), reason: 'user' } }]),
    };
  };

  const build = (b: ConversationContextBuilder, sessionId: string, intentId: string) =>
    b.build({ sessionId, intentId, transcript: [], tools: [], now: new Date(0) });

  const said = (earlier: { role: string; content: string }[]): string[] =>
    earlier.map((m) => `${m.role}: ${m.content}`);

  it('gives a run the turns of its branch only: edits, rollbacks, queue and interrupts', async () => {
    const sessionId = await newSession();
    const log = logOf(sessionId);
    await log.send('a', 'what is 2 + 2', null);
    await log.start('a');
    await log.answer('a', '4');
    await log.send('b', 'tell a story', 'a');
    await log.start('b');
    await log.stream('b', 'once upon');
    await log.cancel('b', 'interrupted');
    await log.send('c', 'wrong turn', 'b');
    await log.start('c');
    await log.cancel('c', 'rolled_back');
    await log.send('q', 'queued then dropped', 'c', true);
    await log.dequeue('q');
    // An edit of b: a sibling under a.
    await log.send('b2', 'tell a joke', 'a');
    await log.start('b2');
    await log.answer('b2', 'a joke');
    await log.send('d', 'recap', 'q');
    await log.start('d');
    await log.send('e', 'recap', 'b2');
    await log.start('e');

    const builder = builderWith();
    const d = await build(builder, sessionId, log.id('d'));
    expect(said(d.earlier)).toEqual([
      'user: what is 2 + 2',
      'assistant: 4',
      'user: tell a story',
      'assistant: once upon',
    ]);
    expect(d.droppedTurns).toBe(0);
    const e = await build(builder, sessionId, log.id('e'));
    expect(said(e.earlier)).toEqual([
      'user: what is 2 + 2',
      'assistant: 4',
      'user: tell a joke',
      'assistant: a joke',
    ]);
  });

  it('reads a log written before parent links as one line, and new messages continue it', async () => {
    const sessionId = await newSession();
    const log = logOf(sessionId);
    await log.sendOld('a', 'one');
    await log.start('a');
    await log.answer('a', 'A');
    await log.sendOld('b', 'two');
    await log.start('b');
    await log.send('c', 'three', 'b');
    await log.start('c');
    const ctx = await build(builderWith(), sessionId, log.id('c'));
    expect(said(ctx.earlier)).toEqual(['user: one', 'assistant: A', 'user: two']);
  });

  it('sees what was logged after its first build, reading only that', async () => {
    const sessionId = await newSession();
    const log = logOf(sessionId);
    await log.send('a', 'first', null);
    await log.start('a');
    await log.answer('a', 'one');
    await log.send('b', 'second', 'a', true);
    await log.send('c', 'third', 'b', true);
    const builder = builderWith();
    const newest = jest.spyOn(reader, 'newest');
    const after = jest.spyOn(reader, 'after');
    try {
      expect(said((await build(builder, sessionId, log.id('c'))).earlier)).toEqual([
        'user: first',
        'assistant: one',
      ]);
      const [{ last_seq: seqOfFirstBuild }] = await db.query<{ last_seq: string }>(
        `SELECT last_seq FROM sessions WHERE id = $1`,
        [sessionId],
      );
      // The queued b starts and answers; a regenerate of it answers again.
      await log.start('b');
      await log.answer('b', 'two');
      await log.start('b', 2);
      await log.answer('b', 'two again', 2);
      await log.start('c');
      expect(said((await build(builder, sessionId, log.id('c'))).earlier)).toEqual([
        'user: first',
        'assistant: one',
        'user: second',
        'assistant: two again',
      ]);
      expect(newest).toHaveBeenCalledTimes(1);
      expect(after).toHaveBeenCalledTimes(1);
      expect(after.mock.calls[0].slice(0, 2)).toEqual([sessionId, Number(seqOfFirstBuild)]);
    } finally {
      newest.mockRestore();
      after.mockRestore();
    }
  });

  it('keeps the newest turns of the branch within the budget and counts the rest dropped', async () => {
    const sessionId = await newSession();
    const log = logOf(sessionId);
    await log.send('a', 'one two three', null);
    await log.start('a');
    await log.answer('a', 'four five');
    await log.send('b', 'six', 'a');
    await log.start('b');
    await log.answer('b', 'seven eight');
    await log.send('c', 'nine', 'b');
    await log.start('c');
    // After the system prompt 7 words are left: b (3 words) fits, a (5) then does not.
    const system = new WordTokenCounter().count(systemPrompt([], new Date(0)));
    const ctx = await build(builderWith(system + 7), sessionId, log.id('c'));
    expect(said(ctx.earlier)).toEqual(['user: six', 'assistant: seven eight']);
    expect(ctx.droppedTurns).toBe(1);
  });

  it('reads, on a first read, from the message of the n-th newest intent on', async () => {
    const sessionId = await newSession();
    const log = logOf(sessionId);
    await log.send('a', 'one', null);
    await log.start('a');
    await log.send('b', 'two', 'a');
    await log.start('b');
    await log.answer('b', 'B');
    await log.send('c', 'three', 'b');
    const entries = await reader.newest(sessionId, 2);
    expect(entries.map((e) => e.kind)).toEqual([
      'message',
      'started',
      'delta',
      'response',
      'message',
    ]);
    expect(entries[0].intentId).toBe(log.id('b'));
  });
});
