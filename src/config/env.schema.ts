import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  IsEmail,
  ValidateIf,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : value;
};

const ORIGIN_LIST = /^\s*https?:\/\/[^\s,/]+(\s*,\s*https?:\/\/[^\s,/]+)*\s*$/;

/**
 * Every environment variable the service reads, with its default. Validated once at boot;
 * each bad variable is named in the error (see config.loader.ts).
 */
export class EnvSchema {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  @MinLength(1)
  HOST = '0.0.0.0';

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  DATABASE_URL?: string;

  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(500)
  DATABASE_POOL_SIZE = 20;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  HISTORY_WRITER_LANES?: number;

  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// URL' })
  REDIS_URL?: string;

  @IsIn(['auto', 'off'])
  REDIS_SHARDED_PUBSUB = 'off';

  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  JWT_SECRET?: string;

  @IsIn(['HS256', 'HS384', 'HS512'])
  JWT_ALGORITHM = 'HS256';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  JWT_ACCESS_TTL_S = 900;

  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(31536000)
  JWT_REFRESH_TTL_S = 2592000;

  @Matches(ORIGIN_LIST, { message: 'must be a comma-separated list of http(s) origins' })
  CORS_ORIGINS = 'http://localhost:3000';

  @IsOptional()
  @IsEmail()
  ADMIN_EMAIL?: string;

  @ValidateIf((o: EnvSchema) => o.ADMIN_EMAIL !== undefined || o.ADMIN_PASSWORD !== undefined)
  @IsString({ message: 'is required when ADMIN_EMAIL is set' })
  @MinLength(8)
  @MaxLength(256)
  ADMIN_PASSWORD?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  MAX_MESSAGE_LENGTH = 500;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  RATE_LIMIT_MESSAGES_PER_MINUTE = 10;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  AUTH_RATE_LIMIT_PER_MINUTE = 10;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  DAILY_TOKEN_QUOTA = 200000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10000)
  MAX_CONCURRENT_RUNS_PER_USER = 3;

  /** Active (not closed) sessions one user may have. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000000)
  MAX_SESSIONS_PER_USER = 1000;

  /** Session creations per user per minute (socket and REST together). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  RATE_LIMIT_SESSIONS_PER_MINUTE = 30;

  /** Sessions one socket may have joined at once (each holds a fan-out watch on its node). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10000)
  MAX_JOINED_SESSIONS_PER_SOCKET = 50;

  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(1000000)
  CONTEXT_MAX_TOKENS = 4000;

  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(60000)
  REMINDER_POLL_INTERVAL_MS = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  CONFIRMATION_TIMEOUT_MS = 30000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  FORM_TIMEOUT_MS = 300000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  RETRY_TIMEOUT_MS = 300000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  MAX_RETRIES = 2;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  SESSION_IDLE_TIMEOUT_MS = 1800000;

  @Transform(toInt)
  @IsInt()
  @Min(50)
  SESSION_SWEEP_INTERVAL_MS = 300000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(5000)
  GENERATING_COALESCE_MS = 50;

  @IsIn(['builtin', 'openai'])
  LLM_PROVIDER = 'builtin';

  @ValidateIf((o: EnvSchema) => o.LLM_PROVIDER === 'openai' || o.OPENAI_BASE_URL !== undefined)
  @Matches(/^https?:\/\/\S+$/, {
    message: 'must be an http(s) URL (required when LLM_PROVIDER=openai)',
  })
  OPENAI_BASE_URL?: string;

  @IsOptional()
  @IsString()
  OPENAI_API_KEY?: string;

  @ValidateIf((o: EnvSchema) => o.LLM_PROVIDER === 'openai' || o.LLM_MODEL !== undefined)
  @IsString({ message: 'is required when LLM_PROVIDER=openai' })
  @MinLength(1)
  LLM_MODEL?: string;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10000)
  BUILTIN_TOKEN_DELAY_MS = 15;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  AGENT_FAIL_FIRST_ATTEMPTS = 0;

  /** A run whose node has not renewed it for this long is taken over (interrupted, retry offered). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(600000)
  RUN_STALE_AFTER_MS = 20000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(10485760)
  MAX_BODY_BYTES = 65536;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60000)
  SHUTDOWN_TIMEOUT_MS = 10000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600000)
  HISTORY_OUTAGE_WAIT_MS = 15000;

  @Transform(toInt)
  @IsInt()
  @Min(16384)
  @Max(1073741824)
  SOCKET_MAX_BUFFER_BYTES = 4194304;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  RETENTION_INTERVAL_MS = 3600000;

  @Transform(toInt)
  @IsInt()
  @Min(3600)
  RETENTION_REFRESH_TOKENS_AFTER_S = 604800;

  @Transform(toInt)
  @IsInt()
  @Min(3600)
  RETENTION_CLIENT_MESSAGES_AFTER_S = 604800;
}

export type EnvKey = keyof EnvSchema;
