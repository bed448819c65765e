import { createHmac } from 'node:crypto';
import { describeEachDatabase } from './support/databases.js';
import { Database } from '../src/database/database.js';
import { useTestApp } from './support/use-test-app.js';

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

function signJwt(payload: object, secret: string, alg = 'HS256'): string {
  const head = b64url({ alg, typ: 'JWT' });
  const body = b64url(payload);
  const algo = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg] ?? 'sha256';
  const sig = createHmac(algo, secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

describeEachDatabase('auth', (kind) => {
  const t = useTestApp(kind, { ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'rootpassword' });

  it('registers, then logs in with the same credentials', async () => {
    const reg = await t.http.post('/auth/register', {
      email: ' Grace@Example.com ',
      password: 'password123',
      displayName: 'Grace',
    });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({
      user: { email: 'grace@example.com', displayName: 'Grace', role: 'user' },
      expiresIn: 900,
    });
    expect(typeof reg.body.accessToken).toBe('string');
    expect(typeof reg.body.refreshToken).toBe('string');
    expect(reg.body.user).not.toHaveProperty('passwordHash');

    const login = await t.http.post('/auth/login', {
      email: 'GRACE@example.com',
      password: 'password123',
    });
    expect(login.status).toBe(200);
    expect(login.body.user.id).toBe(reg.body.user.id);
  });

  it('GET /auth/me returns the caller', async () => {
    const u = await t.http.register();
    const me = await t.http.get('/auth/me', u.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: u.user.id,
      email: u.user.email,
      displayName: null,
      role: 'user',
      createdAt: expect.any(String),
    });
  });

  it('returns CONFLICT for a duplicate email, whatever its case', async () => {
    const u = await t.http.register();
    const again = await t.http.post('/auth/register', {
      email: u.user.email.toUpperCase(),
      password: 'password123',
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('CONFLICT');
  });

  it('rejects a weak password and a bad email, naming each field', async () => {
    const r = await t.http.post('/auth/register', { email: 'not-an-email', password: 'short' });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('VALIDATION_FAILED');
    const fields = (r.body.details as { field: string }[]).map((d) => d.field).sort();
    expect(fields).toEqual(['email', 'password']);
  });

  it('rejects unknown fields by name', async () => {
    const r = await t.http.post('/auth/register', {
      email: 'x@example.com',
      password: 'password123',
      isAdmin: true,
    });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('VALIDATION_FAILED');
    expect(r.body.details).toEqual([
      { field: 'isAdmin', problems: ['isAdmin is not an allowed field'] },
    ]);
  });

  it('rejects bodies that are not JSON objects, and oversized bodies', async () => {
    const arr = await t.http.request('POST', '/auth/login', { raw: '[1,2]' });
    expect(arr.status).toBe(400);
    expect(arr.body.code).toBe('VALIDATION_FAILED');
    const broken = await t.http.request('POST', '/auth/login', { raw: '{"email":' });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('VALIDATION_FAILED');
    const big = await t.http.post('/auth/login', { email: 'a@b.co', password: 'x'.repeat(70_000) });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('gives the same UNAUTHORIZED for a wrong password and an unknown email', async () => {
    const u = await t.http.register();
    const wrong = await t.http.post('/auth/login', {
      email: u.user.email,
      password: 'wrong-password',
    });
    const unknown = await t.http.post('/auth/login', {
      email: 'nobody@example.com',
      password: 'wrong-password',
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.code).toBe('UNAUTHORIZED');
  });

  it('rotates refresh tokens; reusing one after the grace revokes the whole family', async () => {
    const u = await t.http.register();
    const r1 = await t.http.post('/auth/refresh', { refreshToken: u.refreshToken });
    expect(r1.status).toBe(200);
    expect(r1.body.refreshToken).not.toBe(u.refreshToken);
    expect((await t.http.get('/auth/me', r1.body.accessToken)).status).toBe(200);
    // Past the 10 s grace, without waiting for it.
    await t.app
      .get(Database)
      .query(`UPDATE refresh_tokens SET used_at = now() - interval '11 seconds' WHERE id = $1`, [
        u.refreshToken.split('.')[0],
      ]);

    const reuse = await t.http.post('/auth/refresh', { refreshToken: u.refreshToken });
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe('UNAUTHORIZED');
    // The newer token of the same family is dead too.
    const after = await t.http.post('/auth/refresh', { refreshToken: r1.body.refreshToken });
    expect(after.status).toBe(401);
  });

  it('rejects refresh tokens it never issued', async () => {
    for (const refreshToken of ['nonsense', `${crypto.randomUUID()}.abc`, '']) {
      const r = await t.http.post('/auth/refresh', { refreshToken });
      expect([400, 401]).toContain(r.status);
    }
  });

  it('logout revokes the refresh family', async () => {
    const u = await t.http.register();
    const out = await t.http.post('/auth/logout', { refreshToken: u.refreshToken }, u.accessToken);
    expect(out.status).toBe(204);
    const r = await t.http.post('/auth/refresh', { refreshToken: u.refreshToken });
    expect(r.status).toBe(401);
  });

  it('requires a token on protected routes', async () => {
    const r = await t.http.get('/auth/me');
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('UNAUTHORIZED');
  });

  describe('rejects bad access tokens', () => {
    let userId: string;
    beforeAll(async () => {
      userId = (await t.http.register()).user.id;
    });
    const now = (): number => Math.floor(Date.now() / 1000);

    it.each([
      ['malformed', () => 'not.a.jwt'],
      [
        'forged (wrong secret)',
        () => signJwt({ sub: userId, role: 'admin', exp: now() + 60 }, 'x'.repeat(40)),
      ],
      [
        'expired',
        () =>
          signJwt(
            { sub: userId, role: 'user', exp: now() - 10, iat: now() - 100 },
            t.config.jwt.secret,
          ),
      ],
      [
        'alg none',
        () =>
          `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: userId, role: 'admin', exp: now() + 60 })}.`,
      ],
      [
        'another HS algorithm',
        () => signJwt({ sub: userId, role: 'user', exp: now() + 60 }, t.config.jwt.secret, 'HS512'),
      ],
      [
        'unknown subject',
        () =>
          signJwt({ sub: crypto.randomUUID(), role: 'user', exp: now() + 60 }, t.config.jwt.secret),
      ],
      [
        'tampered payload',
        () => {
          const good = signJwt({ sub: userId, role: 'user', exp: now() + 60 }, t.config.jwt.secret);
          const [h, , s] = good.split('.');
          return `${h}.${b64url({ sub: userId, role: 'admin', exp: now() + 60 })}.${s}`;
        },
      ],
    ])('%s', async (_name, token) => {
      const r = await t.http.get('/auth/me', token());
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('UNAUTHORIZED');
    });

    it('accepts a correctly signed token (control)', async () => {
      const token = signJwt({ sub: userId, role: 'user', exp: now() + 60 }, t.config.jwt.secret);
      expect((await t.http.get('/auth/me', token)).status).toBe(200);
    });
  });

  describe('admin', () => {
    let admin: { accessToken: string; user: { id: string } };
    beforeAll(async () => {
      const r = await t.http.post('/auth/login', {
        email: 'root@example.com',
        password: 'rootpassword',
      });
      expect(r.status).toBe(200);
      expect(r.body.user.role).toBe('admin');
      admin = r.body;
    });

    it('answers 403 FORBIDDEN to a user and 200 to an admin on an admin route', async () => {
      const u = await t.http.register();
      const asUser = await t.http.get('/admin/users', u.accessToken);
      expect(asUser.status).toBe(403);
      expect(asUser.body.code).toBe('FORBIDDEN');
      const asAdmin = await t.http.get('/admin/users?limit=2', admin.accessToken);
      expect(asAdmin.status).toBe(200);
      expect(asAdmin.body.items).toHaveLength(2);
      expect(typeof asAdmin.body.nextCursor).toBe('string');
      const next = await t.http.get(
        `/admin/users?limit=2&cursor=${asAdmin.body.nextCursor}`,
        admin.accessToken,
      );
      expect(next.status).toBe(200);
      expect(next.body.items[0].id).not.toBe(asAdmin.body.items[0].id);
      expect((await t.http.get('/admin/users')).status).toBe(401);
    });

    it('a disabled user is locked out at once: access and refresh tokens, and login', async () => {
      const u = await t.http.register();
      expect((await t.http.get('/auth/me', u.accessToken)).status).toBe(200);
      const patch = await t.http.patch(
        `/admin/users/${u.user.id}`,
        { disabled: true },
        admin.accessToken,
      );
      expect(patch.status).toBe(200);
      expect(patch.body.disabled).toBe(true);

      const me = await t.http.get('/auth/me', u.accessToken);
      expect(me.status).toBe(401);
      expect(me.body.code).toBe('UNAUTHORIZED');
      expect((await t.http.post('/auth/refresh', { refreshToken: u.refreshToken })).status).toBe(
        401,
      );
      expect(
        (await t.http.post('/auth/login', { email: u.user.email, password: 'password123' })).status,
      ).toBe(401);

      await t.http.patch(`/admin/users/${u.user.id}`, { disabled: false }, admin.accessToken);
      expect((await t.http.get('/auth/me', u.accessToken)).status).toBe(200);
    });

    it('a promoted user gets admin routes on the next request', async () => {
      const u = await t.http.register();
      expect(
        (await t.http.patch(`/admin/users/${u.user.id}`, { role: 'admin' }, admin.accessToken))
          .status,
      ).toBe(200);
      expect((await t.http.get('/admin/users', u.accessToken)).status).toBe(200);
    });

    it('validates admin input and hides nothing but answers NOT_FOUND for unknown users', async () => {
      const bad = await t.http.patch(
        `/admin/users/${admin.user.id}`,
        { role: 'root' },
        admin.accessToken,
      );
      expect(bad.status).toBe(400);
      expect(bad.body.details[0].field).toBe('role');
      const missing = await t.http.patch(
        `/admin/users/${crypto.randomUUID()}`,
        { disabled: true },
        admin.accessToken,
      );
      expect(missing.status).toBe(404);
      expect(missing.body.code).toBe('NOT_FOUND');
      const self = await t.http.patch(
        `/admin/users/${admin.user.id}`,
        { disabled: true },
        admin.accessToken,
      );
      expect(self.status).toBe(409);
      const cursor = await t.http.get('/admin/users?cursor=garbage', admin.accessToken);
      expect(cursor.status).toBe(400);
    });
  });
});
