import { ChatGateway } from '../src/chat/chat.gateway.js';
import { Database } from '../src/database/database.js';
import { HistoryService } from '../src/history/history.service.js';
import { MetricsService } from '../src/observability/metrics.service.js';
import { RetentionService } from '../src/retention/retention.service.js';
import { describeEachDatabase } from './support/databases.js';
import { RawChatSocket } from './support/raw-socket.js';
import { useTestApp } from './support/use-test-app.js';

async function until(pred: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const BUFFER_BOUND = 65_536;

describeEachDatabase('operations hardening', (kind) => {
  const t = useTestApp(kind, {
    ADMIN_EMAIL: 'ops@example.com',
    ADMIN_PASSWORD: 'opspassword',
    BUILTIN_TOKEN_DELAY_MS: '5',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    SOCKET_MAX_BUFFER_BYTES: String(BUFFER_BOUND),
    RETENTION_REFRESH_TOKENS_AFTER_S: '3600',
    RETENTION_CLIENT_MESSAGES_AFTER_S: '3600',
  });

  let admin: string;

  beforeAll(async () => {
    admin = (
      await t.http.post('/auth/login', { email: 'ops@example.com', password: 'opspassword' })
    ).body.accessToken;
  });

  it('disabling a user cancels their running runs with reason admin', async () => {
    const u = await t.user('disabled');
    const c = await t.tab(u.token);
    const ack = await c.send('count to 5000');
    expect(ack.ok).toBe(true);
    await c.next('generating');
    const patch = await t.http.patch(`/admin/users/${u.userId}`, { disabled: true }, admin);
    expect(patch.status).toBe(200);
    const history = t.app.get(HistoryService);
    let closing: any;
    await until(async () => {
      const events = await history.listAfter(c.sessionId, 0, 1000);
      closing = events.find((e) =>
        ['task_completed', 'task_cancelled', 'task_failed'].includes(e.type),
      );
      return closing !== undefined;
    });
    expect(closing).toMatchObject({ type: 'task_cancelled', data: { reason: 'admin' } });
    const runs = await t.http.get(`/admin/runs?status=running`, admin);
    expect(runs.body.items.filter((r: any) => r.userId === u.userId)).toEqual([]);
  });

  it('the retention job deletes stale client messages and expired stream tickets, and keeps a used refresh token whose family is valid', async () => {
    const db = t.app.get(Database);
    const old = await t.http.register('old');
    const fresh = await t.http.register('fresh');
    const rotated = await t.http.post('/auth/refresh', { refreshToken: old.refreshToken });
    expect(rotated.status).toBe(200);
    const c = await t.tab(fresh.accessToken);
    expect((await c.send('hello', 'old-send')).ok).toBe(true);
    await c.end();
    await db.query(`UPDATE refresh_tokens SET used_at = now() - interval '2 hours' WHERE id = $1`, [
      old.refreshToken.split('.')[0],
    ]);
    await db.query(
      `UPDATE client_messages SET created_at = now() - interval '2 hours' WHERE client_message_id = 'old-send'`,
    );
    // Used a few minutes ago: kept, but its grace pair is cleared.
    const recent = await t.http.register('recent');
    expect((await t.http.post('/auth/refresh', { refreshToken: recent.refreshToken })).status).toBe(
      200,
    );
    const recentId = recent.refreshToken.split('.')[0];
    await db.query(
      `UPDATE refresh_tokens SET used_at = now() - interval '5 minutes' WHERE id = $1`,
      [recentId],
    );
    const ticket = await t.http.post(
      `/sessions/${c.sessionId}/stream-tickets`,
      {},
      fresh.accessToken,
    );
    expect(ticket.status).toBe(201);
    const live = await t.http.post(
      `/sessions/${c.sessionId}/stream-tickets`,
      {},
      fresh.accessToken,
    );
    expect(live.status).toBe(201);
    await db.query(
      `UPDATE stream_tickets SET expires_at = now() - interval '2 minutes'
       WHERE ticket_hash <> encode(sha256(convert_to($1, 'UTF8')), 'hex')`,
      [live.body.ticket],
    );
    const deleted = await t.app.get(RetentionService).runOnce();
    expect(deleted.stream_tickets).toBeGreaterThanOrEqual(1);
    // The expired one is gone; the one still valid is kept.
    expect(
      await db.query(`SELECT 1 FROM stream_tickets WHERE session_id = $1`, [c.sessionId]),
    ).toHaveLength(1);
    expect(
      await db.query(`SELECT grace_pair FROM refresh_tokens WHERE id = $1`, [recentId]),
    ).toEqual([{ grace_pair: null }]);
    expect(deleted.client_messages).toBeGreaterThanOrEqual(1);
    const left = await db.query<{ id: string }>(
      `SELECT id FROM refresh_tokens WHERE id = ANY($1)`,
      [
        [old.refreshToken, fresh.refreshToken, rotated.body.refreshToken].map(
          (tok: string) => tok.split('.')[0],
        ),
      ],
    );
    // The old token's successor is still valid: it stays, so its reuse would still be caught
    // (deleting refresh tokens: test/refresh-retention.e2e-spec.ts).
    expect(left.map((r) => r.id).sort()).toEqual(
      [old.refreshToken, fresh.refreshToken, rotated.body.refreshToken]
        .map((tok: string) => tok.split('.')[0])
        .sort(),
    );
    expect(
      await db.query(`SELECT 1 FROM client_messages WHERE client_message_id = 'old-send'`),
    ).toEqual([]);
    // The unused new token still works.
    expect(
      (await t.http.post('/auth/refresh', { refreshToken: rotated.body.refreshToken })).status,
    ).toBe(200);
  });

  it('disconnects a socket that stops reading once its buffer passes the bound', async () => {
    const u = await t.user('slow');
    const watcher = await t.tab(u.token);
    // A log whose replay is about 600 KB: every join ack carries it.
    const history = t.app.get(HistoryService);
    for (let i = 0; i < 10; i++) {
      await history.append(watcher.sessionId, [
        {
          type: 'user_message',
          data: { content: 'x'.repeat(60_000), clientMessageId: `big-${i}`, parentIntentId: null },
        },
      ]);
    }
    const metrics = t.app.get(MetricsService);
    const before = (await metrics.slowConsumerDisconnects.get()).values[0]?.value ?? 0;
    const gateway = t.app.get(ChatGateway);
    const connectedBefore = gateway.connectedCount;
    const slow = await RawChatSocket.open(t.baseUrl, u.token);
    await until(() => gateway.connectedCount === connectedBefore + 1);
    slow.stopReading();
    const join = JSON.stringify({ sessionId: watcher.sessionId });
    for (let i = 0; i < 60; i++) slow.fire('session:join', join);
    await until(
      async () => ((await metrics.slowConsumerDisconnects.get()).values[0]?.value ?? 0) > before,
    );
    await until(() => gateway.connectedCount === connectedBefore);
    slow.close();
    // The reading tab on the same session is untouched.
    expect(watcher.socket.connected).toBe(true);
    const ack = await watcher.send('what is 2 + 3');
    expect(ack.ok).toBe(true);
    expect((await watcher.end(ack.seq)).type).toBe('task_completed');
  });
});
