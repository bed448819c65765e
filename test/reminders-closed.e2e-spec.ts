import { randomUUID } from 'node:crypto';
import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { RemindersRepository } from '../src/reminders/reminders.repository.js';
import { CloseSessionUseCase } from '../src/sessions/usecases/close-session.usecase.js';
import { ReminderSchedulerService } from '../src/reminders/reminder-scheduler.service.js';
import { describeEachDatabase } from './support/databases.js';
import { useTestApp } from './support/use-test-app.js';

/**
 * docs/protocol.md "Sessions": nothing follows `session_closed`; a reminder due in a closed session
 * is cancelled.
 */
describeEachDatabase('reminders of closed sessions', (kind) => {
  // The passes below are run by the test; the timer's pass would only race them.
  const t = useTestApp(kind, { REMINDER_POLL_INTERVAL_MS: '60000' });

  let token: string;
  let userId: string;

  beforeAll(async () => {
    const u = await t.http.register('closed-reminders');
    token = u.accessToken;
    userId = u.user.id;
  });

  afterEach(() => t.app.get(FaultPoints).disarm());

  const session = async (): Promise<string> => (await t.http.post('/sessions', {}, token)).body.id;
  const close = async (s: string): Promise<void> => {
    expect((await t.http.request('DELETE', `/sessions/${s}`, { token })).status).toBe(204);
  };
  /** A reminder of the session, made earlier, due `dueInMs` from now (negative: already due). */
  const remind = async (s: string, dueInMs: number): Promise<string> => {
    const id = randomUUID();
    await t.app.get(Database).query(
      `INSERT INTO reminders (id, user_id, session_id, label, time_text, due_at)
       VALUES ($1, $2, $3, 'stretch', 'soon', $4)`,
      [id, userId, s, new Date(Date.now() + dueInMs)],
    );
    return id;
  };
  const reminder = async (id: string): Promise<any> =>
    (await t.http.get('/reminders?limit=100', token)).body.items.find((r: any) => r.id === id);
  const types = async (s: string): Promise<string[]> =>
    (await t.http.get(`/sessions/${s}/events?limit=1000`, token)).body.items.map(
      (e: any) => e.type,
    );
  /**
   * Resolves once a close that passed `session.close-requested` waits for the session row held
   * by the paused firing: on PostgreSQL its backend waits on a row lock; on PGlite its transaction
   * is queued behind the firing's (which holds the one connection): nothing between the fault
   * point and that queue waits for I/O, so one turn of the event loop gets it there.
   */
  const closeWaitsForLock = async (): Promise<void> => {
    if (kind === 'pglite') return new Promise((r) => setImmediate(r));
    const deadline = Date.now() + 5000;
    for (;;) {
      const rows = await t.app.get(Database).query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (Number(rows[0]?.n) > 0) return;
      if (Date.now() > deadline) throw new Error('the close never waited for the session lock');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const pass = (): Promise<number> => t.app.get(ReminderSchedulerService).claimAndAnnounceDue();

  it('a reminder that falls due after its session closed is cancelled, not written', async () => {
    const s = await session();
    const id = await remind(s, -1000);
    // Closed before any pass saw the reminder due (the timer's pass is an hour away).
    await close(s);
    expect(await pass()).toBe(0);
    expect(await reminder(id)).toMatchObject({ status: 'cancelled', firedAt: null });
    expect((await types(s)).at(-1)).toBe('session_closed');
    expect(await types(s)).not.toContain('reminder_due');
    expect(await pass()).toBe(0);
  });

  it('a reminder read as due while its session closes is cancelled: the status is checked under the session lock', async () => {
    const s = await session();
    const id = await remind(s, -1000);
    const hold = t.app.get(FaultPoints).pause('reminder.due');
    const firing = pass();
    await hold.reached;
    // The pass has read the reminder as due and not locked the session yet: the close goes first.
    await close(s);
    hold.release();
    expect(await firing).toBe(0);
    expect(await reminder(id)).toMatchObject({ status: 'cancelled', firedAt: null });
    const log = await types(s);
    expect(log.at(-1)).toBe('session_closed');
    expect(log).not.toContain('reminder_due');
  });

  it('a reminder firing while its session closes is written before session_closed', async () => {
    const s = await session();
    const id = await remind(s, -1000);
    const faults = t.app.get(FaultPoints);
    const hold = faults.pause('reminder.claimed');
    const firing = pass();
    await hold.reached;
    // The pass holds the session row: the close waits for it, so reminder_due is not after the close.
    const requested = faults.pause('session.close-requested');
    // Called directly, not over HTTP: on PGlite the request's auth would wait for the firing's
    // transaction (one connection) before it could reach the close.
    const closing = t.app.get(CloseSessionUseCase).execute({ sessionId: s, by: 'user' });
    await requested.reached;
    requested.release();
    await closeWaitsForLock();
    hold.release();
    expect(await firing).toBe(1);
    expect(await closing).toBe(true);
    expect(await reminder(id)).toMatchObject({ status: 'fired' });
    const log = await types(s);
    expect(log.at(-1)).toBe('session_closed');
    expect(log.filter((type) => type === 'reminder_due')).toHaveLength(1);
  });

  it('closing a session cancels its scheduled reminders at once', async () => {
    const s = await session();
    const other = await session();
    const later = await remind(s, 3_600_000);
    const elsewhere = await remind(other, 3_600_000);
    await close(s);
    // In the close's transaction: no pass has run.
    expect(await reminder(later)).toMatchObject({ status: 'cancelled', firedAt: null });
    expect(await reminder(elsewhere)).toMatchObject({ status: 'scheduled' });
    expect((await types(s)).at(-1)).toBe('session_closed');
  });

  it('a reminder of an open session still fires', async () => {
    const s = await session();
    const id = await remind(s, -1000);
    expect(await pass()).toBe(1);
    expect(await reminder(id)).toMatchObject({ status: 'fired' });
    expect((await types(s)).at(-1)).toBe('reminder_due');
  });

  it("cancelScheduledInSession (for the close's transaction) cancels only that session's waiting reminders", async () => {
    const s = await session();
    const other = await session();
    const fired = await remind(s, -1000);
    expect(await pass()).toBe(1);
    const waiting = [await remind(s, 3_600_000), await remind(s, -1000)];
    const elsewhere = await remind(other, 3_600_000);
    const repo = t.app.get(RemindersRepository);
    const n = await t.app.get(Database).transaction(() => repo.cancelScheduledInSession(s));
    expect(n).toBe(2);
    for (const id of waiting) expect(await reminder(id)).toMatchObject({ status: 'cancelled' });
    expect(await reminder(fired)).toMatchObject({ status: 'fired' });
    expect(await reminder(elsewhere)).toMatchObject({ status: 'scheduled' });
  });
});
