import { describeEachDatabase } from './support/databases.js';
import { RawChatSocket } from './support/raw-socket.js';
import { ask, type ClientSocket, connect } from './support/socket.js';
import { useTestApp } from './support/use-test-app.js';

/** `depth` nested objects as JSON text (built as text: JSON.stringify itself would overflow). */
const nestedJson = (depth: number): string => '{"a":'.repeat(depth) + '"x"' + '}'.repeat(depth);

describeEachDatabase('hostile input', (kind) => {
  // Room for a 12,000-level body (about 72 KB).
  const t = useTestApp(kind, { MAX_BODY_BYTES: '262144' });

  let token: string;
  let socket: ClientSocket;
  let sessionId: string;

  beforeAll(async () => {
    token = (await t.http.register()).accessToken;
    socket = await connect(t.baseUrl, token);
    sessionId = (await t.http.post('/sessions', {}, token)).body.id;
  });

  afterAll(() => {
    socket?.close();
  });

  const expectValidation = (r: { status: number; body: any }, field?: string): void => {
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('VALIDATION_FAILED');
    if (field)
      expect(r.body.details.map((d: { field: string }) => d.field)).toEqual(
        expect.arrayContaining([field]),
      );
  };
  const expectAckValidation = (ack: any, field?: string): void => {
    expect(ack.ok).toBe(false);
    expect(ack.error.code).toBe('VALIDATION_FAILED');
    if (field)
      expect(ack.error.details.map((d: { field: string }) => d.field)).toEqual(
        expect.arrayContaining([field]),
      );
  };

  it('refuses NUL and control characters in stored strings', async () => {
    expectValidation(await t.http.post('/sessions', { title: 'a\u0000b' }, token), 'title');
    expectValidation(await t.http.post('/sessions', { title: 'a\u0007b' }, token), 'title');
    expectValidation(await t.http.post('/sessions', { title: 'bad \ud800 half' }, token), 'title');
    expectAckValidation(await ask(socket, 'session:create', { title: 'a\u0000b' }), 'title');
    expectValidation(
      await t.http.post('/auth/register', {
        email: `n${Date.now()}@example.com`,
        password: 'password123',
        displayName: 'x\u0000y',
      }),
      'displayName',
    );
    const send = await t.http.post(
      `/sessions/${sessionId}/messages`,
      { content: 'hi\u0000there', clientMessageId: 'nul-1' },
      token,
    );
    expectValidation(send, 'content');
    // Tab and newline are fine.
    expect((await t.http.post('/sessions', { title: 'a\tb' }, token)).status).toBe(201);
  });

  it('refuses afterSeq beyond a safe integer', async () => {
    expectAckValidation(
      await ask(socket, 'session:join', { sessionId, afterSeq: 1e20 }),
      'afterSeq',
    );
    expectAckValidation(
      await ask(socket, 'session:join', { sessionId, afterSeq: Number.MAX_SAFE_INTEGER + 1 }),
      'afterSeq',
    );
    expectValidation(
      await t.http.get(`/sessions/${sessionId}/events?afterSeq=100000000000000000000`, token),
      'afterSeq',
    );
    const ok = await t.http.get(
      `/sessions/${sessionId}/events?afterSeq=${Number.MAX_SAFE_INTEGER}`,
      token,
    );
    expect(ok.status).toBe(200);
    expect(ok.body.items).toEqual([]);
  });

  it('refuses constructor and __proto__ keys anywhere', async () => {
    expectAckValidation(
      await ask(socket, 'run:cancel', { sessionId: { constructor: { prototype: {} } } }),
      'sessionId.constructor',
    );
    expectAckValidation(
      await ask(socket, 'run:cancel', { sessionId, constructor: 1 }),
      'constructor',
    );
    const proto = await t.http.request('POST', '/sessions', {
      raw: '{"title":"t","__proto__":{"admin":true}}',
      token,
    });
    expectValidation(proto, '__proto__');
    expectValidation(
      await t.http.request('POST', '/sessions', { raw: '{"constructor":{"name":"x"}}', token }),
      'constructor',
    );
    const socketProto = await ask(socket, 'session:create', JSON.parse('{"__proto__":{"a":1}}'));
    expectAckValidation(socketProto, '__proto__');
  });

  it('refuses deep nesting early, over REST and on a socket', async () => {
    const raw = await RawChatSocket.open(t.baseUrl, token);
    try {
      for (const depth of [40, 3000, 12000]) {
        const body = `{"title":"t","extra":${nestedJson(depth)}}`;
        expectValidation(await t.http.request('POST', '/sessions', { raw: body, token }));
        // A socket frame is at most 64 KiB: 12,000 levels do not fit in one.
        if (depth > 10_000) continue;
        const ack = await raw.emitRaw(
          'interaction:respond',
          `{"sessionId":"${sessionId}","interactionId":"${sessionId}","response":${nestedJson(depth)}}`,
        );
        expectAckValidation(ack);
      }
      // Shallow payloads still reach the use case normally.
      const shallow = await raw.emitRaw(
        'interaction:respond',
        `{"sessionId":"${sessionId}","interactionId":"${sessionId}","response":${nestedJson(5)}}`,
      );
      expect(shallow.error.code).toBe('NOT_FOUND');
    } finally {
      raw.close();
    }
  });

  it('refuses null for optional fields, naming the field', async () => {
    expectValidation(await t.http.post('/sessions', { title: null }, token), 'title');
    expectAckValidation(
      await ask(socket, 'session:join', { sessionId, afterSeq: null }),
      'afterSeq',
    );
    expectValidation(
      await t.http.post(
        `/sessions/${sessionId}/messages`,
        { content: 'hello', clientMessageId: null },
        token,
      ),
      'clientMessageId',
    );
  });

  it('answers 415 to bodies that are not JSON; a bodyless POST is fine', async () => {
    const cases: [string, string][] = [
      ['text/plain', '{"title":"x"}'],
      ['application/x-www-form-urlencoded', 'title=x'],
      [
        'multipart/form-data; boundary=b',
        '--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--b--',
      ],
      ['application/xml', '<title>x</title>'],
    ];
    for (const [type, raw] of cases) {
      const r = await t.http.request('POST', '/sessions', {
        raw,
        token,
        headers: { 'content-type': type },
      });
      expect(r.status).toBe(415);
      expect(r.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    const bare = await fetch(`${t.baseUrl}/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bare.status).toBe(201);
    const login = await t.http.request('POST', '/auth/login', {
      raw: 'email=a&password=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(login.status).toBe(415);
  });
});
