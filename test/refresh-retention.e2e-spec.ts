import { Database } from '../src/database/database.js';
import { RetentionService } from '../src/retention/retention.service.js';
import { describeEachDatabase } from './support/databases.js';
import { useTestApp } from './support/use-test-app.js';

const idOf = (token: string): string => token.split('.')[0];

/** Retention keeps a used refresh token while its family can still be used, so reuse is caught. */
describeEachDatabase('refresh token retention', (kind) => {
  // The defaults: used tokens are old enough to delete after 7 days, tokens live 30.
  const t = useTestApp(kind);

  let db: Database;

  beforeAll(() => {
    db = t.app.get(Database);
  });

  const rotate = async (): Promise<{ used: string; live: string; access: string }> => {
    const u = await t.http.register('rotate');
    const r = await t.http.post('/auth/refresh', { refreshToken: u.refreshToken });
    expect(r.status).toBe(200);
    return { used: u.refreshToken, live: r.body.refreshToken, access: r.body.accessToken };
  };
  const exists = async (token: string): Promise<boolean> =>
    (await db.query(`SELECT 1 FROM refresh_tokens WHERE id = $1`, [idOf(token)])).length === 1;

  it('a token used 8 days ago whose family is still valid survives, and its reuse revokes the family', async () => {
    const { used, live } = await rotate();
    // Issued 9 days ago, used (rotated) 8 days ago; its successor is valid for 22 more days.
    await db.query(
      `UPDATE refresh_tokens SET used_at = now() - interval '8 days',
         expires_at = now() + interval '21 days' WHERE id = $1`,
      [idOf(used)],
    );
    await db.query(
      `UPDATE refresh_tokens SET expires_at = now() + interval '22 days' WHERE id = $1`,
      [idOf(live)],
    );
    await t.app.get(RetentionService).runOnce();
    expect(await exists(used)).toBe(true);
    const reuse = await t.http.post('/auth/refresh', { refreshToken: used });
    expect(reuse.status).toBe(401);
    expect(reuse.body.message).toMatch(/already used/);
    // The family is revoked: the successor the thief would race for no longer works.
    expect((await t.http.post('/auth/refresh', { refreshToken: live })).status).toBe(401);
  });

  it('a used token whose family cannot be valid any more is deleted', async () => {
    // Its successor expired (never used): nothing of the family can be refreshed.
    const expired = await rotate();
    await db.query(`UPDATE refresh_tokens SET used_at = now() - interval '38 days' WHERE id = $1`, [
      idOf(expired.used),
    ]);
    await db.query(
      `UPDATE refresh_tokens SET expires_at = now() - interval '8 days' WHERE id = $1`,
      [idOf(expired.live)],
    );
    // Signed out: the family is revoked.
    const revoked = await rotate();
    const out = await t.http.request('POST', '/auth/logout', {
      body: { refreshToken: revoked.live },
      token: revoked.access,
    });
    expect(out.status).toBeLessThan(300);
    await db.query(
      `UPDATE refresh_tokens SET used_at = used_at - interval '8 days',
         revoked_at = revoked_at - interval '8 days' WHERE id = ANY($1::uuid[])`,
      [[idOf(revoked.used), idOf(revoked.live)]],
    );
    const deleted = await t.app.get(RetentionService).runOnce();
    expect(deleted.refresh_tokens).toBeGreaterThanOrEqual(4);
    for (const token of [expired.used, expired.live, revoked.used, revoked.live])
      expect(await exists(token)).toBe(false);
  });

  it('a used token long past its own expiry is deleted even while its family lives', async () => {
    // Rotated every few weeks for months: the family stays valid, its old used tokens expired.
    const { used, live } = await rotate();
    await db.query(
      `UPDATE refresh_tokens SET used_at = now() - interval '40 days',
         expires_at = now() - interval '8 days' WHERE id = $1`,
      [idOf(used)],
    );
    // Within the retention age past its expiry: kept.
    const recent = await rotate();
    await db.query(
      `UPDATE refresh_tokens SET used_at = now() - interval '31 days',
         expires_at = now() - interval '6 days' WHERE id = $1`,
      [idOf(recent.used)],
    );
    await t.app.get(RetentionService).runOnce();
    expect(await exists(used)).toBe(false);
    expect(await exists(recent.used)).toBe(true);
    expect(await exists(live)).toBe(true);
    expect((await t.http.post('/auth/refresh', { refreshToken: live })).status).toBe(200);
  });

  it('an expired used token is refused as expired and revokes nothing, deleted or not', async () => {
    const { used, live } = await rotate();
    await db.query(
      `UPDATE refresh_tokens SET used_at = now() - interval '31 days',
         expires_at = now() - interval '1 day' WHERE id = $1`,
      [idOf(used)],
    );
    const presented = await t.http.post('/auth/refresh', { refreshToken: used });
    expect(presented.status).toBe(401);
    expect(presented.body.message).not.toMatch(/already used/);
    // The family is not revoked: retention deleting the row later changes nothing.
    expect((await t.http.post('/auth/refresh', { refreshToken: live })).status).toBe(200);
  });
});
