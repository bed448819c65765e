import { Transform } from 'class-transformer';
import {
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { Doc } from './env-doc.js';

/** Environment values are strings; integers are converted before they are validated. */
export const toInt = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : value;
};

const ORIGIN_LIST = /^\s*https?:\/\/[^\s,/]+(\s*,\s*https?:\/\/[^\s,/]+)*\s*$/;

/**
 * The service's own variables: process, HTTP, database, Redis, tokens, logging, shutdown and
 * retention. The limits and the agent's are in EnvSchema (env.schema.ts), which extends this.
 */
export class ServiceEnvSchema {
  @Doc('`production` makes `JWT_SECRET` mandatory; `test` allows the test-only fault points')
  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  @Doc('the port HTTP (and Socket.IO) listens on')
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @Doc('the address HTTP listens on')
  @IsString()
  @MinLength(1)
  HOST = '0.0.0.0';

  @Doc(
    'unset: embedded PostgreSQL (PGlite) in `DATA_DIR/pglite`; set: a PostgreSQL server, `postgres://…`',
  )
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  DATABASE_URL?: string;

  @Doc('connections of the PostgreSQL pool (the embedded database has one)')
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(500)
  DATABASE_POOL_SIZE = 20;

  @Doc(
    'event-log group commits in flight at once (a session always uses the same lane)',
    '`4` on PostgreSQL, `1` embedded',
  )
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  HISTORY_WRITER_LANES?: number;

  @Doc(
    'unset: single node; set: several nodes share sockets (Socket.IO Redis adapter), events, answers, cancels and rate limits',
  )
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// URL' })
  REDIS_URL?: string;

  @Doc(
    '`off`: node-to-node events on plain pub/sub, one channel per session; `auto`: sharded pub/sub where Redis has it (7+; for Redis Cluster), else plain. Every node must use the same setting',
  )
  @IsIn(['auto', 'off'])
  REDIS_SHARDED_PUBSUB = 'off';

  @Doc('embedded database, generated JWT secret, lock file')
  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  @Doc(
    'HMAC key of access tokens; mandatory when `NODE_ENV=production`',
    'generated once into `DATA_DIR/jwt-secret`',
  )
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  JWT_SECRET?: string;

  @Doc('the HMAC algorithm of access tokens; only this one is accepted')
  @IsIn(['HS256', 'HS384', 'HS512'])
  JWT_ALGORITHM = 'HS256';

  @Doc('lifetime of an access token, in seconds')
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  JWT_ACCESS_TTL_S = 900;

  @Doc('lifetime of a refresh token, in seconds')
  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(31536000)
  JWT_REFRESH_TTL_S = 2592000;

  @Doc('comma-separated browser origins allowed')
  @Matches(ORIGIN_LIST, { message: 'must be a comma-separated list of http(s) origins' })
  CORS_ORIGINS = 'http://localhost:3000';

  @Doc('when set (with `ADMIN_PASSWORD`), that admin exists after every start')
  @IsOptional()
  @IsEmail()
  ADMIN_EMAIL?: string;

  @Doc(
    "the password of `ADMIN_EMAIL`'s admin, set at every start; required when `ADMIN_EMAIL` is set",
  )
  @ValidateIf(
    (o: ServiceEnvSchema) => o.ADMIN_EMAIL !== undefined || o.ADMIN_PASSWORD !== undefined,
  )
  @IsString({ message: 'is required when ADMIN_EMAIL is set' })
  @MinLength(8)
  @MaxLength(256)
  ADMIN_PASSWORD?: string;

  @Doc('pino level, `silent` to mute')
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Doc(
    'unset: no telemetry (the OpenTelemetry SDK is not even loaded); set: traces are exported over OTLP to this URL, configured by the standard `OTEL_*` variables (`OTEL_EXPORTER_OTLP_PROTOCOL` `http/protobuf` or `http/json`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER` …)',
  )
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s):// URL' })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  @Doc('largest accepted JSON request body (413 `PAYLOAD_TOO_LARGE` beyond)')
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(10485760)
  MAX_BODY_BYTES = 65536;

  @Doc('on SIGTERM/SIGINT the process is gone within this')
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60000)
  SHUTDOWN_TIMEOUT_MS = 10000;

  @Doc(
    'while the database is unreachable, streamed output waits this long (retried, in order) before its run is stopped',
  )
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600000)
  HISTORY_OUTAGE_WAIT_MS = 15000;

  @Doc(
    'a socket with more unsent outgoing data than this (a client that stopped reading) is disconnected',
  )
  @Transform(toInt)
  @IsInt()
  @Min(16384)
  @Max(1073741824)
  SOCKET_MAX_BUFFER_BYTES = 4194304;

  @Doc('how often the retention job deletes old rows (see operations.md, "Retention")')
  @Transform(toInt)
  @IsInt()
  @Min(100)
  RETENTION_INTERVAL_MS = 3600000;

  @Doc(
    'used, revoked or expired refresh tokens are deleted this long after (once their family cannot be refreshed)',
  )
  @Transform(toInt)
  @IsInt()
  @Min(3600)
  RETENTION_REFRESH_TOKENS_AFTER_S = 604800;

  @Doc('message-send idempotency records are deleted this long after')
  @Transform(toInt)
  @IsInt()
  @Min(3600)
  RETENTION_CLIENT_MESSAGES_AFTER_S = 604800;
}
