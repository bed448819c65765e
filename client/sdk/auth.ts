import type { AuthResponse, UserView } from '@hitl/contracts';
import { ApiError, type HttpTransport } from './http.js';

export interface StoredAuth {
  user: UserView;
  accessToken: string;
  refreshToken: string;
  /** When the access token expires, epoch ms. */
  expiresAt: number;
}

/** Where tokens live between page loads; the web app uses localStorage, tests memory. */
export interface TokenStore {
  load(): StoredAuth | null;
  save(auth: StoredAuth | null): void;
}

export function memoryTokenStore(): TokenStore {
  let value: StoredAuth | null = null;
  return { load: () => value, save: (v) => (value = v) };
}

/**
 * Tokens of one signed-in user. The access token is refreshed shortly before it expires, and all
 * callers that need a token meanwhile share one refresh request: concurrent refreshes would each
 * rotate the refresh token, and the service treats reuse of a rotated token as theft.
 */
export class AuthClient {
  private inFlight: Promise<string> | null = null;
  private readonly listeners = new Set<(auth: StoredAuth | null) => void>();

  constructor(
    private readonly http: HttpTransport,
    private readonly store: TokenStore = memoryTokenStore(),
    private readonly refreshAheadMs = 30_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get current(): StoredAuth | null {
    return this.store.load();
  }

  onChange(listener: (auth: StoredAuth | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async register(email: string, password: string, displayName?: string): Promise<UserView> {
    const body = displayName ? { email, password, displayName } : { email, password };
    return this.accept(await this.http.request<AuthResponse>('POST', '/auth/register', { body }));
  }

  async login(email: string, password: string): Promise<UserView> {
    const body = { email, password };
    return this.accept(await this.http.request<AuthResponse>('POST', '/auth/login', { body }));
  }

  async logout(): Promise<void> {
    const auth = this.store.load();
    if (!auth) return;
    const token = await this.accessToken().catch(() => undefined);
    const refreshToken = this.store.load()?.refreshToken ?? auth.refreshToken;
    this.set(null);
    if (token) {
      await this.http
        .request('POST', '/auth/logout', { body: { refreshToken }, token })
        .catch(() => undefined);
    }
  }

  /** A valid access token, refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    const auth = this.store.load();
    if (!auth) throw new ApiError('UNAUTHORIZED', 'Not signed in', 401);
    if (auth.expiresAt - this.now() > this.refreshAheadMs) return auth.accessToken;
    return this.refresh();
  }

  /** Refreshes now (or joins the refresh already under way) and returns the new access token. */
  refresh(): Promise<string> {
    this.inFlight ??= this.doRefresh().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async doRefresh(): Promise<string> {
    const auth = this.store.load();
    if (!auth) throw new ApiError('UNAUTHORIZED', 'Not signed in', 401);
    try {
      const body = { refreshToken: auth.refreshToken };
      const res = await this.http.request<AuthResponse>('POST', '/auth/refresh', { body });
      this.accept(res);
      return res.accessToken;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'UNAUTHORIZED') {
        // Another tab may have rotated the pair a moment ago: its result is in the shared store.
        const latest = this.store.load();
        if (latest && latest.refreshToken !== auth.refreshToken) return latest.accessToken;
        this.set(null);
      }
      throw err;
    }
  }

  private accept(res: AuthResponse): UserView {
    this.set({
      user: res.user,
      accessToken: res.accessToken,
      refreshToken: res.refreshToken,
      expiresAt: this.now() + res.expiresIn * 1000,
    });
    return res.user;
  }

  private set(auth: StoredAuth | null): void {
    this.store.save(auth);
    for (const l of this.listeners) l(auth);
  }
}
