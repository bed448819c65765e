import pg from 'pg';
import { ReminderSchedulerService } from '../src/reminders/reminder-scheduler.service.js';
import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from './support/databases.js';
import { Http } from './support/http.js';
import { type ServerProcess, startServerProcess } from './support/server-process.js';
import { serviceUrl } from './support/services.js';
import { useTestApp } from './support/use-test-app.js';

/** PGlite's first start (WAL replay, migrations) is slow on a loaded machine. */
const START_MS = 120_000;

const waitFor = async <T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
};

describeEachDatabase('reminders across a restart', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => db?.drop());

  it('a reminder that fell due while the service was stopped fires once at the next start', async () => {
    const env = {
      DATA_DIR: db.dataDir,
      ...(db.url ? { DATABASE_URL: db.url } : {}),
      BUILTIN_TOKEN_DELAY_MS: '1',
      REMINDER_POLL_INTERVAL_MS: '100',
    };
    const first = await startServerProcess(env, START_MS);
    let http = new Http(first.baseUrl);
    const user = await http.register('restart');
    const token = user.accessToken;
    const sessionId = (await http.post('/sessions', {}, token)).body.id as string;
    const sent = await http.post(
      `/sessions/${sessionId}/messages`,
      { content: 'remind me in 20 seconds to take the cake out', clientMessageId: 'cake' },
      token,
    );
    expect(sent.status).toBe(202);
    const made = await waitFor(async () => {
      const r = await http.get('/reminders', token);
      return r.body.items?.[0] as { id: string; dueAt: string; status: string } | undefined;
    });
    expect((await first.stop('SIGTERM')).code).toBe(0);
    const dueAt = new Date(made.dueAt).getTime();
    // The test only means something if the service was down when the reminder fell due.
    expect(made.status).toBe('scheduled');
    expect(Date.now()).toBeLessThan(dueAt);
    await waitFor(() => Promise.resolve(Date.now() > dueAt + 500 ? true : undefined));

    const second = await startServerProcess(env, START_MS);
    try {
      http = new Http(second.baseUrl);
      const due = await waitFor(async () => {
        const r = await http.get(`/sessions/${sessionId}/events?limit=1000`, token);
        const hits = (r.body.items as any[]).filter((e) => e.type === 'reminder_due');
        return hits.length ? hits : undefined;
      });
      expect(due).toHaveLength(1);
      expect(due[0].data).toEqual({
        reminderId: made.id,
        label: 'take the cake out',
        dueAt: made.dueAt,
      });
      const [r] = (await http.get('/reminders', token)).body.items;
      expect(r).toMatchObject({ id: made.id, status: 'fired' });
      expect(new Date(r.firedAt).getTime()).toBeGreaterThan(dueAt);
      expect(first.output()).not.toMatch(/reminder due/);
    } finally {
      await second.stop('SIGTERM');
    }
  }, 300_000);
});

describeEachDatabase('a crash inside the tool round', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => db?.drop());

  it('SIGKILL after the reminder was stored, before the checkpoint: the retry makes no second one', async () => {
    const env = {
      DATA_DIR: db.dataDir,
      DATABASE_URL: db.url ?? '',
      BUILTIN_TOKEN_DELAY_MS: '1',
      JWT_SECRET: 'crash-in-the-tool-round-test-secret',
      NODE_ENV: 'test',
    };
    let first: ServerProcess | undefined;
    try {
      // The process kills itself right after the tool's side effect (FAULT_CRASH_AT): the
      // reminder row is committed, the ledger entry not completed, the checkpoint not saved.
      first = await startServerProcess({ ...env, FAULT_CRASH_AT: 'tool.executed' }, START_MS);
      let http = new Http(first.baseUrl);
      const user = await http.register('tool-crash');
      const token = user.accessToken;
      const sessionId = (await http.post('/sessions', {}, token)).body.id as string;
      const sent = await http.post(
        `/sessions/${sessionId}/messages`,
        { content: 'remind me to feed the cat in 2 hours', clientMessageId: 'cat' },
        token,
      );
      expect(sent.status).toBe(202);
      await first.exited;

      const second = await startServerProcess(env, START_MS);
      try {
        http = new Http(second.baseUrl);
        const offer = await waitFor(async () => {
          const r = await http.get(`/sessions/${sessionId}`, token);
          return r.body.state?.pendingInteraction as { id: string; kind: string } | undefined;
        });
        expect(offer.kind).toBe('retry');
        // The first attempt's side effect survived the crash.
        expect((await http.get('/reminders', token)).body.items).toHaveLength(1);
        const answered = await http.post(
          `/sessions/${sessionId}/interactions/${offer.id}`,
          { response: { retry: true } },
          token,
        );
        expect(answered.status).toBe(200);
        const events = await waitFor(async () => {
          const r = await http.get(`/sessions/${sessionId}/events?limit=1000`, token);
          const items = r.body.items as any[];
          return items.some((e) => e.type === 'task_completed') ? items : undefined;
        });
        expect(events.find((e) => e.type === 'response').data.content).toMatch(/feed the cat/);
        const { items } = (await http.get('/reminders', token)).body;
        expect(items).toHaveLength(1);
        expect(items[0].label).toBe('feed the cat');
      } finally {
        await second.stop('SIGTERM');
      }
    } finally {
      await first?.stop('SIGKILL');
    }
  }, 300_000);
});

const redisUrl = serviceUrl('TEST_REDIS_URL');

describe('reminders on two nodes', () => {
  const env = {
    REDIS_URL: redisUrl,
    JWT_SECRET: 'reminder-test-secret-shared-by-both-nodes',
    REMINDER_POLL_INTERVAL_MS: '50',
  };
  const a = useTestApp('postgres', env);
  const b = a.node(env);

  it('never fires a reminder twice', async () => {
    const user = await a.http.register('two-nodes');
    const sessions: string[] = [];
    for (let i = 0; i < 3; i++) {
      sessions.push((await a.http.post('/sessions', {}, user.accessToken)).body.id);
    }
    const client = new pg.Client({ connectionString: a.database.url });
    await client.connect();
    const COUNT = 60;
    try {
      // All due at once, so both nodes' pollers (and the two passes below) race for them.
      await client.query(
        `INSERT INTO reminders (id, user_id, session_id, label, time_text, due_at)
           SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + i % 3], 'r' || i, 'now', now() - interval '1 second'
           FROM generate_series(1, $3) AS i`,
        [user.user.id, sessions, COUNT],
      );
      await Promise.all([
        a.app.get(ReminderSchedulerService).claimAndAnnounceDue(),
        b.app.get(ReminderSchedulerService).claimAndAnnounceDue(),
      ]);
      const countEvents = async (): Promise<{ n: string; ids: string }> =>
        (
          await client.query<{ n: string; ids: string }>(
            `SELECT count(*) AS n, count(DISTINCT content->>'reminderId') AS ids
               FROM chat_history WHERE message_type = 'reminder_due' AND session_id = ANY($1::uuid[])`,
            [sessions],
          )
        ).rows[0];
      await waitFor(async () => (Number((await countEvents()).n) >= COUNT ? true : undefined));
      const left = await client.query(
        `SELECT count(*) AS n FROM reminders WHERE user_id = $1 AND status <> 'fired'`,
        [user.user.id],
      );
      expect(Number(left.rows[0].n)).toBe(0);
      expect(await a.app.get(ReminderSchedulerService).claimAndAnnounceDue()).toBe(0);
      expect(await b.app.get(ReminderSchedulerService).claimAndAnnounceDue()).toBe(0);
      expect(await countEvents()).toEqual({ n: String(COUNT), ids: String(COUNT) });
    } finally {
      await client.end();
    }
  });
});
