import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.loader.js';

describe('loadConfig', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cfg-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const problemsOf = (env: Record<string, string>): Record<string, string[]> => {
    try {
      loadConfig({ DATA_DIR: dataDir, ...env });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return Object.fromEntries((err as ConfigError).problems.map((p) => [p.variable, p.problems]));
    }
    throw new Error('expected a ConfigError');
  };

  it('keeps one event-log writer lane on the embedded database and four on PostgreSQL', () => {
    expect(loadConfig({ DATA_DIR: dataDir }).database).toEqual({
      url: undefined,
      poolSize: 20,
      writerLanes: 1,
    });
    const pg = loadConfig({ DATA_DIR: dataDir, DATABASE_URL: 'postgres://u@h/db' });
    expect(pg.database).toMatchObject({ poolSize: 20, writerLanes: 4 });
    const tuned = loadConfig({
      DATA_DIR: dataDir,
      DATABASE_URL: 'postgres://u@h/db',
      DATABASE_POOL_SIZE: '40',
      HISTORY_WRITER_LANES: '8',
    });
    expect(tuned.database).toMatchObject({ poolSize: 40, writerLanes: 8 });
    expect(problemsOf({ HISTORY_WRITER_LANES: '0', DATABASE_POOL_SIZE: 'many' })).toMatchObject({
      HISTORY_WRITER_LANES: expect.any(Array),
      DATABASE_POOL_SIZE: expect.any(Array),
    });
  });

  it('applies the documented defaults (docs/configuration.md)', () => {
    const c = loadConfig({ DATA_DIR: dataDir });
    expect(c.http.port).toBe(3000);
    expect(c.http.host).toBe('0.0.0.0');
    expect(c.database.url).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.jwt).toMatchObject({ algorithm: 'HS256', accessTtlS: 900, refreshTtlS: 2592000 });
    expect(c.http.corsOrigins).toEqual(['http://localhost:3000']);
    expect(c.limits).toEqual({
      maxMessageLength: 500,
      messagesPerMinute: 10,
      authPerMinute: 10,
      socketMaxBufferBytes: 4194304,
      dailyTokenQuota: 200000,
      maxConcurrentRunsPerUser: 3,
      maxSessionsPerUser: 1000,
      sessionsPerMinute: 30,
      queueMax: 5,
      maxJoinedSessionsPerSocket: 50,
      contextMaxTokens: 4000,
    });
    expect(c.reminders).toEqual({ pollIntervalMs: 1000 });
    expect(c.webhooks).toEqual({
      timeoutMs: 10000,
      retryBaseMs: 5000,
      maxAttempts: 8,
      allowPrivate: false,
    });
    expect(c.timeouts).toEqual({
      confirmationMs: 30000,
      formMs: 300000,
      retryMs: 300000,
      sessionIdleMs: 1800000,
      sessionSweepIntervalMs: 300000,
      runStaleAfterMs: 20000,
    });
    expect(c.agent).toMatchObject({
      provider: 'builtin',
      maxRetries: 2,
      builtinTokenDelayMs: 15,
      failFirstAttempts: 0,
    });
    expect(c.admin).toBeUndefined();
  });

  it('names every bad variable at once', () => {
    const p = problemsOf({
      PORT: 'abc',
      LLM_PROVIDER: 'gpt',
      MAX_RETRIES: '-1',
      DATABASE_URL: 'mysql://x',
      CORS_ORIGINS: 'not a url',
      JWT_ALGORITHM: 'none',
    });
    expect(Object.keys(p).sort()).toEqual(
      [
        'CORS_ORIGINS',
        'DATABASE_URL',
        'JWT_ALGORITHM',
        'LLM_PROVIDER',
        'MAX_RETRIES',
        'PORT',
      ].sort(),
    );
    expect(p.PORT.join()).toMatch(/integer/);
  });

  it('puts each bad variable in the error message', () => {
    expect(() =>
      loadConfig({ DATA_DIR: dataDir, PORT: '99999', SESSION_IDLE_TIMEOUT_MS: 'soon' }),
    ).toThrow(/PORT[\s\S]*SESSION_IDLE_TIMEOUT_MS|SESSION_IDLE_TIMEOUT_MS[\s\S]*PORT/);
  });

  it('accepts AUTH_RATE_LIMIT_PER_MINUTE from 1 to 100000 only', () => {
    for (const bad of ['0', '100001', 'ten']) {
      expect(() => loadConfig({ DATA_DIR: dataDir, AUTH_RATE_LIMIT_PER_MINUTE: bad })).toThrow(
        /AUTH_RATE_LIMIT_PER_MINUTE/,
      );
    }
    for (const ok of ['1', '100000']) {
      expect(
        loadConfig({ DATA_DIR: dataDir, AUTH_RATE_LIMIT_PER_MINUTE: ok }).limits.authPerMinute,
      ).toBe(Number(ok));
    }
  });

  it('names bad per-user and per-socket session limits', () => {
    const names = [
      'MAX_SESSIONS_PER_USER',
      'RATE_LIMIT_SESSIONS_PER_MINUTE',
      'MAX_JOINED_SESSIONS_PER_SOCKET',
    ];
    for (const bad of ['0', '-1', 'many', '2.5']) {
      const p = problemsOf(Object.fromEntries(names.map((n) => [n, bad])));
      expect(Object.keys(p).sort()).toEqual([...names].sort());
    }
  });

  it('keeps refresh tokens and send idempotency records at least an hour', () => {
    // Less would delete a token inside its refresh grace, or a send a client may still retry.
    for (const name of ['RETENTION_REFRESH_TOKENS_AFTER_S', 'RETENTION_CLIENT_MESSAGES_AFTER_S']) {
      for (const bad of ['0', '59', '3599'])
        expect(() => loadConfig({ DATA_DIR: dataDir, [name]: bad })).toThrow(new RegExp(name));
      expect(() => loadConfig({ DATA_DIR: dataDir, [name]: '3600' })).not.toThrow();
    }
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATA_DIR: dataDir, PORT: '', REDIS_URL: ' ' }).http.port).toBe(3000);
  });

  it('requires JWT_SECRET in production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toHaveProperty('JWT_SECRET');
    expect(problemsOf({ JWT_SECRET: 'short' })).toHaveProperty('JWT_SECRET');
    const c = loadConfig({ DATA_DIR: dataDir, NODE_ENV: 'production', JWT_SECRET: 's'.repeat(40) });
    expect(c.jwt.secret).toBe('s'.repeat(40));
  });

  it('generates a JWT secret once and keeps it in DATA_DIR', () => {
    const a = loadConfig({ DATA_DIR: dataDir });
    const b = loadConfig({ DATA_DIR: dataDir });
    expect(a.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(b.jwt.secret).toBe(a.jwt.secret);
    const file = join(dataDir, 'jwt-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(a.jwt.secret);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('needs ADMIN_PASSWORD with ADMIN_EMAIL, and a real email', () => {
    expect(problemsOf({ ADMIN_EMAIL: 'a@b.co' })).toHaveProperty('ADMIN_PASSWORD');
    expect(problemsOf({ ADMIN_EMAIL: 'nope', ADMIN_PASSWORD: 'password1' })).toHaveProperty(
      'ADMIN_EMAIL',
    );
    expect(
      loadConfig({ DATA_DIR: dataDir, ADMIN_EMAIL: 'A@b.co', ADMIN_PASSWORD: 'password1' }).admin,
    ).toEqual({
      email: 'a@b.co',
      password: 'password1',
    });
  });

  it('needs OPENAI_BASE_URL and LLM_MODEL for the openai provider', () => {
    const p = problemsOf({ LLM_PROVIDER: 'openai' });
    expect(Object.keys(p).sort()).toEqual(['LLM_MODEL', 'OPENAI_BASE_URL']);
    const c = loadConfig({
      DATA_DIR: dataDir,
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1',
      LLM_MODEL: 'local',
    });
    expect(c.agent.openai).toEqual({
      baseUrl: 'http://127.0.0.1:8080/v1',
      apiKey: 'not-needed',
      model: 'local',
    });
  });

  it('splits CORS_ORIGINS', () => {
    const c = loadConfig({ DATA_DIR: dataDir, CORS_ORIGINS: 'http://a.test:3000, https://b.test' });
    expect(c.http.corsOrigins).toEqual(['http://a.test:3000', 'https://b.test']);
  });

  it('reads the webhook settings and names each bad one', () => {
    expect(
      loadConfig({ DATA_DIR: dataDir, WEBHOOK_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivate,
    ).toBe(true);
    expect(
      Object.keys(
        problemsOf({
          WEBHOOK_TIMEOUT_MS: '0',
          WEBHOOK_RETRY_BASE_MS: 'soon',
          WEBHOOK_MAX_ATTEMPTS: '0',
          WEBHOOK_ALLOW_PRIVATE: 'yes',
        }),
      ).sort(),
    ).toEqual([
      'WEBHOOK_ALLOW_PRIVATE',
      'WEBHOOK_MAX_ATTEMPTS',
      'WEBHOOK_RETRY_BASE_MS',
      'WEBHOOK_TIMEOUT_MS',
    ]);
  });
});
