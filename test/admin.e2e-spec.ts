import { describeEachDatabase } from './support/databases.js';
import { ChatTab } from './support/chat.js';
import { useTestApp } from './support/use-test-app.js';

// Every row has three entries: with fewer, Jest would take the test's third parameter for `done`.
const ROUTES: [string, string, unknown][] = [
  ['GET', '/admin/users', undefined],
  ['PATCH', '/admin/users/00000000-0000-4000-8000-000000000000', { disabled: false }],
  ['GET', '/admin/sessions', undefined],
  ['POST', '/admin/sessions/00000000-0000-4000-8000-000000000000/close', undefined],
  ['GET', '/admin/runs', undefined],
  ['POST', '/admin/runs/00000000-0000-4000-8000-000000000000/cancel', undefined],
  ['GET', '/admin/usage', undefined],
  ['GET', '/admin/stats', undefined],
  ['GET', '/admin/webhooks', undefined],
  ['GET', '/admin/webhooks/00000000-0000-4000-8000-000000000000', undefined],
  ['DELETE', '/admin/webhooks/00000000-0000-4000-8000-000000000000', undefined],
  ['GET', '/admin/webhooks/00000000-0000-4000-8000-000000000000/deliveries', undefined],
];

describeEachDatabase('admin API', (kind) => {
  const t = useTestApp(kind, {
    ADMIN_EMAIL: 'ops@example.com',
    ADMIN_PASSWORD: 'opspassword',
    BUILTIN_TOKEN_DELAY_MS: '3',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  });

  let admin: string;

  beforeAll(async () => {
    admin = (
      await t.http.post('/auth/login', { email: 'ops@example.com', password: 'opspassword' })
    ).body.accessToken;
  });

  it.each(ROUTES)(
    '%s %s: 401 anonymous, 403 user, not 401/403 for an admin',
    async (method, path, body) => {
      const user = (await t.http.register()).accessToken;
      const anon = await t.http.request(method, path, { body });
      expect(anon.status).toBe(401);
      expect(anon.body.code).toBe('UNAUTHORIZED');
      const asUser = await t.http.request(method, path, { body, token: user });
      expect(asUser.status).toBe(403);
      expect(asUser.body.code).toBe('FORBIDDEN');
      const asAdmin = await t.http.request(method, path, { body, token: admin });
      expect([200, 204, 404]).toContain(asAdmin.status);
    },
  );

  it('lists sessions by user and status, and closes one (session_closed by admin)', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const list = await t.http.get(`/admin/sessions?userId=${u.userId}&status=active`, admin);
    expect(list.body.items).toEqual([
      expect.objectContaining({ id: c.sessionId, userId: u.userId, status: 'active' }),
    ]);
    expect(
      (await t.http.post(`/admin/sessions/${c.sessionId}/close`, undefined, admin)).status,
    ).toBe(204);
    const closed = await c.next('session_closed');
    expect(closed.data).toEqual({ by: 'admin' });
    expect(
      (await t.http.get(`/admin/sessions?userId=${u.userId}&status=active`, admin)).body.items,
    ).toEqual([]);
    expect((await t.http.get(`/admin/sessions?status=bogus`, admin)).status).toBe(400);
  });

  it('cancels a user’s run: their socket sees task_cancelled {reason: admin}', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const ack = await c.send('count to 3000');
    await c.next('generating');
    const running = await t.http.get('/admin/runs?status=running', admin);
    expect(running.body.items.map((r: any) => r.id)).toContain(ack.runId);
    const r = await t.http.post(`/admin/runs/${ack.runId}/cancel`, undefined, admin);
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ runId: ack.runId });
    const end = await c.end();
    expect(end).toMatchObject({ type: 'task_cancelled', data: { reason: 'admin' } });
    expect((await t.http.post(`/admin/runs/${ack.runId}/cancel`, undefined, admin)).status).toBe(
      409,
    );
    const cancelled = await t.http.get('/admin/runs?status=cancelled', admin);
    expect(cancelled.body.items.find((x: any) => x.id === ack.runId)).toMatchObject({
      status: 'cancelled',
      userId: u.userId,
    });
  });

  it('usage equals the tokens the runs reported', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    let last = 0;
    const usages: { promptTokens: number; completionTokens: number }[] = [];
    for (const text of ['what is 1 + 2', 'count to 12', 'hello']) {
      await c.send(text);
      const done = await c.end(last);
      usages.push(done.data.usage);
      last = done.seq;
    }
    const report = await t.http.get(`/admin/usage?userId=${u.userId}`, admin);
    expect(report.status).toBe(200);
    expect(report.body.items).toHaveLength(1);
    expect(report.body.items[0]).toEqual({
      userId: u.userId,
      day: new Date().toISOString().slice(0, 10),
      messages: 3,
      runs: 3,
      promptTokens: usages.reduce((n, x) => n + x.promptTokens, 0),
      completionTokens: usages.reduce((n, x) => n + x.completionTokens, 0),
    });
    expect(
      (await t.http.get(`/admin/usage?userId=${u.userId}&from=2000-01-01&to=2000-01-02`, admin))
        .body.items,
    ).toEqual([]);
    expect((await t.http.get(`/admin/usage?from=yesterday`, admin)).status).toBe(400);
    expect((await t.http.get(`/admin/usage?from=2026-02-01&to=2026-01-01`, admin)).status).toBe(
      400,
    );
  });

  it('stats count connections, sessions and active runs for this node', async () => {
    const u = await t.user();
    await t.tab(u.token);
    const stats = await t.http.get('/admin/stats', admin);
    expect(stats.status).toBe(200);
    expect(stats.body.totals).toMatchObject({
      users: expect.any(Number),
      sessions: expect.any(Number),
      activeRuns: expect.any(Number),
    });
    const me = stats.body.nodes.find((n: any) => n.nodeId === stats.body.nodeId);
    expect(me.connections).toBeGreaterThanOrEqual(1);
    expect(me.watchedSessions).toBeGreaterThanOrEqual(1);
  });

  it('disabling a user revokes refresh tokens and disconnects sockets', async () => {
    const u = await t.http.register('to-disable');
    const c = await ChatTab.open(t.baseUrl, u.accessToken);
    const gone = new Promise((r) => c.socket.once('disconnect', r));
    await t.http.patch(`/admin/users/${u.user.id}`, { disabled: true }, admin);
    await gone;
    expect((await t.http.post('/auth/refresh', { refreshToken: u.refreshToken })).status).toBe(401);
    const listed = await t.http.get(`/admin/users?q=to-disable`, admin);
    expect(listed.body.items.find((x: any) => x.id === u.user.id).disabled).toBe(true);
  });
});
