import { randomUUID } from 'node:crypto';
import { Database } from '../src/database/database.js';
import { describeEachDatabase } from './support/databases.js';
import { ChatTab } from './support/chat.js';
import { fuzzSeed, hostileCursor, mutate, randomValue, Rng } from './support/fuzz.js';
import { ask, connect, type ClientSocket } from './support/socket.js';
import { useTestApp } from './support/use-test-app.js';

const SEED = fuzzSeed();
const SOCKET_PAYLOADS = 10_000;
const REST_BODIES = 2_000;
const MAX_FRAME_JSON = 60_000;

// Printed so that a failure reproduces: FUZZ_SEED=<seed> runs the very same payloads.
console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} reproduces this run)`);

describeEachDatabase(`fuzzing every socket event and REST route (FUZZ_SEED=${SEED})`, (kind) => {
  const t = useTestApp(kind, {
    BUILTIN_TOKEN_DELAY_MS: '0',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '100000',
    DAILY_TOKEN_QUOTA: '0',
  });

  let attacker: { token: string; userId: string };
  let admin: string;
  let victim: { token: string; userId: string; email: string };
  let mine: { sessionId: string; intentId: string; runId: string };
  let theirs: { sessionId: string; intentId: string; runId: string; interactionId: string };
  let ids: string[];
  const marker = `VICTIM-SECRET-${randomUUID()}`;

  beforeAll(async () => {
    const v = await t.http.register('victim');
    victim = { token: v.accessToken, userId: v.user.id, email: v.user.email };
    const vTab = await ChatTab.open(t.baseUrl, victim.token);
    await ask(vTab.socket, 'session:leave', { sessionId: vTab.sessionId });
    const vSession = (await t.http.post('/sessions', { title: marker }, victim.token)).body.id;
    const vc = await ChatTab.open(t.baseUrl, victim.token, vSession);
    const vAck = await vc.send(`search ${marker}`);
    const question = await vc.next('request_confirmation', vAck.seq);
    theirs = {
      sessionId: vSession,
      intentId: vAck.intentId,
      runId: vAck.runId,
      interactionId: question.data.interactionId,
    };
    vTab.close();
    vc.close();
    const a = await t.http.register('attacker');
    attacker = { token: a.accessToken, userId: a.user.id };
    const ac = await ChatTab.open(t.baseUrl, attacker.token);
    const aAck = await ac.send('what is 1 + 1');
    await ac.end(aAck.seq);
    mine = { sessionId: ac.sessionId, intentId: aAck.intentId, runId: aAck.runId };
    ac.close();
    const adminUser = await t.http.register('admin');
    await t.app
      .get(Database)
      .query(`UPDATE users SET role = 'admin' WHERE id = $1`, [adminUser.user.id]);
    admin = (
      await t.http.post('/auth/login', { email: adminUser.user.email, password: 'password123' })
    ).body.accessToken;
    ids = [...Object.values(mine), ...Object.values(theirs), randomUUID(), victim.userId];
  });

  /** Anything of the victim's in an answer to the attacker is a leak. */
  const leaks = (answer: unknown): boolean => {
    const text = JSON.stringify(answer) ?? '';
    return text.includes(marker) || text.includes(victim.email);
  };

  it(`answers ${SOCKET_PAYLOADS} mutated socket payloads with a non-INTERNAL ack`, async () => {
    const rng = new Rng(SEED);
    const socket: ClientSocket = await connect(t.baseUrl, attacker.token);
    const seen: unknown[] = [];
    socket.on('session:event', (e: { sessionId: string }) => seen.push(e));
    const base = (event: string): Record<string, unknown> => {
      const s = rng.pick([mine.sessionId, theirs.sessionId]);
      switch (event) {
        case 'session:create':
          return { title: 'fuzz' };
        case 'session:join':
          return { sessionId: s, afterSeq: 0 };
        case 'message:send':
          return { sessionId: s, content: 'count to 3', clientMessageId: `f${rng.int(1e9)}` };
        case 'interaction:respond':
          return {
            sessionId: s,
            interactionId: theirs.interactionId,
            response: { approved: true },
          };
        case 'intent:resume':
          return { sessionId: s, intentId: rng.pick([mine.intentId, theirs.intentId]) };
        default:
          return { sessionId: s };
      }
    };
    const events = [
      'session:create',
      'session:join',
      'session:leave',
      'message:send',
      'interaction:respond',
      'run:cancel',
      'intent:resume',
      'no:such:event',
    ];
    const failures: string[] = [];
    let sent = 0;
    while (sent < SOCKET_PAYLOADS) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < 50 && sent < SOCKET_PAYLOADS; i++) {
        const event = rng.pick(events);
        const payload = mutate(rng, base(event), ids);
        if ((JSON.stringify(payload) ?? '').length > MAX_FRAME_JSON) continue;
        sent++;
        batch.push(
          ask(socket, event, payload, 20_000).then(
            (ack: any) => {
              if (typeof ack?.ok !== 'boolean' || ack?.error?.code === 'INTERNAL' || leaks(ack))
                failures.push(
                  `${event} ${JSON.stringify(payload)?.slice(0, 300)} → ${JSON.stringify(ack)?.slice(0, 300)}`,
                );
            },
            (err: Error) => {
              failures.push(`${event}: no ack (${err.message})`);
            },
          ),
        );
      }
      await Promise.all(batch);
      expect(failures).toEqual([]);
      expect(socket.connected).toBe(true);
    }
    expect(seen.filter((e: any) => e.sessionId === theirs.sessionId || leaks(e))).toEqual([]);
    socket.close();
  });

  it(`answers ${REST_BODIES} hostile requests over every REST route without a 5xx`, async () => {
    const rng = new Rng(SEED + 1);
    const id = (): string => rng.pick([...ids, 'not-a-uuid', '%00', '1e20']);
    const routes: [string, () => string, () => Record<string, unknown>][] = [
      [
        'POST',
        () => '/auth/register',
        () => ({ email: `f${rng.int(1e9)}@example.com`, password: 'password123' }),
      ],
      ['POST', () => '/auth/login', () => ({ email: victim.email, password: 'wrong-password' })],
      ['POST', () => '/auth/refresh', () => ({ refreshToken: `${id()}.secret` })],
      ['POST', () => '/auth/logout', () => ({ refreshToken: `${id()}.secret` })],
      ['GET', () => '/auth/me', () => ({})],
      ['POST', () => '/sessions', () => ({ title: 'fuzz' })],
      [
        'GET',
        () =>
          `/sessions?status=${rng.pick(['active', 'x', ''])}&limit=${rng.pick(['5', '-1', '1e20', 'x'])}&cursor=${hostileCursor(rng)}`,
        () => ({}),
      ],
      ['GET', () => `/sessions/${id()}`, () => ({})],
      ['DELETE', () => `/sessions/${rng.pick([theirs.sessionId, 'x', randomUUID()])}`, () => ({})],
      [
        'GET',
        () =>
          `/sessions/${id()}/events?afterSeq=${rng.pick(['0', '-1', '100000000000000000000', 'x', '1.5'])}&limit=${rng.pick(['1', '1000', '1001', 'x'])}`,
        () => ({}),
      ],
      [
        'GET',
        () => `/sessions/${rng.pick([theirs.sessionId, 'x', randomUUID()])}/stream`,
        () => ({}),
      ],
      [
        'POST',
        () => `/sessions/${id()}/messages`,
        () => ({ content: 'what is 1 + 2', clientMessageId: `r${rng.int(1e9)}` }),
      ],
      ['POST', () => `/sessions/${id()}/cancel`, () => ({})],
      [
        'POST',
        () => `/sessions/${id()}/interactions/${id()}`,
        () => ({ response: { approved: false } }),
      ],
      ['POST', () => `/sessions/${id()}/intents/${id()}/resume`, () => ({})],
      [
        'GET',
        () =>
          `/reminders?status=${rng.pick(['scheduled', 'x'])}&limit=${rng.pick(['1', 'x'])}&cursor=${hostileCursor(rng)}`,
        () => ({}),
      ],
      ['DELETE', () => `/reminders/${id()}`, () => ({})],
      [
        'GET',
        () => `/admin/users?q=${rng.pick(['a', '%00', ''])}&cursor=${hostileCursor(rng)}`,
        () => ({}),
      ],
      ['PATCH', () => `/admin/users/${rng.pick([randomUUID(), 'x'])}`, () => ({ role: 'user' })],
      ['GET', () => `/admin/sessions?cursor=${hostileCursor(rng)}`, () => ({})],
      ['POST', () => `/admin/sessions/${rng.pick([randomUUID(), 'x'])}/close`, () => ({})],
      [
        'GET',
        () => `/admin/runs?status=${rng.pick(['running', 'x'])}&cursor=${hostileCursor(rng)}`,
        () => ({}),
      ],
      ['POST', () => `/admin/runs/${rng.pick([randomUUID(), 'x'])}/cancel`, () => ({})],
      ['GET', () => `/admin/usage?from=${rng.pick(['2026-01-01', 'x', '1e20'])}`, () => ({})],
      ['GET', () => '/admin/stats', () => ({})],
    ];
    const contentTypes = [
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      undefined,
    ];
    const failures: string[] = [];
    for (let sent = 0; sent < REST_BODIES;) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < 20 && sent < REST_BODIES; i++, sent++) {
        const [method, path, body] = rng.pick(routes);
        const url = path();
        const payload = mutate(rng, body(), ids);
        let raw = JSON.stringify(payload) ?? 'null';
        if (rng.chance(0.05)) raw = raw.slice(0, rng.int(raw.length));
        const type = rng.chance(0.8) ? 'application/json' : rng.pick(contentTypes);
        const token =
          url.startsWith('/admin') && rng.chance(0.5)
            ? admin
            : rng.chance(0.95)
              ? attacker.token
              : 'garbage';
        const headers: Record<string, string> = { authorization: `Bearer ${token}` };
        if (type) headers['content-type'] = type;
        const hasBody = method !== 'GET' && rng.chance(0.9);
        batch.push(
          fetch(t.baseUrl + url, {
            method,
            headers,
            body: hasBody ? raw : undefined,
            signal: AbortSignal.timeout(20_000),
          })
            .then(async (res) => {
              const text = res.headers.get('content-type')?.includes('event-stream')
                ? ''
                : await res.text();
              // An admin may see every user; anyone else must never see the victim's data.
              if (
                res.status >= 500 ||
                text.includes('"INTERNAL"') ||
                (token !== admin && leaks(text))
              )
                failures.push(
                  `${method} ${url} ${type} ${raw.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`,
                );
              if (text === '') await res.body?.cancel();
            })
            .catch((err: Error) => {
              failures.push(`${method} ${url}: ${err.message}`);
            }),
        );
      }
      await Promise.all(batch);
      expect(failures).toEqual([]);
    }
    // The process is up and still serves everyone normally.
    expect((await t.http.get('/health/live')).status).toBe(200);
    expect((await t.http.get('/auth/me', victim.token)).status).toBe(200);
    const v = await t.http.get(`/sessions/${theirs.sessionId}`, victim.token);
    expect(v.body.title).toBe(marker);
    expect(randomValue(new Rng(SEED), ids)).toEqual(randomValue(new Rng(SEED), ids));
  });
});
