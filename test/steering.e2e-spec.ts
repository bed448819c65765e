import { describeEachDatabase } from './support/databases.js';
import type { ChatTab } from './support/chat.js';
import { ask } from './support/socket.js';
import { useTestApp } from './support/use-test-app.js';

/**
 * Steering (issue 21): follow-ups while the agent works (ifBusy enqueue / interrupt / rollback),
 * removing a queued message, edits and branches (parentIntentId, session:checkout), regenerate,
 * and the REST twins; memory follows the branch (`recap` shows what the agent sees).
 */
describeEachDatabase('steering the conversation', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '5',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    QUEUE_MAX: '2',
  });

  const send = (c: ChatTab, content: string, extra: object = {}): Promise<any> =>
    ask(c.socket, 'message:send', {
      sessionId: c.sessionId,
      content,
      clientMessageId: `m-${Math.random().toString(36).slice(2)}`,
      ...extra,
    });
  const of = (c: ChatTab, type: string, intentId?: string): any[] =>
    c.events().filter((e) => e.type === type && (!intentId || e.intentId === intentId));
  const endOf = async (c: ChatTab, intentId: string): Promise<any> => {
    const closing = ['task_completed', 'task_cancelled', 'task_failed'];
    await c.log.until(() =>
      c.events().some((e) => e.intentId === intentId && closing.includes(e.type)),
    );
    return c.events().find((e) => e.intentId === intentId && closing.includes(e.type));
  };
  /** The user messages the built-in agent's `recap` answer lists, in order. */
  const recapOf = async (c: ChatTab, intentId: string): Promise<string> => {
    await endOf(c, intentId);
    return of(c, 'response', intentId).at(-1).data.content as string;
  };
  const state = async (c: ChatTab): Promise<any> =>
    (await t.http.get(`/sessions/${c.sessionId}`, c.token)).body.state;

  it('enqueue: queued follow-ups start in order after the running one ends, each with the earlier answers in memory; QUEUE_FULL past QUEUE_MAX', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const first = await send(c, 'count to 40');
    expect(first.ok).toBe(true);
    const q1 = await send(c, 'what is 2 + 2', { ifBusy: 'enqueue' });
    const q2 = await send(c, 'recap', { ifBusy: 'enqueue' });
    expect(q1).toMatchObject({ ok: true, runId: null, queued: true, position: 1 });
    expect(q2).toMatchObject({ ok: true, runId: null, queued: true, position: 2 });
    const full = await send(c, 'one too many', { ifBusy: 'enqueue' });
    expect(full.error.code).toBe('QUEUE_FULL');
    expect((await send(c, 'refused', { ifBusy: 'reject' })).error.code).toBe('SESSION_BUSY');
    expect((await send(c, 'refused too')).error.code).toBe('SESSION_BUSY');

    const s = await state(c);
    expect(s.queue.map((q: any) => q.intentId)).toEqual([q1.intentId, q2.intentId]);
    expect(s.headIntentId).toBe(q2.intentId);
    const messages = of(c, 'user_message');
    expect(messages.map((m) => [m.data.parentIntentId, m.data.queued])).toEqual([
      [null, undefined],
      [first.intentId, true],
      [q1.intentId, true],
    ]);

    const recap = await recapOf(c, q2.intentId);
    expect(recap).toContain('count to 40');
    expect(recap).toContain('what is 2 + 2');
    // Each queued intent starts only after the previous one's closing event, in order.
    const seqOf = (type: string, intentId: string): number => of(c, type, intentId)[0].seq;
    expect(seqOf('task_started', q1.intentId)).toBeGreaterThan(
      seqOf('task_completed', first.intentId),
    );
    expect(seqOf('task_started', q2.intentId)).toBeGreaterThan(
      seqOf('task_completed', q1.intentId),
    );
    expect((await state(c)).queue).toEqual([]);
  });

  it('intent:cancel removes a queued message (intent_dequeued), CONFLICT for one that is not queued', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const first = await send(c, 'count to 40');
    const q1 = await send(c, 'what is 1 + 1', { ifBusy: 'enqueue' });
    const q2 = await send(c, 'what is 3 + 3', { ifBusy: 'enqueue' });
    const cancel = (intentId: string): Promise<any> =>
      ask(c.socket, 'intent:cancel', { sessionId: c.sessionId, intentId });
    expect(await cancel(q1.intentId)).toEqual({ ok: true });
    expect((await cancel(q1.intentId)).error.code).toBe('CONFLICT');
    expect((await cancel(first.intentId)).error.code).toBe('CONFLICT');
    expect((await cancel('6b1c1c39-2b3f-4b8e-9b7e-3d0d1c0f9a11')).error.code).toBe('NOT_FOUND');
    const dequeued = of(c, 'intent_dequeued');
    expect(dequeued.map((e) => e.data)).toEqual([{ intentId: q1.intentId, reason: 'user' }]);
    await endOf(c, q2.intentId);
    expect(of(c, 'task_started', q1.intentId)).toEqual([]);
    expect(of(c, 'response', q2.intentId)[0].data.content).toContain('6');
  });

  it('interrupt while streaming: the run ends task_cancelled interrupted, the new intent starts at once and remembers it', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const first = await send(c, 'count to 400');
    await c.next('generating');
    const now = await send(c, 'recap', { ifBusy: 'interrupt' });
    expect(now).toMatchObject({ ok: true, runId: expect.any(String) });
    const cancelled = await endOf(c, first.intentId);
    expect(cancelled).toMatchObject({ type: 'task_cancelled', data: { reason: 'interrupted' } });
    expect(cancelled.seq).toBeLessThan(now.seq);
    expect(await recapOf(c, now.intentId)).toContain('count to 400');
    // Nothing of the interrupted run follows its closing event.
    expect(c.events().filter((e) => e.runId === first.runId && e.seq > cancelled.seq)).toEqual([]);
  });

  it('rollback while waiting on a confirmation: its question resolves cancelled, the intent leaves memory', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const a = await send(c, 'what is 5 + 5');
    await endOf(c, a.intentId);
    const b = await send(c, 'search replay');
    const question = await c.next('request_confirmation');
    const now = await send(c, 'recap', { ifBusy: 'rollback' });
    expect(now.ok).toBe(true);
    const resolved = of(c, 'interaction_resolved');
    expect(resolved.map((e) => [e.data.interactionId, e.data.outcome])).toEqual([
      [question.data.interactionId, 'cancelled'],
    ]);
    expect(await endOf(c, b.intentId)).toMatchObject({ data: { reason: 'rolled_back' } });
    const recap = await recapOf(c, now.intentId);
    expect(recap).toContain('what is 5 + 5');
    expect(recap).not.toContain('search replay');
  });

  it('rollback while streaming and interrupt while waiting on a confirmation', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const a = await send(c, 'count to 400');
    await c.next('generating');
    const b = await send(c, 'search replay', { ifBusy: 'rollback' });
    expect(await endOf(c, a.intentId)).toMatchObject({ data: { reason: 'rolled_back' } });
    const question = await c.next('request_confirmation');
    expect(question.intentId).toBe(b.intentId);
    const now = await send(c, 'recap', { ifBusy: 'interrupt' });
    expect(await endOf(c, b.intentId)).toMatchObject({ data: { reason: 'interrupted' } });
    const resolved = of(c, 'interaction_resolved').map((e) => [
      e.data.interactionId,
      e.data.outcome,
    ]);
    expect(resolved).toEqual([[question.data.interactionId, 'cancelled']]);
    const recap = await recapOf(c, now.intentId);
    expect(recap).toContain('search replay');
    expect(recap).not.toContain('count to 400');
  });

  it('edit and checkout: memory follows the branch; an unknown or queued parent is refused', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const a = await send(c, 'what is 1 + 1');
    await endOf(c, a.intentId);
    const b = await send(c, 'what is 2 + 2');
    await endOf(c, b.intentId);
    const third = await send(c, 'what is 3 + 3');
    await endOf(c, third.intentId);

    // Edit the second message: its new text follows the first.
    const edited = await send(c, 'what is 4 + 4', { parentIntentId: a.intentId });
    expect(edited.ok).toBe(true);
    await endOf(c, edited.intentId);
    const r1 = await send(c, 'recap');
    const recap = await recapOf(c, r1.intentId);
    expect(recap).toContain('what is 1 + 1');
    expect(recap).toContain('what is 4 + 4');
    expect(recap).not.toContain('what is 2 + 2');
    expect(recap).not.toContain('what is 3 + 3');

    // Back to the first branch.
    const checkout = await ask(c.socket, 'session:checkout', {
      sessionId: c.sessionId,
      intentId: third.intentId,
    });
    expect(checkout).toEqual({ ok: true, headIntentId: third.intentId });
    expect(of(c, 'head_changed').at(-1).data).toEqual({ intentId: third.intentId });
    expect((await state(c)).headIntentId).toBe(third.intentId);
    const r2 = await send(c, 'recap');
    expect(of(c, 'user_message').at(-1).data.parentIntentId).toBe(third.intentId);
    const back = await recapOf(c, r2.intentId);
    for (const text of ['what is 1 + 1', 'what is 2 + 2', 'what is 3 + 3'])
      expect(back).toContain(text);
    expect(back).not.toContain('what is 4 + 4');

    const unknown = await send(c, 'x', { parentIntentId: '6b1c1c39-2b3f-4b8e-9b7e-3d0d1c0f9a11' });
    expect(unknown.error.code).toBe('NOT_FOUND');
    const bad = await send(c, 'x', { parentIntentId: 'not-an-id' });
    expect(bad.error.code).toBe('VALIDATION_FAILED');
    const running = await send(c, 'count to 400');
    const queued = await send(c, 'later', { ifBusy: 'enqueue' });
    const onQueued = await send(c, 'x', { parentIntentId: queued.intentId, ifBusy: 'enqueue' });
    expect(onQueued.error.code).toBe('CONFLICT');
    const checkoutQueued = await ask(c.socket, 'session:checkout', {
      sessionId: c.sessionId,
      intentId: queued.intentId,
    });
    expect(checkoutQueued.error.code).toBe('CONFLICT');
    const whileRunning = await ask(c.socket, 'session:checkout', {
      sessionId: c.sessionId,
      intentId: a.intentId,
    });
    expect(whileRunning.error.code).toBe('CONFLICT');
    expect(running.ok).toBe(true);
  });

  it('regenerate: a new attempt of the head intent; CONFLICT for another intent or while a run goes', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const a = await send(c, 'what is 6 * 7');
    await endOf(c, a.intentId);
    const b = await send(c, 'what is 6 * 6');
    await endOf(c, b.intentId);
    const regenerate = (intentId: string): Promise<any> =>
      ask(c.socket, 'intent:regenerate', { sessionId: c.sessionId, intentId });
    expect((await regenerate(a.intentId)).error.code).toBe('CONFLICT');
    const again = await regenerate(b.intentId);
    expect(again).toMatchObject({ ok: true, runId: expect.any(String) });
    expect((await regenerate(b.intentId)).error.code).toBe('CONFLICT');
    await c.log.until(() => of(c, 'task_completed', b.intentId).length === 2);
    const started = of(c, 'task_started', b.intentId);
    expect(started.map((e) => [e.runId, e.data.attempt])).toEqual([
      [b.runId, 1],
      [again.runId, 2],
    ]);
    expect(of(c, 'response', b.intentId).at(-1).data.content).toContain('36');
    expect((await state(c)).headIntentId).toBe(b.intentId);
  });

  it('the REST twins: send with ifBusy and parentIntentId, remove from the queue, move the head, regenerate', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const path = `/sessions/${c.sessionId}`;
    const first = await t.http.post(`${path}/messages`, { content: 'count to 300' }, u.token);
    expect(first.status).toBe(202);
    const queued = await t.http.post(
      `${path}/messages`,
      { content: 'what is 9 + 9', ifBusy: 'enqueue' },
      u.token,
    );
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ runId: null, queued: true, position: 1 });
    const badPolicy = await t.http.post(
      `${path}/messages`,
      { content: 'x', ifBusy: 'later' },
      u.token,
    );
    expect(badPolicy.status).toBe(400);
    const removed = await t.http.request('DELETE', `${path}/queue/${queued.body.intentId}`, {
      token: u.token,
    });
    expect(removed.status).toBe(204);
    const again = await t.http.request('DELETE', `${path}/queue/${queued.body.intentId}`, {
      token: u.token,
    });
    expect(again.status).toBe(409);
    expect((await t.http.request('DELETE', `${path}/queue/nope`, { token: u.token })).status).toBe(
      404,
    );
    const now = await t.http.post(
      `${path}/messages`,
      { content: 'what is 8 + 8', ifBusy: 'interrupt' },
      u.token,
    );
    expect(now.status).toBe(202);
    await endOf(c, now.body.intentId);
    const head = await t.http.request('PUT', `${path}/head`, {
      token: u.token,
      body: { intentId: first.body.intentId },
    });
    expect(head.status).toBe(200);
    expect(head.body).toEqual({ headIntentId: first.body.intentId });
    const regen = await t.http.post(
      `${path}/intents/${first.body.intentId}/regenerate`,
      {},
      u.token,
    );
    expect(regen.status).toBe(202);
    expect(regen.body.runId).toEqual(expect.any(String));
    // Another user sees none of it.
    const other = await t.user();
    expect(
      (
        await t.http.request('PUT', `${path}/head`, {
          token: other.token,
          body: { intentId: first.body.intentId },
        })
      ).status,
    ).toBe(404);
  });

  it('closing the session drops its queue before session_closed', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const first = await send(c, 'count to 400');
    const q1 = await send(c, 'what is 1 + 1', { ifBusy: 'enqueue' });
    const q2 = await send(c, 'what is 2 + 2', { ifBusy: 'enqueue' });
    const closed = await t.http.request('DELETE', `/sessions/${c.sessionId}`, { token: u.token });
    expect(closed.status).toBeLessThan(300);
    await c.next('session_closed');
    const tail = c.types(first.seq).filter((x) => x !== 'generating' && x !== 'thinking');
    expect(tail.slice(-4)).toEqual([
      'intent_dequeued',
      'intent_dequeued',
      'task_cancelled',
      'session_closed',
    ]);
    expect(of(c, 'intent_dequeued').map((e) => e.data)).toEqual([
      { intentId: q1.intentId, reason: 'closed' },
      { intentId: q2.intentId, reason: 'closed' },
    ]);
  });
});
