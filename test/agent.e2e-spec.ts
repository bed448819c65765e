import { describeEachDatabase } from './support/databases.js';
import { ask } from './support/socket.js';
import { useTestApp } from './support/use-test-app.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeEachDatabase('agent over a real socket', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '2',
    CONFIRMATION_TIMEOUT_MS: '1200',
    FORM_TIMEOUT_MS: '5000',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  });

  it('calculator: thinking steps, streamed answer, response, task_completed with usage', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const ack = await c.send('what is (2 + 3) * 4');
    expect(ack).toMatchObject({
      ok: true,
      seq: 1,
      intentId: expect.any(String),
      runId: expect.any(String),
    });
    const done = await c.end();
    expect(done.type).toBe('task_completed');
    expect(done.data.usage.promptTokens).toBeGreaterThan(0);
    expect(done.data.usage.completionTokens).toBeGreaterThan(0);
    const events = c.events();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const steps = events
      .filter((e) => e.type === 'thinking')
      .map((e) => `${e.data.step}:${e.data.status}`);
    expect(steps).toEqual([
      'intent_recognition:started',
      'intent_recognition:completed',
      'parameter_extraction:started',
      'parameter_extraction:completed',
      'tool_execution:started',
      'tool_execution:completed',
      'response_generation:started',
      'response_generation:completed',
    ]);
    const response = events.find((e) => e.type === 'response');
    expect(response.data.content).toContain('20');
    const streamed = events
      .filter((e) => e.type === 'generating')
      .map((e) => e.data.delta)
      .join('');
    expect(streamed).toBe(response.data.content);
    expect(events.every((e) => e.type === 'user_message' || e.runId === ack.runId)).toBe(true);
    const state = (await t.http.get(`/sessions/${c.sessionId}`, u.token)).body.state;
    expect(state).toEqual({
      run: null,
      pendingInteraction: null,
      headIntentId: ack.intentId,
      queue: [],
    });
  });

  it('count to n streams the numbers; anything else gets the help reply', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('count to 25');
    await c.end();
    const text = c.events().find((e) => e.type === 'response').data.content;
    expect(text).toBe(Array.from({ length: 25 }, (_, i) => i + 1).join(' '));
    const seq = c.events().length;
    await c.send('hello there');
    await c.end(seq);
    expect(c.events().find((e) => e.seq > seq && e.type === 'response').data.content).toMatch(
      /calculate/,
    );
  });

  it('search_docs asks first; approve runs it with results from the bundled docs', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('search idle expiry');
    const ask1 = await c.next('request_confirmation');
    expect(ask1.data).toMatchObject({
      tool: 'search_docs',
      arguments: { query: 'idle expiry' },
      interactionId: expect.any(String),
    });
    const state = (await t.http.get(`/sessions/${c.sessionId}`, u.token)).body.state;
    expect(state.run.status).toBe('awaiting_input');
    expect(state.pendingInteraction).toMatchObject({
      id: ask1.data.interactionId,
      kind: 'confirm',
      data: ask1.data,
    });
    expect((await c.respond(ask1.data.interactionId, { approved: true })).ok).toBe(true);
    const done = await c.end();
    expect(done.type).toBe('task_completed');
    const resolved = c.events().find((e) => e.type === 'interaction_resolved');
    expect(resolved.data).toMatchObject({
      interactionId: ask1.data.interactionId,
      outcome: 'approved',
      connectionId: expect.any(String),
    });
    expect(c.events().find((e) => e.type === 'response').data.content).toMatch(/expir/i);
  });

  it('confirm across two tabs: the first answer wins, the other gets INTERACTION_RESOLVED', async () => {
    const u = await t.user();
    const a = await t.tab(u.token);
    const b = await t.tab(u.token, a.sessionId);
    await a.send('search sessions');
    const q = await b.next('request_confirmation');
    const [ra, rb] = await Promise.all([
      a.respond(q.data.interactionId, { approved: false }),
      b.respond(q.data.interactionId, { approved: true }),
    ]);
    const results = [ra, rb];
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok).error.code).toBe('INTERACTION_RESOLVED');
    await a.end();
    expect(a.events().filter((e) => e.type === 'interaction_resolved')).toHaveLength(1);
    // A late answer is refused too.
    expect((await b.respond(q.data.interactionId, { approved: true })).error.code).toBe(
      'INTERACTION_RESOLVED',
    );
  });

  it('deny skips the tool and the agent answers without it', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('search replay');
    const q = await c.next('request_confirmation');
    await c.respond(q.data.interactionId, { approved: false });
    await c.end();
    expect(c.types()).not.toContain('tool_execution');
    expect(c.events().some((e) => e.type === 'thinking' && e.data.step === 'tool_execution')).toBe(
      false,
    );
    expect(c.events().find((e) => e.type === 'response').data.content).toMatch(
      /did not run search_docs \(denied\)/,
    );
  });

  it('deny with a reason: interaction_resolved carries it, the model gets it, the answer quotes it', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('search replay');
    const q = await c.next('request_confirmation');
    for (const bad of [
      { approved: false, reason: '' },
      { approved: false, reason: '   ' },
      { approved: false, reason: 'x'.repeat(501) },
      { approved: false, reason: 7 },
      { approved: true, reason: 'a reason only goes with a denial' },
    ]) {
      const refused = await c.respond(q.data.interactionId, bad);
      expect(refused.error.code).toBe('VALIDATION_FAILED');
      expect(refused.error.details.map((d: any) => d.field)).toEqual(['response.reason']);
    }
    const reason = 'not during the "freeze", please';
    expect((await c.respond(q.data.interactionId, { approved: false, reason })).ok).toBe(true);
    await c.end();
    const resolved = c.events().find((e) => e.type === 'interaction_resolved');
    expect(resolved.data).toMatchObject({ outcome: 'denied', reason });
    expect(c.types()).not.toContain('tool_execution');
    expect(c.events().find((e) => e.type === 'response').data.content).toContain(`"${reason}"`);
  });

  it('an unanswered confirmation times out, is resolved once, and the run completes', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('search metrics');
    const q = await c.next('request_confirmation');
    const done = await c.end(0, 5000);
    expect(done.type).toBe('task_completed');
    const resolved = c.events().filter((e) => e.type === 'interaction_resolved');
    expect(resolved.map((e) => e.data.outcome)).toEqual(['timeout']);
    expect((await c.respond(q.data.interactionId, { approved: true })).error.code).toBe(
      'INTERACTION_RESOLVED',
    );
  });

  it('a response of the wrong shape is VALIDATION_FAILED and leaves the question open', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('search tokens');
    const q = await c.next('request_confirmation');
    for (const bad of [
      { approved: 'yes' },
      { values: {} },
      { retry: true },
      {},
      { approved: true, extra: 1 },
    ]) {
      expect((await c.respond(q.data.interactionId, bad)).error.code).toBe('VALIDATION_FAILED');
    }
    expect((await c.respond(q.data.interactionId, { approved: true })).ok).toBe(true);
    await c.end();
  });

  it('a reminder with missing details asks with a form; bad values keep it open; it is stored', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('remind me to water the plants');
    const form = await c.next('component');
    expect(form.data).toMatchObject({
      kind: 'form',
      fields: [{ name: 'time', label: 'When', type: 'datetime', required: true }],
    });
    const bad = await c.respond(form.data.interactionId, { values: { time: '', colour: 'red' } });
    expect(bad.error.code).toBe('VALIDATION_FAILED');
    expect(bad.error.details.map((d: any) => d.field).sort()).toEqual([
      'values.colour',
      'values.time',
    ]);
    expect(
      (await c.respond(form.data.interactionId, { values: { time: 'tomorrow 9:00' } })).ok,
    ).toBe(true);
    await c.end();
    expect(c.events().find((e) => e.type === 'response').data.content).toMatch(/water the plants/);
    const reminders = await t.http.get('/reminders', u.token);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(reminders.body).toEqual({
      items: [
        {
          id: expect.any(String),
          label: 'water the plants',
          dueAt: `${tomorrow}T09:00:00.000Z`,
          status: 'scheduled',
          sessionId: c.sessionId,
          createdAt: expect.any(String),
          firedAt: null,
        },
      ],
      nextCursor: null,
    });
  });

  it('a reminder with everything given needs no form', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('remind me to call Ada at 17:30');
    await c.end();
    expect(c.types()).not.toContain('component');
    expect((await t.http.get('/reminders', u.token)).body.items[0]).toMatchObject({
      label: 'call Ada',
      dueAt: expect.stringMatching(/T17:30:00\.000Z$/),
      status: 'scheduled',
    });
  });

  it('cancel stops the run within 500 ms, keeps the text so far, and nothing follows task_cancelled', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const ack = await c.send('count to 5000');
    await c.next('generating');
    await sleep(100);
    const started = Date.now();
    const r = await ask(c.socket, 'run:cancel', { sessionId: c.sessionId });
    expect(r).toEqual({ ok: true, runId: ack.runId });
    const end = await c.end();
    expect(Date.now() - started).toBeLessThan(500);
    expect(end).toMatchObject({ type: 'task_cancelled', data: { reason: 'user' } });
    await sleep(300);
    const after = c.events().filter((e) => e.seq > end.seq);
    expect(after).toEqual([]);
    const text = c
      .events()
      .filter((e) => e.type === 'generating')
      .map((e) => e.data.delta)
      .join('');
    expect(text.startsWith('1 2 3 ')).toBe(true);
    const replay = (await t.http.get(`/sessions/${c.sessionId}/events?limit=1000`, u.token)).body
      .items;
    expect(replay[replay.length - 1].type).toBe('task_cancelled');
    expect((await ask(c.socket, 'run:cancel', { sessionId: c.sessionId })).error.code).toBe(
      'CONFLICT',
    );
  });

  it('cancel while a confirmation is pending resolves it as cancelled', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('search cancel');
    const q = await c.next('request_confirmation');
    const r = await t.http.post(`/sessions/${c.sessionId}/cancel`, {}, u.token);
    expect(r.status).toBe(202);
    await c.end();
    expect(c.events().find((e) => e.type === 'interaction_resolved').data).toEqual({
      interactionId: q.data.interactionId,
      outcome: 'cancelled',
    });
    expect(c.types().slice(-2)).toEqual(['interaction_resolved', 'task_cancelled']);
  });

  it('SESSION_BUSY while running; the same clientMessageId returns the first ack; SESSION_CLOSED after close', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const first = await c.send('count to 300', 'same-id');
    const again = await c.send('count to 300', 'same-id');
    expect(again).toEqual(first);
    const busy = await c.send('what is 1+1');
    expect(busy.error.code).toBe('SESSION_BUSY');
    const rest = await t.http.post(`/sessions/${c.sessionId}/messages`, { content: 'hi' }, u.token);
    expect(rest.status).toBe(409);
    expect(rest.body.code).toBe('SESSION_BUSY');
    await c.end(0, 15000);
    expect(c.events().filter((e) => e.type === 'user_message')).toHaveLength(1);
    expect(await c.send('count to 300', 'same-id')).toEqual(first);
    expect(
      (await t.http.request('DELETE', `/sessions/${c.sessionId}`, { token: u.token })).status,
    ).toBe(204);
    expect((await c.send('hello')).error.code).toBe('SESSION_CLOSED');
  });

  it('closing a session cancels its run and writes session_closed', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('count to 5000');
    await c.next('generating');
    await t.http.request('DELETE', `/sessions/${c.sessionId}`, { token: u.token });
    await c.next('session_closed');
    expect(c.types().slice(-2)).toEqual(['task_cancelled', 'session_closed']);
  });
});
