import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { AppConfig } from './app-config.js';
import { EnvSchema } from './env.schema.js';

/** Thrown at boot when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; problems: string[] }[]) {
    super(
      'Invalid configuration:\n' +
        problems.map((p) => `  ${p.variable}: ${p.problems.join('; ')}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

const JWT_SECRET_FILE = 'jwt-secret';

function describe(errors: ValidationError[]): { variable: string; problems: string[] }[] {
  return errors.map((e) => ({
    variable: e.property,
    // class-validator phrases constraints as "<property> must ..."; keep just the "must ..." part.
    problems: Object.values(e.constraints ?? {}).map((m) =>
      m.startsWith(`${e.property} `) ? m.slice(e.property.length + 1) : m,
    ),
  }));
}

/** Reads the JWT secret kept in DATA_DIR, creating it once, so tokens survive restarts. */
function persistentJwtSecret(dataDir: string): string {
  const file = join(dataDir, JWT_SECRET_FILE);
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

/**
 * Validates the environment into an AppConfig. Empty strings count as unset, so a blank line in
 * an .env file means "use the default".
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && value.trim() !== '') raw[key] = value;
  }
  const env = plainToInstance(EnvSchema, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { forbidUnknownValues: false });
  const problems = describe(errors);
  if (env.NODE_ENV === 'production' && env.JWT_SECRET === undefined) {
    problems.push({ variable: 'JWT_SECRET', problems: ['is required when NODE_ENV=production'] });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = resolve(env.DATA_DIR);
  const openai =
    env.LLM_PROVIDER === 'openai'
      ? {
          baseUrl: env.OPENAI_BASE_URL ?? '',
          apiKey: env.OPENAI_API_KEY ?? 'not-needed',
          model: env.LLM_MODEL ?? '',
        }
      : undefined;
  return {
    env: env.NODE_ENV as AppConfig['env'],
    http: {
      port: env.PORT,
      host: env.HOST,
      corsOrigins: env.CORS_ORIGINS.split(',').map((o) => o.trim()),
      maxBodyBytes: env.MAX_BODY_BYTES,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    },
    database: {
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      // The embedded database has one connection: a second lane would only split the batches.
      writerLanes: env.HISTORY_WRITER_LANES ?? (env.DATABASE_URL ? 4 : 1),
    },
    redisUrl: env.REDIS_URL,
    shardedPubSub: env.REDIS_SHARDED_PUBSUB === 'auto',
    dataDir,
    jwt: {
      secret: env.JWT_SECRET ?? persistentJwtSecret(dataDir),
      algorithm: env.JWT_ALGORITHM as AppConfig['jwt']['algorithm'],
      accessTtlS: env.JWT_ACCESS_TTL_S,
      refreshTtlS: env.JWT_REFRESH_TTL_S,
    },
    admin:
      env.ADMIN_EMAIL !== undefined && env.ADMIN_PASSWORD !== undefined
        ? { email: env.ADMIN_EMAIL.toLowerCase(), password: env.ADMIN_PASSWORD }
        : undefined,
    limits: {
      maxMessageLength: env.MAX_MESSAGE_LENGTH,
      messagesPerMinute: env.RATE_LIMIT_MESSAGES_PER_MINUTE,
      authPerMinute: env.AUTH_RATE_LIMIT_PER_MINUTE,
      socketMaxBufferBytes: env.SOCKET_MAX_BUFFER_BYTES,
      dailyTokenQuota: env.DAILY_TOKEN_QUOTA,
      maxConcurrentRunsPerUser: env.MAX_CONCURRENT_RUNS_PER_USER,
      maxSessionsPerUser: env.MAX_SESSIONS_PER_USER,
      sessionsPerMinute: env.RATE_LIMIT_SESSIONS_PER_MINUTE,
      maxJoinedSessionsPerSocket: env.MAX_JOINED_SESSIONS_PER_SOCKET,
      contextMaxTokens: env.CONTEXT_MAX_TOKENS,
      queueMax: env.QUEUE_MAX,
    },
    timeouts: {
      confirmationMs: env.CONFIRMATION_TIMEOUT_MS,
      formMs: env.FORM_TIMEOUT_MS,
      retryMs: env.RETRY_TIMEOUT_MS,
      sessionIdleMs: env.SESSION_IDLE_TIMEOUT_MS,
      sessionSweepIntervalMs: env.SESSION_SWEEP_INTERVAL_MS,
      runStaleAfterMs: env.RUN_STALE_AFTER_MS,
    },
    agent: {
      provider: env.LLM_PROVIDER as AppConfig['agent']['provider'],
      maxRetries: env.MAX_RETRIES,
      generatingCoalesceMs: env.GENERATING_COALESCE_MS,
      builtinTokenDelayMs: env.BUILTIN_TOKEN_DELAY_MS,
      failFirstAttempts: env.AGENT_FAIL_FIRST_ATTEMPTS,
      openai,
    },
    reminders: { pollIntervalMs: env.REMINDER_POLL_INTERVAL_MS },
    webhooks: {
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
      maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
      allowPrivate: env.WEBHOOK_ALLOW_PRIVATE === 'true',
    },
    history: { outageWaitMs: env.HISTORY_OUTAGE_WAIT_MS },
    retention: {
      intervalMs: env.RETENTION_INTERVAL_MS,
      refreshTokensAfterS: env.RETENTION_REFRESH_TOKENS_AFTER_S,
      clientMessagesAfterS: env.RETENTION_CLIENT_MESSAGES_AFTER_S,
    },
    logLevel: env.LOG_LEVEL as AppConfig['logLevel'],
    tracing: env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined,
  };
}
