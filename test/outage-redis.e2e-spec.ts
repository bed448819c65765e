import { LiveRuns } from '../src/runs/live-runs.js';
import { Database } from '../src/database/database.js';
import { MetricsService } from '../src/observability/metrics.service.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { ChatTab } from './support/chat.js';
import { Http } from './support/http.js';
import { ThrowawayRedis } from './support/services.js';
import { startTestApp, type TestApp } from './support/test-app.js';

async function until(pred: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Redis stopped and started under two nodes', () => {
  let target: TestDatabase;
  let redis: ThrowawayRedis;
  let a: TestApp;
  let b: TestApp;
  let httpA: Http;
  const tabs: ChatTab[] = [];

  beforeAll(async () => {
    target = await createTestDatabase('postgres');
    redis = await ThrowawayRedis.create();
    const env = {
      REDIS_URL: redis.url,
      JWT_SECRET: 'redis-outage-test-secret-shared-by-both',
      BUILTIN_TOKEN_DELAY_MS: '2',
      RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    };
    a = await startTestApp(target, env);
    b = await startTestApp(target, { ...env, DATA_DIR: `${target.dataDir}-b` });
    httpA = new Http(a.baseUrl);
  });

  afterAll(async () => {
    for (const c of tabs) c.close();
    redis?.start();
    await b?.close();
    await a?.close();
    redis?.remove();
    await target?.drop();
  });

  it("admin stats show the other node's connections", async () => {
    const admin = await httpA.register('admin');
    await a.app
      .get(Database)
      .query(`UPDATE users SET role = 'admin' WHERE id = $1`, [admin.user.id]);
    const u = await ChatTab.user(httpA);
    tabs.push(await ChatTab.open(b.baseUrl, u.token));
    const bNode = b.app.get(LiveRuns).nodeId;
    let nodes: any[] = [];
    await until(async () => {
      nodes = (await httpA.get('/admin/stats', admin.accessToken)).body.nodes;
      return nodes.some((n) => n.nodeId === bNode && (n.connections ?? 0) >= 1);
    });
    expect(nodes.find((n) => n.nodeId === bNode).watchedSessions).toBeGreaterThanOrEqual(1);
  });

  it('keeps local delivery, answers readiness within a second and limits locally while Redis is down', async () => {
    const u = await ChatTab.user(httpA);
    const c = await ChatTab.open(a.baseUrl, u.token);
    tabs.push(c);
    const first = await c.send('what is 1 + 1');
    expect((await c.end(first.seq)).type).toBe('task_completed');

    redis.stop();
    const started = Date.now();
    const ready = await httpA.get('/health/ready');
    // The ping gives up after 800 ms; the margin is for a loaded machine, and a hanging ping
    // (no command timeout) would still take longer.
    expect(Date.now() - started).toBeLessThan(1900);
    expect(ready.status).toBe(503);
    expect(ready.body.details.redis.status).toBe('down');

    const during = await c.send('count to 40');
    expect(during.ok).toBe(true);
    const end = await c.end(during.seq, 20_000);
    expect(end.type).toBe('task_completed');
    const text = c
      .events()
      .filter((e) => e.seq > during.seq && e.type === 'generating')
      .map((e) => e.data.delta)
      .join('');
    expect(text.trim().split(/\s+/)).toEqual(Array.from({ length: 40 }, (_, i) => String(i + 1)));
    const fallbacks = (await a.app.get(MetricsService).rateLimitFallbacks.get()).values[0]?.value;
    expect(fallbacks).toBeGreaterThanOrEqual(1);

    redis.start();
    await until(async () => (await httpA.get('/health/ready')).status === 200);
    const after = await c.send('what is 2 + 2');
    expect(after.ok).toBe(true);
    expect((await c.end(after.seq, 20_000)).type).toBe('task_completed');
  });
});
