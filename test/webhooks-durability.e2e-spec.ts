import { FaultPoints } from '../src/common/fault-points.js';
import { WebhookDispatcherService } from '../src/webhooks/webhook-dispatcher.service.js';
import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from './support/databases.js';
import { Http } from './support/http.js';
import { waitFor } from './support/lifecycle.js';
import { type ServerProcess, startServerProcess } from './support/server-process.js';
import { serviceUrl } from './support/services.js';
import { useTestApp } from './support/use-test-app.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const ADMIN = { ADMIN_EMAIL: 'hooks@example.com', ADMIN_PASSWORD: 'hookspassword' };
/** PGlite's first start (WAL replay, migrations) is slow on a loaded machine. */
const START_MS = 120_000;

const login = (http: Http): Promise<string> =>
  http
    .post('/auth/login', { email: ADMIN.ADMIN_EMAIL, password: ADMIN.ADMIN_PASSWORD })
    .then((r) => r.body.accessToken as string);

const ids = (r: WebhookReceiver): string[] =>
  r.received.map((w) => String(w.headers['webhook-id']));

describeEachDatabase('webhooks across a restart', (kind) => {
  let db: TestDatabase;
  let receiver: WebhookReceiver;
  const servers: ServerProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    receiver = await new WebhookReceiver().listen();
  });
  afterAll(async () => {
    for (const s of servers) if (s.proc.exitCode === null) await s.stop('SIGKILL');
    await receiver.close();
    await db?.drop();
  });

  it('a receiver that is down while the service restarts still gets every delivery after', async () => {
    const env = {
      ...ADMIN,
      DATA_DIR: db.dataDir,
      ...(db.url ? { DATABASE_URL: db.url } : {}),
      BUILTIN_TOKEN_DELAY_MS: '1',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_MAX_ATTEMPTS: '30',
    };
    // Known port, nobody listening: every attempt meets a refused connection.
    await receiver.close();
    const first = await startServerProcess(env, START_MS);
    servers.push(first);
    let http = new Http(first.baseUrl);
    const admin = await login(http);
    const hook = (
      await http.post(
        '/admin/webhooks',
        { url: receiver.url, events: ['run.completed', 'session.closed'] },
        admin,
      )
    ).body as { id: string };
    const user = (await http.register('restart')).accessToken;
    const sessionId = (await http.post('/sessions', {}, user)).body.id as string;
    await http.post(`/sessions/${sessionId}/messages`, { content: 'what is 2+3' }, user);
    await waitFor(async () => {
      const r = await http.get(`/sessions/${sessionId}/events?limit=100`, user);
      return (r.body.items as { type: string }[]).some((e) => e.type === 'task_completed');
    });
    expect((await http.request('DELETE', `/sessions/${sessionId}`, { token: user })).status).toBe(
      204,
    );
    // Both deliveries were tried (and refused) before the service stops.
    const tried = await waitFor(async () => {
      const items = (await http.get(`/admin/webhooks/${hook.id}/deliveries`, admin)).body.items as {
        id: string;
        attempts: number;
        status: string;
        lastError?: string;
      }[];
      return items.length === 2 && items.every((d) => d.lastError !== undefined) && items;
    });
    expect(tried.map((d) => d.status)).toEqual(['pending', 'pending']);
    expect(tried[0].lastError).toMatch(/ECONNREFUSED/);
    expect((await first.stop('SIGTERM')).code).toBe(0);

    await receiver.listen();
    const second = await startServerProcess(env, START_MS);
    servers.push(second);
    http = new Http(second.baseUrl);
    await waitFor(() =>
      Promise.resolve(receiver.of('run.completed').length && receiver.of('session.closed').length),
    );
    expect(ids(receiver).sort()).toEqual(tried.map((d) => d.id).sort());
    expect(receiver.of('session.closed')[0].json.data).toMatchObject({ sessionId, by: 'user' });
    const after = await waitFor(async () => {
      const items = (await http.get(`/admin/webhooks/${hook.id}/deliveries`, await login(http)))
        .body.items as { status: string }[];
      return items.every((d) => d.status === 'delivered') && items;
    });
    expect(after).toHaveLength(2);
    expect((await second.stop('SIGTERM')).code).toBe(0);
  });

  it('a node that dies after claiming a delivery: it is sent after the restart', async () => {
    const env = {
      ...ADMIN,
      NODE_ENV: 'test',
      DATA_DIR: db.dataDir,
      ...(db.url ? { DATABASE_URL: db.url } : {}),
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_RETRY_BASE_MS: '100',
    };
    const doomed = await startServerProcess(
      { ...env, FAULT_CRASH_AT: 'webhook.claimed' },
      START_MS,
    );
    servers.push(doomed);
    let http = new Http(doomed.baseUrl);
    const admin = await login(http);
    const hook = (
      await http.post('/admin/webhooks', { url: receiver.url, events: ['session.closed'] }, admin)
    ).body as { id: string };
    const user = (await http.register('crash')).accessToken;
    const sessionId = (await http.post('/sessions', {}, user)).body.id as string;
    const before = receiver.received.length;
    // The close commits with its delivery; the claim of that delivery kills the process.
    await http.request('DELETE', `/sessions/${sessionId}`, { token: user }).catch(() => undefined);
    await doomed.exited;

    const again = await startServerProcess(env, START_MS);
    servers.push(again);
    http = new Http(again.baseUrl);
    const [d] = await waitFor(async () => {
      const items = (await http.get(`/admin/webhooks/${hook.id}/deliveries`, await login(http)))
        .body.items as { id: string; status: string; attempts: number }[];
      return items[0]?.status === 'delivered' && items;
    }, 30_000);
    // The dead node's attempt counted; the next one, after its lease, delivered.
    expect(d.attempts).toBe(2);
    // Once, though claimed twice (the first test's endpoint gets its own delivery of the close).
    const got = receiver.received.slice(before).filter((w) => w.headers['webhook-id'] === d.id);
    expect(got.map((w) => w.json.data.sessionId)).toEqual([sessionId]);
    expect((await again.stop('SIGTERM')).code).toBe(0);
  });
});

describe('webhooks on two nodes (PostgreSQL and Redis)', () => {
  const env = {
    ...ADMIN,
    REDIS_URL: serviceUrl('TEST_REDIS_URL'),
    JWT_SECRET: 'webhooks-test-secret-shared-by-both-nodes',
    BUILTIN_TOKEN_DELAY_MS: '1',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_BASE_MS: '100',
  };
  const a = useTestApp('postgres', env);
  const b = a.node(env);
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await new WebhookReceiver().listen();
  });
  afterAll(() => receiver.close());

  it('each delivery is sent once, whichever node claims it', async () => {
    const admin = await a.login(ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
    const hook = (
      await a.http.post('/admin/webhooks', { url: receiver.url, events: ['run.completed'] }, admin)
    ).body as { id: string };
    const runs = 12;
    const sent = await Promise.all(
      Array.from({ length: runs }, async (_, i) => {
        const node = i % 2 ? b : a;
        // A user each: one user's runs at once are limited.
        const user = await node.user();
        const sessionId = (await node.http.post('/sessions', {}, user.token)).body.id as string;
        const r = await node.http.post(
          `/sessions/${sessionId}/messages`,
          { content: `what is ${i}+1` },
          user.token,
        );
        expect(r.status).toBe(202);
        return r.body.runId as string;
      }),
    );
    const items = await waitFor(async () => {
      const page = (await a.http.get(`/admin/webhooks/${hook.id}/deliveries?limit=100`, admin)).body
        .items as { id: string; status: string }[];
      return page.length === runs && page.every((d) => d.status === 'delivered') && page;
    }, 30_000);
    expect(new Set(receiver.received.map((w) => w.json.data.runId))).toEqual(new Set(sent));
    expect(ids(receiver).sort()).toEqual(items.map((d) => d.id).sort());
  });
  it('a delivery claimed by one node is not sent by the other meanwhile', async () => {
    const admin = await a.login(ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
    const hook = (
      await a.http.post('/admin/webhooks', { url: receiver.url, events: ['session.closed'] }, admin)
    ).body as { id: string };
    const before = receiver.received.length;
    // Whichever node claims the delivery first is held there, before sending it.
    const held = [a, b].map((n) => n.get(FaultPoints).pause('webhook.claimed'));
    const s = await a.session();
    await a.http.request('DELETE', `/sessions/${s.sessionId}`, { token: s.token });
    const claimer = await Promise.race(held.map((h, i) => h.reached.then(() => i)));
    // A whole round of the other node's dispatcher: the claimed delivery is not due for it.
    await [a, b][1 - claimer].get(WebhookDispatcherService).dispatchDue();
    expect(receiver.received.length).toBe(before);
    for (const h of held) h.release();
    const [d] = await waitFor(async () => {
      const items = (await a.http.get(`/admin/webhooks/${hook.id}/deliveries`, admin)).body
        .items as { id: string; status: string; attempts: number }[];
      return items[0]?.status === 'delivered' && items;
    });
    expect(d.attempts).toBe(1);
    expect(ids(receiver).filter((id) => id === d.id)).toHaveLength(1);
  });
});
