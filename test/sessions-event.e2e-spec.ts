import { describeEachDatabase } from './support/databases.js';
import { ask, type ClientSocket } from './support/socket.js';
import { serviceUrl } from './support/services.js';
import { useTestApp } from './support/use-test-app.js';

/** Every `sessions` event a socket receives, in arrival order, with a wait for one. */
class SessionsLog {
  readonly items: { action: string; session: any }[] = [];
  private waiters: (() => void)[] = [];

  constructor(socket: ClientSocket) {
    socket.on('sessions', (item: any) => {
      this.items.push(item);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Waits for the `action` of session `id`, and returns it. */
  async until(action: string, id: string, timeoutMs = 10_000): Promise<any> {
    const find = (): any =>
      this.items.find((i) => i.action === action && i.session?.id === id)?.session;
    const deadline = Date.now() + timeoutMs;
    for (let found = find(); ; found = find()) {
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no sessions ${action} of ${id}; got ${JSON.stringify(this.items)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

describeEachDatabase('sessions event', (kind) => {
  const t = useTestApp(kind, { ADMIN_EMAIL: 'ops@example.com', ADMIN_PASSWORD: 'opspassword' });

  it('a socket of the user in no session hears of sessions created, renamed and closed elsewhere; another user hears nothing', async () => {
    const u = await t.user('lists');
    const other = await t.user('lists-other');
    const bare = await t.socket(u.token);
    const strangerSocket = await t.socket(other.token);
    const mine = new SessionsLog(bare);
    const stranger = new SessionsLog(strangerSocket);

    const created = await t.http.post('/sessions', { title: 'Alpha' }, u.token);
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(await mine.until('created', id)).toEqual(created.body);

    const renamed = await t.http.patch(`/sessions/${id}`, { title: 'Beta' }, u.token);
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id, title: 'Beta', status: 'active' });
    expect(await mine.until('updated', id)).toEqual(renamed.body);

    expect((await t.http.request('DELETE', `/sessions/${id}`, { token: u.token })).status).toBe(
      204,
    );
    const closed = await mine.until('closed', id);
    expect(closed).toMatchObject({ id, title: 'Beta', status: 'closed' });
    const read = (await t.http.get(`/sessions/${id}`, u.token)).body;
    expect({ ...closed, state: read.state }).toEqual(read);

    // A session created on the socket is announced too (to the creating socket as well).
    const acked = await ask(bare, 'session:create', { title: 'Gamma' });
    expect(acked.ok).toBe(true);
    await mine.until('created', acked.session.id);

    // The stranger's own change arrives after the user's ones were sent: nothing of theirs came.
    const own = await t.http.post('/sessions', {}, other.token);
    await stranger.until('created', own.body.id);
    expect(stranger.items.map((i) => i.session.id)).toEqual([own.body.id]);
    // Closing a closed session changes nothing, and announces nothing.
    expect((await t.http.request('DELETE', `/sessions/${id}`, { token: u.token })).status).toBe(
      204,
    );
    expect(mine.items.filter((i) => i.session.id === id).map((i) => i.action)).toEqual([
      'created',
      'updated',
      'closed',
    ]);
  });

  it('renaming: another user’s session is NOT_FOUND, a bad title VALIDATION_FAILED, and neither announces anything', async () => {
    const u = await t.user('rename');
    const other = await t.user('rename-other');
    const bare = await t.socket(u.token);
    const mine = new SessionsLog(bare);
    const id = (await t.http.post('/sessions', {}, u.token)).body.id as string;
    await mine.until('created', id);
    const theirs = await t.http.patch(`/sessions/${id}`, { title: 'Mine now' }, other.token);
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe('NOT_FOUND');
    for (const body of [{}, { title: '' }, { title: 'x'.repeat(201) }, { title: 7 }]) {
      const bad = await t.http.patch(`/sessions/${id}`, body, u.token);
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await t.http.patch('/sessions/not-a-uuid', { title: 'x' }, u.token)).status).toBe(404);
    // A change after the refused ones: had any been announced, it would be here by now.
    const later = (await t.http.post('/sessions', {}, u.token)).body.id as string;
    await mine.until('created', later);
    expect(mine.items.filter((i) => i.session.id === id).map((i) => i.action)).toEqual(['created']);
  });

  it('an admin close reaches the owner’s sockets', async () => {
    const admin = await t.login('ops@example.com', 'opspassword');
    const u = await t.user('admin-close');
    const mine = new SessionsLog(await t.socket(u.token));
    const id = (await t.http.post('/sessions', {}, u.token)).body.id as string;
    expect((await t.http.post(`/admin/sessions/${id}/close`, undefined, admin)).status).toBe(204);
    expect(await mine.until('closed', id)).toMatchObject({ id, status: 'closed' });
  });
});

describe('sessions event on two nodes (PostgreSQL and Redis)', () => {
  const env = {
    REDIS_URL: serviceUrl('TEST_REDIS_URL'),
    JWT_SECRET: 'sessions-event-secret-shared-by-both-nodes',
  };
  const a = useTestApp('postgres', env);
  const b = a.node(env);

  it('a change made on node A reaches the user’s socket on node B', async () => {
    const u = await a.user('two-nodes');
    const onB = new SessionsLog(await b.socket(u.token));
    const id = (await a.http.post('/sessions', { title: 'There' }, u.token)).body.id as string;
    expect(await onB.until('created', id)).toMatchObject({ id, title: 'There' });
    expect((await a.http.patch(`/sessions/${id}`, { title: 'Here' }, u.token)).status).toBe(200);
    expect(await onB.until('updated', id)).toMatchObject({ id, title: 'Here' });
    expect((await a.http.request('DELETE', `/sessions/${id}`, { token: u.token })).status).toBe(
      204,
    );
    await onB.until('closed', id);
    expect(onB.items.map((i) => i.action)).toEqual(['created', 'updated', 'closed']);
  });
});
