import { FaultPoints } from '../src/common/fault-points.js';
import type { ChatTab } from './support/chat.js';
import { describeEachDatabase } from './support/databases.js';
import { useTestApp } from './support/use-test-app.js';

/**
 * Standing grants (docs/protocol.md "Approvals"): `{approved: true, scope: "session"}` on a
 * confirmation also approves that tool for the rest of the session, until revoked over REST.
 */
describeEachDatabase('standing approval grants', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '2',
    CONFIRMATION_TIMEOUT_MS: '10000',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  });

  let faults: FaultPoints;
  beforeAll(() => {
    faults = t.app.get(FaultPoints);
  });
  afterEach(() => faults.disarm());

  const approvals = (sessionId: string, token: string) =>
    t.http.get(`/sessions/${sessionId}/approvals`, token);
  const revoke = (sessionId: string, tool: string, token: string) =>
    t.http.request('DELETE', `/sessions/${sessionId}/approvals/${tool}`, { token });

  /** Sends `content` and waits for its run's end (from the last event seen). */
  async function run(c: ChatTab, content: string): Promise<number> {
    const from = c.events().at(-1)?.seq ?? 0;
    expect((await c.send(content)).ok).toBe(true);
    await c.end(from);
    return from;
  }

  /** Sends `content`, answers its confirmation with `response`, waits for the run's end. */
  async function approveAndRun(c: ChatTab, content: string, response: unknown): Promise<any> {
    const from = c.events().at(-1)?.seq ?? 0;
    expect((await c.send(content)).ok).toBe(true);
    const q = await c.next('request_confirmation', from);
    expect((await c.respond(q.data.interactionId, response)).ok).toBe(true);
    await c.end(from);
    return q;
  }

  const toolStarts = (c: ChatTab, from: number) =>
    c
      .events()
      .filter(
        (e) =>
          e.seq > from &&
          e.type === 'thinking' &&
          e.data.step === 'tool_execution' &&
          e.data.status === 'started',
      );

  it('scope session: the next call in the session asks nothing, its thinking names the grant; another session still asks; the list shows it', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    const q = await approveAndRun(c, 'search replay', { approved: true, scope: 'session' });

    const resolved = c.events().find((e) => e.type === 'interaction_resolved');
    expect(resolved.data).toMatchObject({ outcome: 'approved', scope: 'session' });
    const granted = c.events().find((e) => e.type === 'approval_granted');
    expect(granted.seq).toBe(resolved.seq + 1);
    expect(granted.data).toEqual({
      tool: 'search_docs',
      scope: 'session',
      interactionId: q.data.interactionId,
    });

    const from = await run(c, 'search tokens');
    expect(c.types(from)).not.toContain('request_confirmation');
    expect(c.types(from).at(-1)).toBe('task_completed');
    const [start] = toolStarts(c, from);
    expect(start.data.detail).toMatch(/standing grant/);

    const list = await approvals(c.sessionId, u.token);
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      items: [
        {
          tool: 'search_docs',
          scope: 'session',
          grantedAt: expect.any(String),
          grantedBy: { userId: u.userId, connectionId: resolved.connectionId },
          interactionId: q.data.interactionId,
        },
      ],
    });
    expect(Number.isNaN(Date.parse(list.body.items[0].grantedAt))).toBe(false);

    // The grant is this session's only: another session of the same user still asks.
    const other = await t.tab(u.token);
    await other.send('search replay');
    const asked = await other.next('request_confirmation');
    expect(asked.data.tool).toBe('search_docs');
    expect((await other.respond(asked.data.interactionId, { approved: false })).ok).toBe(true);
    await other.end();
    expect((await approvals(other.sessionId, u.token)).body).toEqual({ items: [] });
  });

  it('scope once (and no scope) grants nothing: the next call asks again', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await approveAndRun(c, 'search replay', { approved: true, scope: 'once' });
    expect(c.events().find((e) => e.type === 'interaction_resolved').data).toMatchObject({
      outcome: 'approved',
      scope: 'once',
    });
    await approveAndRun(c, 'search replay', { approved: true });
    expect(c.types()).not.toContain('approval_granted');
    expect(c.types().filter((x) => x === 'request_confirmation')).toHaveLength(2);
    expect((await approvals(c.sessionId, u.token)).body).toEqual({ items: [] });
  });

  it('a scope that is not once or session, or one on a denial, is VALIDATION_FAILED and the question stays open', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await c.send('search replay');
    const q = await c.next('request_confirmation');
    for (const bad of [
      { approved: true, scope: 'forever' },
      { approved: true, scope: null },
      { approved: true, scope: 1 },
      { approved: false, scope: 'session' },
      { approved: false, scope: 'once' },
    ]) {
      const refused = await c.respond(q.data.interactionId, bad);
      expect(refused.error.code).toBe('VALIDATION_FAILED');
      expect(refused.error.details.map((d: any) => d.field)).toEqual(['response.scope']);
    }
    // The REST twin says the same.
    const rest = await t.http.post(
      `/sessions/${c.sessionId}/interactions/${q.data.interactionId}`,
      { response: { approved: true, scope: 'always' } },
      u.token,
    );
    expect(rest.status).toBe(400);
    expect(rest.body.code).toBe('VALIDATION_FAILED');
    expect(rest.body.details.map((d: any) => d.field)).toEqual(['response.scope']);
    expect((await c.respond(q.data.interactionId, { approved: true })).ok).toBe(true);
    await c.end();
    expect(c.types()).not.toContain('approval_granted');
  });

  it('revoke: approval_revoked, the tool asks again; a revoke without a grant, or in another user’s session, is NOT_FOUND', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await approveAndRun(c, 'search replay', { approved: true, scope: 'session' });

    const stranger = await t.user();
    for (const r of [
      await approvals(c.sessionId, stranger.token),
      await revoke(c.sessionId, 'search_docs', stranger.token),
    ]) {
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('NOT_FOUND');
    }

    const gone = await revoke(c.sessionId, 'search_docs', u.token);
    expect(gone.status).toBe(204);
    const revoked = await c.next('approval_revoked');
    expect(revoked.data).toEqual({ tool: 'search_docs' });
    expect((await approvals(c.sessionId, u.token)).body).toEqual({ items: [] });

    const again = await revoke(c.sessionId, 'search_docs', u.token);
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('NOT_FOUND');
    expect((await revoke(c.sessionId, 'calculator', u.token)).status).toBe(404);

    // The next call asks again.
    const from = revoked.seq;
    await c.send('search replay');
    const q = await c.next('request_confirmation', from);
    expect(q.data.tool).toBe('search_docs');
    expect((await c.respond(q.data.interactionId, { approved: false })).ok).toBe(true);
    await c.end(from);
    expect(c.types(from).filter((x) => x === 'approval_revoked')).toHaveLength(0);
  });

  it('a revoke that answers while a call has just read the grant: that call asks instead of running', async () => {
    const u = await t.user();
    const c = await t.tab(u.token);
    await approveAndRun(c, 'search replay', { approved: true, scope: 'session' });

    // The next call reads the grant and is held there; the revoke commits and answers meanwhile.
    const held = faults.pause('tool.grant-read');
    const from = c.events().at(-1)?.seq ?? 0;
    expect((await c.send('search tokens')).ok).toBe(true);
    await held.reached;
    expect((await revoke(c.sessionId, 'search_docs', u.token)).status).toBe(204);
    held.release();

    const q = await c.next('request_confirmation', from);
    expect(q.data.tool).toBe('search_docs');
    expect(toolStarts(c, from)).toHaveLength(0);
    expect((await c.respond(q.data.interactionId, { approved: false })).ok).toBe(true);
    expect((await c.end(from)).type).toBe('task_completed');
    expect(toolStarts(c, from)).toHaveLength(0);
  });

  describe.each([
    ['session', 'once'],
    ['once', 'session'],
  ] as const)('two tabs answer at the same instant', (first, second) => {
    it(`"${first}" wins over "${second}": the other gets INTERACTION_RESOLVED; a grant only when "session" won`, async () => {
      const u = await t.user();
      const a = await t.tab(u.token);
      const b = await t.tab(u.token, a.sessionId);
      await a.send('search sessions');
      const q = await b.next('request_confirmation');

      // Both answers pass their checks and are held there; then the first goes on to resolve
      // the question, and the second is let go while the first is inside its transaction.
      const gates: (() => void)[] = [];
      const arrivals: (() => void)[] = [];
      const arrived = [0, 1].map((i) => new Promise<void>((r) => (arrivals[i] = r)));
      faults.arm('answer.checked', () => {
        const i = gates.length;
        const gate = new Promise<void>((r) => gates.push(r));
        arrivals[i]?.();
        return gate;
      });
      const answering = a.respond(q.data.interactionId, { approved: true, scope: first });
      await arrived[0];
      const racing = b.respond(q.data.interactionId, { approved: true, scope: second });
      await arrived[1];
      let inside!: () => void;
      const resolving = new Promise<void>((r) => (inside = r));
      faults.arm('interaction.resolved', () => inside());
      gates[0]();
      await resolving;
      gates[1]();

      const [ra, rb] = await Promise.all([answering, racing]);
      expect(ra.ok).toBe(true);
      expect(rb.ok).toBe(false);
      expect(rb.error.code).toBe('INTERACTION_RESOLVED');
      await a.end();
      const resolved = a.events().filter((e) => e.type === 'interaction_resolved');
      expect(resolved.map((e) => e.data.scope)).toEqual([first]);
      const grants = (await approvals(a.sessionId, u.token)).body.items;
      const grantEvents = a.events().filter((e) => e.type === 'approval_granted');
      if (first === 'session') {
        expect(grants.map((g: any) => g.tool)).toEqual(['search_docs']);
        expect(grants[0].grantedBy.connectionId).toBe(resolved[0].connectionId);
        expect(grantEvents).toHaveLength(1);
      } else {
        expect(grants).toEqual([]);
        expect(grantEvents).toHaveLength(0);
      }
    });
  });
});
