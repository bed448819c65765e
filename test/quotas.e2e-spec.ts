import { FaultPoints } from '../src/common/fault-points.js';
import { UsageService } from '../src/quotas/usage.service.js';
import { describeEachDatabase } from './support/databases.js';
import { ask } from './support/socket.js';
import { useTestApp } from './support/use-test-app.js';

describeEachDatabase('quotas', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '20',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    MAX_CONCURRENT_RUNS_PER_USER: '3',
  });

  it("a cancelled run's usage is recorded", async () => {
    const u = await t.user('usage');
    const c = await t.tab(u.token);
    await c.send('count to 10000');
    await c.log.until(() => c.events().filter((e) => e.type === 'generating').length >= 2, 15_000);
    expect((await ask(c.socket, 'run:cancel', { sessionId: c.sessionId })).ok).toBe(true);
    expect((await c.end()).type).toBe('task_cancelled');
    const streamed = c
      .events()
      .filter((e) => e.type === 'generating')
      .map((e) => e.data.delta as string)
      .join('');
    const [day] = await t.app.get(UsageService).report({ userId: u.userId });
    expect(day).toMatchObject({ messages: 1, runs: 1 });
    // The prompt is counted in words (system prompt + message); the completion is what was made.
    expect(day.promptTokens).toBeGreaterThan(3);
    expect(day.completionTokens).toBeGreaterThanOrEqual(
      streamed.split(/\s+/).filter(Boolean).length,
    );
    expect(day.completionTokens).toBeLessThan(10_000);
  });

  it('a run is counted by the transaction that ends it, before any tab sees the end', async () => {
    const u = await t.user('counted');
    const c = await t.tab(u.token);
    const runs = async () => (await t.app.get(UsageService).report({ userId: u.userId }))[0]?.runs;
    // Held after the closing commit: whatever the execution does after it has not happened yet.
    let held = t.app.get(FaultPoints).pause('run.closed');
    await c.send('count to 3');
    expect((await c.end()).type).toBe('task_completed');
    await held.reached;
    expect(await runs()).toBe(1);
    held.release();

    held = t.app.get(FaultPoints).pause('run.closed');
    const from = c.events().at(-1).seq as number;
    await c.send('count to 10000');
    await c.next('generating', from);
    // The cancel is acknowledged once the run has let go, so after the release.
    const cancelled = ask(c.socket, 'run:cancel', { sessionId: c.sessionId });
    expect((await c.end(from)).type).toBe('task_cancelled');
    await held.reached;
    expect(await runs()).toBe(2);
    held.release();
    expect((await cancelled).ok).toBe(true);
  });

  it('the concurrent-runs cap answers QUOTA_EXCEEDED, also to sends racing for the last slot', async () => {
    const u = await t.user('cap');
    const sessions: string[] = [];
    for (let i = 0; i < 6; i++) {
      sessions.push((await t.http.post('/sessions', {}, u.token)).body.id);
    }
    const sends = await Promise.all(
      sessions.map((id, i) =>
        t.http.post(
          `/sessions/${id}/messages`,
          { content: 'count to 10000', clientMessageId: `m${i}` },
          u.token,
        ),
      ),
    );
    const accepted = sends.filter((r) => r.status === 202);
    const refused = sends.filter((r) => r.status !== 202);
    expect(accepted).toHaveLength(3);
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.body.code).toBe('QUOTA_EXCEEDED');
      expect(r.body.message).toMatch(/At most 3 runs/);
    }
    // Another user is not affected; a slot freed by a cancel can be used again.
    const other = await t.user('cap-other');
    const mine = (await t.http.post('/sessions', {}, other.token)).body.id;
    expect(
      (
        await t.http.post(
          `/sessions/${mine}/messages`,
          { content: 'hello', clientMessageId: 'x' },
          other.token,
        )
      ).status,
    ).toBe(202);
    const busy = sessions[sends.findIndex((r) => r.status === 202)];
    expect((await t.http.post(`/sessions/${busy}/cancel`, undefined, u.token)).status).toBe(202);
    const free = sessions[sends.findIndex((r) => r.status !== 202)];
    expect(
      (
        await t.http.post(
          `/sessions/${free}/messages`,
          { content: 'hello', clientMessageId: 'again' },
          u.token,
        )
      ).status,
    ).toBe(202);
    for (const id of sessions) await t.http.post(`/sessions/${id}/cancel`, undefined, u.token);
  });

  it('a retry answered at the cap gets QUOTA_EXCEEDED and the offer stays open', async () => {
    const u = await t.user('cap-retry');
    const c = await t.tab(u.token);
    const agent = t.config.agent as { failFirstAttempts: number };
    agent.failFirstAttempts = 1;
    let failed: any;
    try {
      expect((await c.send('hello')).ok).toBe(true);
      failed = await c.end(0, 20_000);
    } finally {
      agent.failFirstAttempts = 0;
    }
    expect(failed).toMatchObject({ type: 'task_failed', data: { canRetry: true } });
    const others: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = (await t.http.post('/sessions', {}, u.token)).body.id;
      others.push(id);
      const r = await t.http.post(
        `/sessions/${id}/messages`,
        { content: 'count to 10000', clientMessageId: `fill${i}` },
        u.token,
      );
      expect(r.status).toBe(202);
    }
    const refused = await c.respond(failed.data.interactionId, { retry: true });
    expect(refused.ok).toBe(false);
    expect(refused.error.code).toBe('QUOTA_EXCEEDED');
    // The whole answer rolled back: no interaction_resolved, no new run; the offer can still be used.
    expect(c.types(failed.seq)).not.toContain('interaction_resolved');
    expect((await t.http.post(`/sessions/${others[0]}/cancel`, undefined, u.token)).status).toBe(
      202,
    );
    const accepted = await c.respond(failed.data.interactionId, { retry: true });
    expect(accepted.ok).toBe(true);
    const started = await c.next('task_started', failed.seq, 20_000);
    expect(started.data.attempt).toBe(2);
    for (const id of others) await t.http.post(`/sessions/${id}/cancel`, undefined, u.token);
  });
});
