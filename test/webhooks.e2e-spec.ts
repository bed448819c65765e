import { Webhook } from 'standardwebhooks';
import { Database } from '../src/database/database.js';
import { RetentionService } from '../src/retention/retention.service.js';
import { describeEachDatabase } from './support/databases.js';
import type { Http } from './support/http.js';
import { waitFor } from './support/lifecycle.js';
import { useTestApp } from './support/use-test-app.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const ADMIN = { ADMIN_EMAIL: 'hooks@example.com', ADMIN_PASSWORD: 'hookspassword' };

/** Registers an endpoint; its id and secret. */
async function register(
  http: Http,
  admin: string,
  url: string,
  events: string[],
): Promise<{ id: string; secret: string }> {
  const r = await http.post('/admin/webhooks', { url, events }, admin);
  expect(r.status).toBe(201);
  return r.body;
}

const deliveries = async (http: Http, admin: string, id: string): Promise<any[]> =>
  (await http.get(`/admin/webhooks/${id}/deliveries`, admin)).body.items;

describeEachDatabase('webhooks', (kind) => {
  const t = useTestApp(kind, {
    ...ADMIN,
    BUILTIN_TOKEN_DELAY_MS: '1',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_TIMEOUT_MS: '1000',
    WEBHOOK_RETRY_BASE_MS: '100',
    WEBHOOK_MAX_ATTEMPTS: '3',
  });
  let admin: string;
  let receiver: WebhookReceiver;
  /** What the receiver got of one type, or false while nothing. */
  const received = (type: string) => {
    const got = receiver.of(type);
    return got.length > 0 && got;
  };

  beforeAll(async () => {
    admin = await t.login(ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
  });
  beforeEach(async () => {
    receiver = await new WebhookReceiver().listen();
  });
  afterEach(async () => {
    // Each test's endpoints go with it: later events must not be sent to a closed receiver.
    for (const e of (await t.http.get('/admin/webhooks', admin)).body.items)
      await t.http.request('DELETE', `/admin/webhooks/${e.id}`, { token: admin });
    await receiver.close();
  });

  it('a receiver answering 500 then 200 gets the same webhook-id twice, validly signed', async () => {
    receiver.answer = (_, n) => (n === 1 ? 500 : 200);
    const hook = await register(t.http, admin, receiver.url, ['run.completed']);
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const u = await t.user();
    const c = await t.tab(u.token);
    const sent = await c.send('what is 2+3');
    const done = await c.end();
    expect(done.type).toBe('task_completed');

    await waitFor(() => Promise.resolve(receiver.received.length >= 2));
    const [first, second] = receiver.received;
    expect(first.headers['webhook-id']).toBe(second.headers['webhook-id']);
    for (const r of [first, second]) {
      const verified = new Webhook(hook.secret).verify(r.body, r.headers as Record<string, string>);
      expect(verified).toEqual(r.json);
      expect(() =>
        new Webhook('whsec_' + Buffer.alloc(24, 7).toString('base64')).verify(
          r.body,
          r.headers as Record<string, string>,
        ),
      ).toThrow();
    }
    expect(first.body).toBe(second.body);
    expect(first.json).toEqual({
      type: 'run.completed',
      timestamp: done.createdAt,
      data: {
        userId: u.userId,
        sessionId: c.sessionId,
        seq: done.seq,
        intentId: sent.intentId,
        runId: sent.runId,
        usage: done.data.usage,
      },
    });
    const list = await waitFor(async () => {
      const items = await deliveries(t.http, admin, hook.id);
      return items[0]?.status === 'delivered' && items;
    });
    expect(list).toEqual([
      {
        id: first.headers['webhook-id'],
        eventType: 'run.completed',
        attempts: 2,
        status: 'delivered',
        lastStatusCode: 200,
        createdAt: done.createdAt,
        deliveredAt: expect.any(String),
      },
    ]);
    // Nothing more is sent once delivered.
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received).toHaveLength(2);
  });

  it('interaction.pending tells that a confirmation waits; interaction.resolved follows the answer', async () => {
    const hook = await register(t.http, admin, receiver.url, [
      'interaction.pending',
      'interaction.resolved',
    ]);
    const u = await t.user();
    const c = await t.tab(u.token);
    const sent = await c.send('search idle expiry');
    const ask = await c.next('request_confirmation');
    const [pending] = await waitFor(() => Promise.resolve(received('interaction.pending')));
    expect(pending.json.data).toEqual({
      userId: u.userId,
      sessionId: c.sessionId,
      seq: ask.seq,
      intentId: sent.intentId,
      runId: sent.runId,
      kind: 'confirm',
      ...ask.data,
    });
    expect(receiver.of('interaction.resolved')).toEqual([]);
    expect((await c.respond(ask.data.interactionId, { approved: true })).ok).toBe(true);
    await c.end();
    const [resolved] = await waitFor(() => Promise.resolve(received('interaction.resolved')));
    expect(resolved.json.data).toMatchObject({
      interactionId: ask.data.interactionId,
      outcome: 'approved',
      sessionId: c.sessionId,
    });
    expect((await deliveries(t.http, admin, hook.id)).map((d) => d.eventType).sort()).toEqual([
      'interaction.pending',
      'interaction.resolved',
    ]);
  });

  it('a receiver that hangs is timed out; after the last attempt the delivery is failed', async () => {
    receiver.answer = () => 'hang';
    const hook = await register(t.http, admin, receiver.url, ['session.closed']);
    const s = await t.session();
    expect(
      (await t.http.request('DELETE', `/sessions/${s.sessionId}`, { token: s.token })).status,
    ).toBe(204);
    const [failed] = await waitFor(async () => {
      const items = await deliveries(t.http, admin, hook.id);
      return items[0]?.status === 'failed' && items;
    }, 30_000);
    expect(failed).toMatchObject({
      eventType: 'session.closed',
      attempts: 3,
      lastError: 'timed out after 1000 ms',
    });
    expect(failed.nextAttemptAt).toBeUndefined();
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(
      new Set([failed.id]),
    );
  });

  it('manages endpoints: listed without secrets, deleted, 404 after; admins only', async () => {
    const hook = await register(t.http, admin, receiver.url, ['run.failed', 'run.failed']);
    const got = await t.http.get(`/admin/webhooks/${hook.id}`, admin);
    expect(got.body).toEqual({
      id: hook.id,
      url: receiver.url,
      events: ['run.failed'],
      description: null,
      createdAt: expect.any(String),
    });
    expect((await t.http.get('/admin/webhooks', admin)).body).toEqual({ items: [got.body] });
    const user = (await t.user()).token;
    expect((await t.http.get('/admin/webhooks', user)).status).toBe(403);
    expect(
      (await t.http.post('/admin/webhooks', { url: receiver.url, events: ['run.failed'] }, user))
        .status,
    ).toBe(403);
    expect((await t.http.get('/admin/webhooks')).status).toBe(401);
    const bad = await t.http.get(`/admin/webhooks/${hook.id}/deliveries?cursor=nope`, admin);
    expect(bad.status).toBe(400);
    expect(
      (await t.http.request('DELETE', `/admin/webhooks/${hook.id}`, { token: admin })).status,
    ).toBe(204);
    for (const path of [
      `/admin/webhooks/${hook.id}`,
      `/admin/webhooks/${hook.id}/deliveries`,
      '/admin/webhooks/not-a-uuid',
    ]) {
      const r = await t.http.get(path, admin);
      expect([r.status, r.body.code]).toEqual([404, 'NOT_FOUND']);
    }
    for (const body of [
      { url: receiver.url, events: [] },
      { url: receiver.url, events: ['bogus'] },
      { url: receiver.url },
      { url: 'ftp://example.com/x', events: ['run.failed'] },
      { url: 'not a url', events: ['run.failed'] },
    ]) {
      const r = await t.http.post('/admin/webhooks', body, admin);
      expect([r.status, r.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
  });

  it('retention deletes deliveries done over 30 days ago; pending ones stay', async () => {
    receiver.answer = () => 'hang';
    const hook = await register(t.http, admin, receiver.url, ['session.closed']);
    for (let i = 0; i < 2; i++) {
      const s = await t.session();
      await t.http.request('DELETE', `/sessions/${s.sessionId}`, { token: s.token });
    }
    const [done, pending] = await waitFor(async () => {
      const items = await deliveries(t.http, admin, hook.id);
      return items.length === 2 && items;
    });
    // Both aged; one done, the other pending with its attempts reset, so that no attempt in
    // flight can record an outcome over it (outcomes are recorded by attempt number).
    await t.get(Database).query(
      `UPDATE webhook_deliveries SET created_at = now() - interval '31 days',
         status = CASE WHEN id = $1 THEN 'delivered' ELSE 'pending' END,
         attempts = 0, next_attempt_at = now() + interval '1 day'
       WHERE endpoint_id = $2`,
      [done.id, hook.id],
    );
    const deleted = await t.get(RetentionService).runOnce();
    expect(deleted.webhook_deliveries).toBe(1);
    expect((await deliveries(t.http, admin, hook.id)).map((d) => d.id)).toEqual([pending.id]);
  });

  describe('without WEBHOOK_ALLOW_PRIVATE', () => {
    const strict = useTestApp(kind, ADMIN);

    it('refuses loopback, private and link-local URLs, literal or resolved', async () => {
      const token = await strict.login(ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
      for (const url of [
        'http://127.0.0.1:8080/hook',
        'http://localhost:8080/hook',
        'http://[::1]/hook',
        'http://10.1.2.3/hook',
        'https://192.168.1.1/hook',
        'http://172.16.0.1/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://[fe80::1]/hook',
        'http://[::ffff:127.0.0.1]/hook',
        'http://0.0.0.0/hook',
      ]) {
        const r = await strict.http.post(
          '/admin/webhooks',
          { url, events: ['run.completed'] },
          token,
        );
        expect([url, r.status, r.body.code]).toEqual([url, 400, 'VALIDATION_FAILED']);
        expect(r.body.details).toEqual([{ field: 'url', problems: [expect.any(String)] }]);
      }
      expect((await strict.http.get('/admin/webhooks', token)).body.items).toEqual([]);
    });
  });
});
