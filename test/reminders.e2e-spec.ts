import { FaultPoints } from '../src/common/fault-points.js';
import { Database } from '../src/database/database.js';
import { ReminderSchedulerService } from '../src/reminders/reminder-scheduler.service.js';
import { describeEachDatabase } from './support/databases.js';
import { ChatTab } from './support/chat.js';
import { useTestApp } from './support/use-test-app.js';

describeEachDatabase('reminders', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '1',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    REMINDER_POLL_INTERVAL_MS: '100',
  });

  afterEach(() => {
    t.app.get(FaultPoints).disarm();
  });

  const open = async (): Promise<ChatTab> => {
    const u = await t.user('reminders');
    return t.tab(u.token);
  };
  const lastSeq = (c: ChatTab): number => c.events()[c.events().length - 1]?.seq ?? 0;
  const remindersOf = async (c: ChatTab, query = ''): Promise<any> =>
    (await t.http.get(`/reminders${query}`, c.token)).body;
  const waitUntil = async (check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('reads natural-language and ISO times (UTC unless an offset is given)', async () => {
    const c = await open();
    await c.send('remind me to call Ada at 17:30');
    await c.end();
    let from = lastSeq(c);
    await c.send('set a reminder for 2030-01-02T10:00:00+02:00 to renew the passport');
    await c.end(from);
    from = lastSeq(c);
    await c.send('remind me to stretch tomorrow 9:00');
    await c.end(from);
    expect(c.types()).not.toContain('component');
    const { items } = await remindersOf(c);
    expect(items.map((r: any) => [r.label, r.dueAt])).toEqual([
      ['stretch', expect.stringMatching(/T09:00:00\.000Z$/)],
      ['renew the passport', '2030-01-02T08:00:00.000Z'],
      ['call Ada', expect.stringMatching(/T17:30:00\.000Z$/)],
    ]);
    const ada = new Date(items[2].dueAt).getTime();
    expect(ada).toBeGreaterThan(Date.now());
    expect(ada - Date.now()).toBeLessThanOrEqual(86_400_000);
  });

  it('a datetime form field rejects unreadable and past values, naming the field, and stays open', async () => {
    const c = await open();
    await c.send('remind me to water the plants');
    const form = await c.next('component');
    expect(form.data.fields).toEqual([
      { name: 'time', label: 'When', type: 'datetime', required: true },
    ]);
    for (const time of ['not a time', '2020-01-01T00:00:00Z', 'yesterday']) {
      const bad = await c.respond(form.data.interactionId, { values: { time } });
      expect(bad.error.code).toBe('VALIDATION_FAILED');
      expect(bad.error.details).toEqual([
        { field: 'values.time', problems: [expect.stringMatching(/^When /)] },
      ]);
    }
    expect(c.types()).not.toContain('interaction_resolved');
    expect((await c.respond(form.data.interactionId, { values: { time: 'in 1 hour' } })).ok).toBe(
      true,
    );
    expect((await c.end()).type).toBe('task_completed');
    expect((await remindersOf(c)).items).toHaveLength(1);
  });

  it('an unreadable time in the message is asked for with a form', async () => {
    const c = await open();
    await c.send('remind me at whenever to feed the fish');
    const form = await c.next('component');
    expect(form.data.fields.map((f: any) => f.name)).toEqual(['time']);
    await c.respond(form.data.interactionId, { values: { time: 'in 3 hours' } });
    await c.end();
    expect((await remindersOf(c)).items[0].label).toBe('feed the fish');
  });

  it('"in 2 seconds" fires once: reminder_due in its session, status fired', async () => {
    const c = await open();
    await c.send('remind me in 2 seconds to stretch');
    await c.end();
    const [made] = (await remindersOf(c)).items;
    expect(made).toMatchObject({ label: 'stretch', status: 'scheduled', firedAt: null });
    const due = await c.next('reminder_due', 0, 20_000);
    expect(due.data).toEqual({ reminderId: made.id, label: 'stretch', dueAt: made.dueAt });
    expect(Date.now()).toBeGreaterThanOrEqual(new Date(made.dueAt).getTime());
    const [fired] = (await remindersOf(c, '?status=fired')).items;
    expect(fired).toMatchObject({ id: made.id, status: 'fired', firedAt: expect.any(String) });
    // Another pass finds nothing left to fire.
    expect(await t.app.get(ReminderSchedulerService).claimAndAnnounceDue()).toBe(0);
    const log = await t.http.get(`/sessions/${c.sessionId}/events`, c.token);
    expect(log.body.items.filter((e: any) => e.type === 'reminder_due')).toHaveLength(1);
  });

  it('reminder_due and status fired commit together: a failed append rolls the claim back, the next poll fires it', async () => {
    const c = await open();
    let failures = 0;
    t.app.get(FaultPoints).arm('reminder.claimed', () => {
      failures++;
      throw new Error('append fails (test)');
    });
    await c.send('remind me in 2 seconds to water the plants');
    await c.end();
    const [made] = (await remindersOf(c)).items;
    await waitUntil(() => Promise.resolve(failures >= 2));
    // Every pass so far claimed it and failed: each claim rolled back with its event.
    expect((await remindersOf(c)).items[0]).toMatchObject({ id: made.id, status: 'scheduled' });
    const before = await t.http.get(`/sessions/${c.sessionId}/events`, c.token);
    expect(before.body.items.filter((e: any) => e.type === 'reminder_due')).toHaveLength(0);
    t.app.get(FaultPoints).disarm('reminder.claimed');
    const due = await c.next('reminder_due', 0, 20_000);
    expect(due.data).toMatchObject({ reminderId: made.id, label: 'water the plants' });
    expect((await remindersOf(c)).items[0]).toMatchObject({ id: made.id, status: 'fired' });
    const log = await t.http.get(`/sessions/${c.sessionId}/events`, c.token);
    expect(log.body.items.filter((e: any) => e.type === 'reminder_due')).toHaveLength(1);
  });

  it('a cancelled reminder never fires; another user cannot see or cancel it', async () => {
    const c = await open();
    await c.send('remind me in 2 seconds to leave');
    await c.end();
    const [r] = (await remindersOf(c)).items;
    const other = await t.http.register('other');
    expect(
      (await t.http.request('DELETE', `/reminders/${r.id}`, { token: other.accessToken })).status,
    ).toBe(404);
    expect((await t.http.get('/reminders', other.accessToken)).body).toEqual({
      items: [],
      nextCursor: null,
    });
    expect((await t.http.request('DELETE', `/reminders/${r.id}`, { token: c.token })).status).toBe(
      204,
    );
    expect((await t.http.request('DELETE', `/reminders/${r.id}`, { token: c.token })).status).toBe(
      204,
    );
    expect((await t.http.request('DELETE', '/reminders/nope', { token: c.token })).body.code).toBe(
      'NOT_FOUND',
    );
    await waitUntil(() => Promise.resolve(Date.now() > new Date(r.dueAt).getTime() + 300));
    expect(await t.app.get(ReminderSchedulerService).claimAndAnnounceDue()).toBe(0);
    const log = await t.http.get(`/sessions/${c.sessionId}/events`, c.token);
    expect(log.body.items.map((e: any) => e.type)).not.toContain('reminder_due');
    expect((await remindersOf(c)).items[0]).toMatchObject({ status: 'cancelled', firedAt: null });
  });

  it('pages with a cursor and filters by status', async () => {
    const c = await open();
    for (const label of ['one', 'two', 'three']) {
      const from = lastSeq(c);
      await c.send(`remind me to ${label} in 5 hours`);
      await c.end(from);
    }
    const first = await remindersOf(c, '?limit=2');
    expect(first.items.map((r: any) => r.label)).toEqual(['three', 'two']);
    const second = await remindersOf(c, `?limit=2&cursor=${first.nextCursor}`);
    expect(second).toEqual({
      items: [expect.objectContaining({ label: 'one' })],
      nextCursor: null,
    });
    await t.http.request('DELETE', `/reminders/${second.items[0].id}`, { token: c.token });
    expect((await remindersOf(c, '?status=cancelled')).items.map((r: any) => r.label)).toEqual([
      'one',
    ]);
    expect((await remindersOf(c, '?status=scheduled')).items).toHaveLength(2);
    const bad = await t.http.get('/reminders?status=late', c.token);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
  });

  it('pages through reminders created in the same millisecond without skipping any', async () => {
    const c = await open();
    for (const label of ['one', 'two', 'three']) {
      const from = lastSeq(c);
      await c.send(`remind me to ${label} in 5 hours`);
      await c.end(from);
    }
    // Timestamps are stored to the microsecond; a cursor cut to the millisecond skipped the rest.
    await t.app.get(Database).query(
      `UPDATE reminders SET created_at = '2026-01-01T00:00:00.123456Z'
         WHERE session_id = $1`,
      [c.sessionId],
    );
    const labels: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const body = await remindersOf(c, `?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      labels.push(...body.items.map((r: any) => r.label));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    expect(labels.sort()).toEqual(['one', 'three', 'two']);
  });

  it('a retry after a crash inside the tool round does not create a second reminder', async () => {
    const c = await open();
    let crashes = 0;
    t.app.get(FaultPoints).arm('tool.executed', () => {
      if (crashes++ === 0) throw new Error('crashed after the insert');
    });
    await c.send('remind me to feed the cat in 4 hours');
    const failed = await c.end();
    expect(failed).toMatchObject({ type: 'task_failed', data: { canRetry: true } });
    expect((await remindersOf(c)).items).toHaveLength(1);
    const from = lastSeq(c);
    expect((await c.respond(failed.data.interactionId, { retry: true })).ok).toBe(true);
    expect((await c.end(from)).type).toBe('task_completed');
    expect(c.events().find((e) => e.seq > from && e.type === 'task_started').data.attempt).toBe(2);
    const { items } = await remindersOf(c);
    expect(items).toHaveLength(1);
    expect(items[0].label).toBe('feed the cat');
    expect(crashes).toBe(2);
  });
});
