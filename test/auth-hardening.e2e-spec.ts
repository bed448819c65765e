import { createHmac } from 'node:crypto';
import { Database } from '../src/database/database.js';
import { describeEachDatabase } from './support/databases.js';
import { connect } from './support/socket.js';
import { useTestApp } from './support/use-test-app.js';

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

function signHs256(payload: object, secret: string): string {
  const head = b64url({ alg: 'HS256', typ: 'JWT' });
  const body = b64url(payload);
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

const LIMIT = 3;

describeEachDatabase('auth hardening', (kind) => {
  const t = useTestApp(kind, { AUTH_RATE_LIMIT_PER_MINUTE: String(LIMIT) });

  let n = 0;
  /** Each test counts from its own client address (X-Forwarded-For is trusted from loopback). */
  const from = (): Record<string, string> => ({ 'x-forwarded-for': `10.0.${kind.length}.${++n}` });

  const register = async (
    headers: Record<string, string>,
  ): Promise<{ email: string; body: any }> => {
    const email = `u${Math.random().toString(36).slice(2)}@example.com`;
    const r = await t.http.request('POST', '/auth/register', {
      body: { email, password: 'password123' },
      headers,
    });
    expect(r.status).toBe(201);
    return { email, body: r.body };
  };

  it('limits login attempts per email, successful or not', async () => {
    const { email } = await register(from());
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      // A new address each time: only the per-email budget applies.
      const r = await t.http.request('POST', '/auth/login', {
        body: { email: email.toUpperCase(), password: `wrong-${i}` },
        headers: from(),
      });
      statuses.push(r.status);
      if (r.status === 429) {
        expect(r.body).toMatchObject({ code: 'RATE_LIMITED' });
        expect(r.body.retryAfterMs).toBeGreaterThan(0);
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([401, 401, 429, 429, 429]); // register counted once for the email
    // Even the right password is refused now: attempts count whether they succeed or not.
    const right = await t.http.request('POST', '/auth/login', {
      body: { email, password: 'password123' },
      headers: from(),
    });
    expect(right.status).toBe(429);
  });

  it('limits register, login and refresh together per client address', async () => {
    const headers = from();
    const { body } = await register(headers);
    const refresh = await t.http.request('POST', '/auth/refresh', {
      body: { refreshToken: body.refreshToken },
      headers,
    });
    expect(refresh.status).toBe(200);
    const login = await t.http.request('POST', '/auth/login', {
      body: { email: 'nobody@example.com', password: 'whatever1' },
      headers,
    });
    expect(login.status).toBe(401);
    const fourth = await t.http.request('POST', '/auth/refresh', {
      body: { refreshToken: 'garbage' },
      headers,
    });
    expect(fourth.status).toBe(429);
    expect(fourth.body.code).toBe('RATE_LIMITED');
    // Another address is not affected.
    expect(
      (await t.http.request('POST', '/auth/login', { body: {}, headers: from() })).status,
    ).toBe(400);
  });

  it('limits failed socket handshakes per address (a token without exp is one)', async () => {
    const { body } = await register(from());
    const noExp = signHs256({ sub: body.user.id, role: 'user' }, t.config.jwt.secret);
    const errors: string[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      errors.push(
        await connect(t.baseUrl, i === 0 ? noExp : 'not-a-token').then(
          () => 'connected',
          (err: Error) => err.message,
        ),
      );
    }
    expect(errors.slice(0, LIMIT)).toEqual(Array(LIMIT).fill('UNAUTHORIZED'));
    expect(errors.slice(LIMIT)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
  });

  it('counts failed handshakes per client behind a loopback proxy (X-Forwarded-For)', async () => {
    const attacker = from();
    for (let i = 0; i < LIMIT + 1; i++) {
      await expect(connect(t.baseUrl, 'not-a-token', { headers: attacker })).rejects.toThrow();
    }
    await expect(connect(t.baseUrl, 'not-a-token', { headers: attacker })).rejects.toThrow(
      'RATE_LIMITED',
    );
    // Another client behind the same proxy is not locked out by the attacker's failures.
    const { body } = await register(from());
    const ok = await connect(t.baseUrl, body.accessToken, { headers: from() });
    ok.close();
  });

  it('refuses access tokens without exp on REST', async () => {
    const { body } = await register(from());
    const noExp = signHs256({ sub: body.user.id, role: 'user' }, t.config.jwt.secret);
    const r = await t.http.get('/auth/me', noExp);
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('UNAUTHORIZED');
    const withExp = signHs256(
      { sub: body.user.id, role: 'user', exp: Math.floor(Date.now() / 1000) + 60 },
      t.config.jwt.secret,
    );
    expect((await t.http.get('/auth/me', withExp)).status).toBe(200);
  });

  it('two tabs refreshing at the same moment both get the same new pair', async () => {
    const headers = from();
    const { body } = await register(headers);
    const [a, b] = await Promise.all(
      [0, 1].map(() =>
        t.http.request('POST', '/auth/refresh', {
          body: { refreshToken: body.refreshToken },
          headers: from(),
        }),
      ),
    );
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.refreshToken).toBe(b.body.refreshToken);
    expect(a.body.accessToken).toBe(b.body.accessToken);
    // The family lives on: the new token rotates normally.
    const next = await t.http.request('POST', '/auth/refresh', {
      body: { refreshToken: a.body.refreshToken },
      headers: from(),
    });
    expect(next.status).toBe(200);
    // What is stored is sealed, not the new token in plain text.
    const rows = await t.app.get(Database).query<{
      grace_pair: string | null;
    }>(`SELECT grace_pair FROM refresh_tokens WHERE id = $1`, [body.refreshToken.split('.')[0]]);
    expect(rows[0].grace_pair).toBeTruthy();
    expect(rows[0].grace_pair).not.toContain(a.body.refreshToken.split('.')[1]);
  });

  it('a refresh token reused after the grace revokes the family', async () => {
    const { body } = await register(from());
    const first = await t.http.request('POST', '/auth/refresh', {
      body: { refreshToken: body.refreshToken },
      headers: from(),
    });
    expect(first.status).toBe(200);
    await t.app
      .get(Database)
      .query(`UPDATE refresh_tokens SET used_at = now() - interval '11 seconds' WHERE id = $1`, [
        body.refreshToken.split('.')[0],
      ]);
    const late = await t.http.request('POST', '/auth/refresh', {
      body: { refreshToken: body.refreshToken },
      headers: from(),
    });
    expect(late.status).toBe(401);
    const newer = await t.http.request('POST', '/auth/refresh', {
      body: { refreshToken: first.body.refreshToken },
      headers: from(),
    });
    expect(newer.status).toBe(401);
  });
});
