import { FaultPoints } from '../src/common/fault-points.js';
import { describeEachDatabase } from './support/databases.js';
import { ask, type ClientSocket } from './support/socket.js';
import { serviceUrl } from './support/services.js';
import { useTestApp } from './support/use-test-app.js';

/**
 * A round trip on the socket: whatever the server emitted to it before this ack has arrived
 * (what it emits to a user's room goes out at once, so an event meant for it would be here).
 */
async function settled(socket: ClientSocket): Promise<void> {
  expect((await ask(socket, 'session:create', {})).ok).toBe(true);
}

/** Every `inbox` event a socket receives, in arrival order, with a wait for one. */
class InboxLog {
  readonly items: any[] = [];
  private waiters: (() => void)[] = [];

  constructor(socket: ClientSocket) {
    socket.on('inbox', (item: any) => {
      this.items.push(item);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  async until(expected: object, timeoutMs = 10_000): Promise<void> {
    const seen = (): boolean =>
      this.items.some((i) => Object.entries(expected).every(([k, v]) => i[k] === v));
    const deadline = Date.now() + timeoutMs;
    while (!seen()) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no inbox ${JSON.stringify(expected)}; got ${JSON.stringify(this.items)}`);
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

describeEachDatabase('inbox', (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '2',
    CONFIRMATION_TIMEOUT_MS: '60000',
    FORM_TIMEOUT_MS: '60000',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  });

  const titled = async (token: string, title: string): Promise<string> =>
    (await t.http.post('/sessions', { title }, token)).body.id as string;

  it('a question in one session reaches every socket of the user as pending, then resolved', async () => {
    const u = await t.user('inbox');
    const other = await t.user('inbox-other');
    const a = await t.tab(u.token, await titled(u.token, 'Alpha'));
    const b = await t.tab(u.token, await titled(u.token, 'Beta'));
    const bare = await t.socket(u.token);
    const stranger = await t.tab(other.token);
    const strangerBare = await t.socket(other.token);
    const [inB, inBare, inStranger, inStrangerBare] = [
      b.socket,
      bare,
      stranger.socket,
      strangerBare,
    ].map((s) => new InboxLog(s));

    await a.send('search idle expiry');
    const asked = await a.next('request_confirmation');
    const question = asked.data;
    // Each carries the seq of the session event that opened or closed the question.
    const pending = {
      interactionId: question.interactionId,
      sessionId: a.sessionId,
      kind: 'confirm',
      status: 'pending',
      seq: asked.seq,
    };
    await inB.until(pending);
    await inBare.until(pending);
    expect(inBare.items).toEqual([pending]);
    expect(b.events()).toEqual([]);

    expect((await a.respond(question.interactionId, { approved: true })).ok).toBe(true);
    const closed = await a.next('interaction_resolved', asked.seq);
    const resolved = { ...pending, status: 'resolved', seq: closed.seq };
    await inB.until(resolved);
    await inBare.until(resolved);
    expect(inBare.items).toEqual([pending, resolved]);
    await a.end();

    await settled(stranger.socket);
    await settled(strangerBare);
    expect(inStranger.items).toEqual([]);
    expect(inStrangerBare.items).toEqual([]);
    expect((await t.http.get('/interactions?status=pending', u.token)).body).toEqual({
      items: [],
      nextCursor: null,
    });
  });

  it('GET /interactions?status=pending lists the open questions oldest first, paged', async () => {
    const u = await t.user('inbox-list');
    const other = await t.user('inbox-list-other');
    const a = await t.tab(u.token, await titled(u.token, 'Alpha'));
    const b = await t.tab(u.token, await titled(u.token, 'Beta'));
    const bare = await t.socket(u.token);
    const inBare = new InboxLog(bare);

    await a.send('search idle expiry');
    const confirm = (await a.next('request_confirmation')).data;
    await b.send('remind me to water the plants');
    const form = (await b.next('component')).data;

    const first = await t.http.get('/interactions?status=pending&limit=1', u.token);
    expect(first.status).toBe(200);
    expect(first.body.items).toEqual([
      {
        interactionId: confirm.interactionId,
        sessionId: a.sessionId,
        sessionTitle: 'Alpha',
        kind: 'confirm',
        tool: 'search_docs',
        createdAt: expect.any(String),
        expiresAt: confirm.expiresAt,
      },
    ]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await t.http.get(
      `/interactions?status=pending&limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      u.token,
    );
    expect(second.body).toEqual({
      items: [
        {
          interactionId: form.interactionId,
          sessionId: b.sessionId,
          sessionTitle: 'Beta',
          kind: 'form',
          title: form.title,
          createdAt: expect.any(String),
          expiresAt: form.expiresAt,
        },
      ],
      nextCursor: null,
    });
    const all = (await t.http.get('/interactions', u.token)).body;
    expect(all.items.map((i: any) => i.interactionId)).toEqual([
      confirm.interactionId,
      form.interactionId,
    ]);
    expect(Date.parse(all.items[0].createdAt)).toBeLessThanOrEqual(
      Date.parse(all.items[1].createdAt),
    );
    expect((await t.http.get('/interactions?status=pending', other.token)).body).toEqual({
      items: [],
      nextCursor: null,
    });

    // A cancelled run closes its question: resolved on the user's sockets, gone from the list.
    expect((await t.http.post(`/sessions/${a.sessionId}/cancel`, {}, u.token)).status).toBe(202);
    await inBare.until({ interactionId: confirm.interactionId, status: 'resolved' });
    const left = (await t.http.get('/interactions?status=pending', u.token)).body;
    expect(left.items.map((i: any) => i.interactionId)).toEqual([form.interactionId]);
    expect((await t.http.post(`/sessions/${b.sessionId}/cancel`, {}, u.token)).status).toBe(202);
    await inBare.until({ interactionId: form.interactionId, kind: 'form', status: 'resolved' });
  });

  it('a bad status or cursor is VALIDATION_FAILED', async () => {
    const u = await t.user('inbox-bad');
    for (const query of [
      'status=resolved',
      'status=',
      'cursor=nonsense',
      'limit=0',
      'colour=red',
    ]) {
      const r = await t.http.get(`/interactions?${query}`, u.token);
      expect({ query, status: r.status, code: r.body.code }).toEqual({
        query,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    expect((await t.http.get('/interactions?status=pending', undefined)).status).toBe(401);
  });
});

describe('inbox across two nodes on one PostgreSQL and Redis', () => {
  const env = {
    REDIS_URL: serviceUrl('TEST_REDIS_URL'),
    JWT_SECRET: 'inbox-test-secret-shared-by-both-nodes',
    BUILTIN_TOKEN_DELAY_MS: '2',
    AGENT_FAIL_FIRST_ATTEMPTS: '1',
    RETRY_TIMEOUT_MS: '60000',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  };
  const a = useTestApp('postgres', env);
  const b = a.node(env);
  afterEach(() => b.app.get(FaultPoints).disarm());

  it('a retry offered on node B reaches the user on node A once, opened and closed', async () => {
    const u = await a.user('inbox-cluster');
    const onA = await a.socket(u.token);
    const onB = await b.socket(u.token);
    const [inA, inB] = [onA, onB].map((s) => new InboxLog(s));
    const sessionId = (await b.http.post('/sessions', { title: 'Gamma' }, u.token)).body.id;
    const sent = await b.http.post(
      `/sessions/${sessionId}/messages`,
      { content: '1 + 1' },
      u.token,
    );
    expect(sent.status).toBe(202);
    await inA.until({ sessionId, kind: 'retry', status: 'pending' });
    const [offer] = inA.items;
    const listed = (await a.http.get('/interactions?status=pending', u.token)).body.items;
    expect(listed).toEqual([
      expect.objectContaining({
        interactionId: offer.interactionId,
        sessionTitle: 'Gamma',
        kind: 'retry',
      }),
    ]);
    const answered = await a.http.post(
      `/sessions/${sessionId}/interactions/${offer.interactionId}`,
      { response: { retry: false } },
      u.token,
    );
    expect(answered.status).toBe(200);
    const closing = {
      interactionId: offer.interactionId,
      sessionId,
      kind: 'retry',
      status: 'resolved',
    };
    await inA.until(closing);
    await inB.until(closing);
    const resolved = inA.items[1];
    expect(resolved).toEqual({ ...closing, seq: expect.any(Number) });
    await settled(onA);
    await settled(onB);
    expect(inA.items).toEqual([offer, resolved]);
    expect(inB.items).toEqual([offer, resolved]);
    expect(offer.seq).toEqual(expect.any(Number));
    expect(resolved.seq).toBeGreaterThan(offer.seq);
  });

  it('B’s pending arrives after A’s resolved: the seq orders them, the higher one wins', async () => {
    const u = await a.user('inbox-crossing');
    const onA = await a.socket(u.token);
    const inA = new InboxLog(onA);
    const sessionId = (await b.http.post('/sessions', { title: 'Delta' }, u.token)).body.id;
    // B offers the retry but its inbox event is held; A answers and sends the resolution first.
    const held = b.app.get(FaultPoints).pause('inbox.sending');
    expect(
      (await b.http.post(`/sessions/${sessionId}/messages`, { content: '1 + 1' }, u.token)).status,
    ).toBe(202);
    await held.reached;
    const offer = (await a.http.get('/interactions?status=pending', u.token)).body.items[0];
    const answered = await a.http.post(
      `/sessions/${sessionId}/interactions/${offer.interactionId}`,
      { response: { retry: false } },
      u.token,
    );
    expect(answered.status).toBe(200);
    await inA.until({ interactionId: offer.interactionId, status: 'resolved' });
    held.release();
    await inA.until({ interactionId: offer.interactionId, status: 'pending' });
    expect(inA.items.map((i) => i.status)).toEqual(['resolved', 'pending']);
    const log = (await a.http.get(`/sessions/${sessionId}/events`, u.token)).body.items as any[];
    const [closed, opened] = inA.items;
    expect(opened.seq).toBe(log.find((e) => e.type === 'task_failed').seq);
    expect(closed.seq).toBe(log.find((e) => e.type === 'interaction_resolved').seq);
    // What a client keeps, per session the highest seq winning: the question is closed.
    const latest = inA.items.reduce((x, y) => (y.seq > x.seq ? y : x));
    expect(latest.status).toBe('resolved');
  });
});
