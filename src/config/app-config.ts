/** The typed configuration every module reads; built once from the environment at boot. */
export interface AppConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly http: {
    readonly port: number;
    readonly host: string;
    readonly corsOrigins: readonly string[];
    readonly maxBodyBytes: number;
    readonly shutdownTimeoutMs: number;
  };
  readonly database: {
    /** Unset: embedded PGlite in `${dataDir}/pglite`. */
    readonly url: string | undefined;
    /** Connections of the `pg` pool (PostgreSQL only). */
    readonly poolSize: number;
    /** Event-log writer lanes: group-commit flushes that may be in flight at once. */
    readonly writerLanes: number;
  };
  readonly redisUrl: string | undefined;
  /** Session channels on sharded pub/sub where Redis has it (REDIS_SHARDED_PUBSUB=auto). */
  readonly shardedPubSub: boolean;
  readonly dataDir: string;
  readonly jwt: {
    readonly secret: string;
    readonly algorithm: 'HS256' | 'HS384' | 'HS512';
    readonly accessTtlS: number;
    readonly refreshTtlS: number;
  };
  readonly admin: { readonly email: string; readonly password: string } | undefined;
  readonly limits: {
    readonly maxMessageLength: number;
    readonly messagesPerMinute: number;
    /** register/login/refresh per client address and per email; failed handshakes per address. */
    readonly authPerMinute: number;
    /** A socket whose unsent outgoing data exceeds this is disconnected (a slow consumer). */
    readonly socketMaxBufferBytes: number;
    readonly dailyTokenQuota: number;
    readonly maxConcurrentRunsPerUser: number;
    /** Active sessions per user; creating one more is QUOTA_EXCEEDED. */
    readonly maxSessionsPerUser: number;
    /** Session creations per user per minute (RATE_LIMITED beyond). */
    readonly sessionsPerMinute: number;
    readonly maxJoinedSessionsPerSocket: number;
    /** Budget of the model input (system prompt, earlier turns, current transcript). */
    readonly contextMaxTokens: number;
    /** Intents waiting in one session's queue (ifBusy "enqueue"). */
    readonly queueMax: number;
  };
  readonly timeouts: {
    readonly confirmationMs: number;
    readonly formMs: number;
    readonly retryMs: number;
    readonly sessionIdleMs: number;
    readonly sessionSweepIntervalMs: number;
    /** Takeover deadline of a run its node stopped renewing (heartbeats and fencing derive from it). */
    readonly runStaleAfterMs: number;
  };
  readonly agent: {
    readonly provider: 'builtin' | 'openai';
    readonly maxRetries: number;
    readonly generatingCoalesceMs: number;
    readonly builtinTokenDelayMs: number;
    readonly failFirstAttempts: number;
    readonly openai:
      { readonly baseUrl: string; readonly apiKey: string; readonly model: string } | undefined;
  };
  readonly reminders: { readonly pollIntervalMs: number };
  readonly webhooks: {
    readonly timeoutMs: number;
    /** The wait before the second attempt; each later one doubles. */
    readonly retryBaseMs: number;
    readonly maxAttempts: number;
    /** Loopback, private and link-local receivers allowed (tests, a receiver beside the service). */
    readonly allowPrivate: boolean;
  };
  readonly history: {
    /** How long streamed text waits for an unreachable database before the run is failed. */
    readonly outageWaitMs: number;
  };
  readonly retention: {
    readonly intervalMs: number;
    /** Used, revoked or expired refresh tokens are deleted this long after that happened. */
    readonly refreshTokensAfterS: number;
    /** Idempotency records of message sends are kept this long. */
    readonly clientMessagesAfterS: number;
  };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * OTEL_EXPORTER_OTLP_ENDPOINT is set: main.ts started the OpenTelemetry SDK (which reads the
   * OTEL_* variables itself), and log lines inside a span carry its `trace_id`.
   */
  readonly tracing: boolean;
}

/** DI token of the AppConfig value. */
export const APP_CONFIG = Symbol('APP_CONFIG');
