import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from './support/databases.js';
import { Http } from './support/http.js';
import { startTestApp, type TestApp } from './support/test-app.js';

/** Only a send that starts a run draws from RATE_LIMIT_MESSAGES_PER_MINUTE. */
describeEachDatabase('the message budget', (kind) => {
  let target: TestDatabase;
  let t: TestApp;
  let http: Http;

  beforeAll(async () => {
    target = await createTestDatabase(kind);
    t = await startTestApp(target, {
      BUILTIN_TOKEN_DELAY_MS: '20',
      RATE_LIMIT_MESSAGES_PER_MINUTE: '3',
      MAX_CONCURRENT_RUNS_PER_USER: '2',
    });
    http = new Http(t.baseUrl);
  });

  afterAll(async () => {
    await t?.close();
    await target?.drop();
  });

  it('is not used up by sends refused for the cap, busy, closed or invalid content', async () => {
    const u = await http.register('budget');
    const token = u.accessToken;
    const session = async (): Promise<string> => (await http.post('/sessions', {}, token)).body.id;
    let n = 0;
    const send = (id: string, content = 'count to 10000') =>
      http.post(`/sessions/${id}/messages`, { content, clientMessageId: `m${n++}` }, token);
    const [a, b, c, d, closed] = [
      await session(),
      await session(),
      await session(),
      await session(),
      await session(),
    ];
    expect((await send(a)).status).toBe(202);
    expect((await send(b)).status).toBe(202);
    // At MAX_CONCURRENT_RUNS_PER_USER: retries are refused for the cap, never RATE_LIMITED.
    for (let i = 0; i < 5; i++) expect((await send(c)).body.code).toBe('QUOTA_EXCEEDED');
    for (let i = 0; i < 3; i++) expect((await send(a)).body.code).toBe('SESSION_BUSY');
    expect((await http.request('DELETE', `/sessions/${closed}`, { token })).status).toBe(204);
    for (let i = 0; i < 3; i++) expect((await send(closed)).body.code).toBe('SESSION_CLOSED');
    for (let i = 0; i < 3; i++)
      expect((await send(c, '\u0000')).body.code).toBe('VALIDATION_FAILED');
    expect((await http.post(`/sessions/${a}/cancel`, undefined, token)).status).toBe(202);
    // The third send of the minute is accepted; the fourth is over the budget.
    expect((await send(c)).status).toBe(202);
    expect((await http.post(`/sessions/${b}/cancel`, undefined, token)).status).toBe(202);
    const over = await send(d);
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('RATE_LIMITED');
    expect(over.body.retryAfterMs).toBeGreaterThan(0);
    await http.post(`/sessions/${c}/cancel`, undefined, token);
  });
});
