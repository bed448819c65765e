import { randomUUID } from 'node:crypto';
import { MIGRATIONS } from '../migrations/index.js';
import { Database } from '../src/database/database.js';
import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from './support/databases.js';

describeEachDatabase('the reminders due_at migration', (kind) => {
  let target: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    target = await createTestDatabase(kind);
    db = await Database.open({ url: target.url, dataDir: target.dataDir, migrate: true });
  });

  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  it('reads old free-text times into due_at and keeps unreadable rows, marked and cancelled', async () => {
    // Back to just before this migration (later ones are reverted first, then re-applied).
    const names = MIGRATIONS.map((m) => m.name);
    const later = names.slice(names.indexOf('RemindersDueAt1732000010000'));
    for (let i = 0; i < later.length; i++) await db.revertLast();
    const userId = randomUUID();
    await db.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
      userId,
      `${userId}@example.com`,
    ]);
    const made = '2026-03-10T12:00:00.000Z';
    const old = [
      ['tomorrow 9:00', 'stretch'],
      ['2030-01-02T10:00:00+02:00', 'renew the passport'],
      ['whenever you like', 'water the plants'],
    ];
    for (const [time, label] of old) {
      await db.query(
        `INSERT INTO reminders (id, user_id, label, remind_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
        [randomUUID(), userId, label, time, made],
      );
    }
    expect(await db.migrate()).toEqual(later);
    const rows = await db.query<{
      label: string;
      time_text: string;
      due_at: Date;
      status: string;
      unreadable: boolean;
    }>(`SELECT label, time_text, due_at, status, unreadable FROM reminders ORDER BY label`);
    expect(
      rows.map((r) => [
        r.label,
        r.time_text,
        new Date(r.due_at).toISOString(),
        r.status,
        r.unreadable,
      ]),
    ).toEqual([
      [
        'renew the passport',
        '2030-01-02T10:00:00+02:00',
        '2030-01-02T08:00:00.000Z',
        'scheduled',
        false,
      ],
      ['stretch', 'tomorrow 9:00', '2026-03-11T09:00:00.000Z', 'scheduled', false],
      ['water the plants', 'whenever you like', made, 'cancelled', true],
    ]);
  });
});
