import { AuthClient, memoryTokenStore } from './auth.js';
import { ApiError, HttpTransport } from './http.js';

function fakeService() {
  let n = 0;
  const refreshes: string[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const pair = () => {
    n++;
    return {
      user: { id: 'u', email: 'a@b.c', displayName: null, role: 'user', createdAt: '' },
      accessToken: `access-${n}`,
      refreshToken: `refresh-${n}`,
      expiresIn: 900,
    };
  };
  const fetchImpl = async (url: string, init?: RequestInit): Promise<Response> => {
    if (url.endsWith('/auth/refresh')) {
      refreshes.push((JSON.parse(init!.body as string) as { refreshToken: string }).refreshToken);
      await gate;
      if (refreshes.length > 1 && refreshes.at(-1) === refreshes.at(-2))
        return new Response(
          JSON.stringify({ statusCode: 401, code: 'UNAUTHORIZED', message: 'reused' }),
          { status: 401 },
        );
    }
    return new Response(JSON.stringify(pair()), { status: 200 });
  };
  return { fetchImpl, refreshes, release };
}

describe('AuthClient', () => {
  it('shares one refresh between all callers that need a token at once', async () => {
    const svc = fakeService();
    let now = 0;
    const auth = new AuthClient(
      new HttpTransport('', svc.fetchImpl),
      memoryTokenStore(),
      30_000,
      () => now,
    );
    svc.release();
    await auth.login('a@b.c', 'password123');
    expect(await auth.accessToken()).toBe('access-1');
    now = 900_000 - 10_000; // inside the refresh-ahead window
    const tokens = await Promise.all([
      auth.accessToken(),
      auth.accessToken(),
      auth.refresh(),
      auth.accessToken(),
    ]);
    expect(svc.refreshes).toEqual(['refresh-1']);
    expect(new Set(tokens)).toEqual(new Set(['access-2']));
    expect(auth.current?.refreshToken).toBe('refresh-2');
  });

  it('refreshes before the token expires, not while it is fresh', async () => {
    const svc = fakeService();
    svc.release();
    let now = 0;
    const auth = new AuthClient(
      new HttpTransport('', svc.fetchImpl),
      memoryTokenStore(),
      30_000,
      () => now,
    );
    await auth.login('a@b.c', 'password123');
    now = 800_000;
    expect(await auth.accessToken()).toBe('access-1');
    expect(svc.refreshes).toEqual([]);
    now = 880_000;
    expect(await auth.accessToken()).toBe('access-2');
    expect(svc.refreshes).toEqual(['refresh-1']);
  });

  it('signs out when the refresh token is refused', async () => {
    const fetchImpl = (url: string): Promise<Response> =>
      Promise.resolve(
        url.endsWith('/auth/refresh')
          ? new Response(JSON.stringify({ statusCode: 401, code: 'UNAUTHORIZED', message: 'no' }), {
              status: 401,
            })
          : new Response(
              JSON.stringify({
                user: { id: 'u' },
                accessToken: 'a',
                refreshToken: 'r',
                expiresIn: 1,
              }),
              { status: 200 },
            ),
      );
    const auth = new AuthClient(new HttpTransport('', fetchImpl));
    await auth.login('a@b.c', 'password123');
    await expect(auth.accessToken()).rejects.toBeInstanceOf(ApiError);
    expect(auth.current).toBeNull();
  });
});
