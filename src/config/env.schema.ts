import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { Doc } from './env-doc.js';
import { ServiceEnvSchema, toInt } from './service-env.schema.js';

/**
 * Every environment variable the service reads, with its default (the service's own in
 * ServiceEnvSchema, the limits and the agent's here). Validated once at boot; each bad variable
 * is named in the error (see config.loader.ts). Each carries a @Doc: docs/configuration.md is
 * generated from them (`npm run docs:generate`).
 */
export class EnvSchema extends ServiceEnvSchema {
  @Doc('longest chat message, in characters')
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  MAX_MESSAGE_LENGTH = 500;

  @Doc('messages per user a minute, across tabs, socket and REST')
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  RATE_LIMIT_MESSAGES_PER_MINUTE = 10;

  @Doc(
    'register/login/refresh attempts per client address and per email; failed socket handshakes per address',
  )
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  AUTH_RATE_LIMIT_PER_MINUTE = 10;

  @Doc(
    'model tokens per user per day, `0` = none; checked before every model call, usage recorded as it is consumed',
  )
  @Transform(toInt)
  @IsInt()
  @Min(0)
  DAILY_TOKEN_QUOTA = 200000;

  @Doc('runs one user may have going at once across all sessions; `QUOTA_EXCEEDED` beyond it')
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10000)
  MAX_CONCURRENT_RUNS_PER_USER = 3;

  @Doc('active (not closed) sessions one user may have; creating one more is `QUOTA_EXCEEDED`')
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000000)
  MAX_SESSIONS_PER_USER = 1000;

  @Doc(
    "session creations per user a minute, socket and REST together (its own budget, not the messages'); `RATE_LIMITED` beyond it",
  )
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  RATE_LIMIT_SESSIONS_PER_MINUTE = 30;

  @Doc(
    'sessions one connection may have joined at once (each holds a fan-out watch on its node); `QUOTA_EXCEEDED` beyond it',
  )
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10000)
  MAX_JOINED_SESSIONS_PER_SOCKET = 50;

  @Doc('model input budget: system prompt + earlier turns + current intent (built-in agent: words)')
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(1000000)
  CONTEXT_MAX_TOKENS = 4000;

  @Doc('queued intents per session (message:send with ifBusy "enqueue"); beyond: QUEUE_FULL')
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  QUEUE_MAX = 5;

  @Doc('how often each node claims due reminders')
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(60000)
  REMINDER_POLL_INTERVAL_MS = 1000;

  @Doc('how long the agent waits on an answer to a confirmation')
  @Transform(toInt)
  @IsInt()
  @Min(100)
  CONFIRMATION_TIMEOUT_MS = 30000;

  @Doc('how long the agent waits on a form')
  @Transform(toInt)
  @IsInt()
  @Min(100)
  FORM_TIMEOUT_MS = 300000;

  @Doc('how long a retry offer stays open')
  @Transform(toInt)
  @IsInt()
  @Min(100)
  RETRY_TIMEOUT_MS = 300000;

  @Doc('retries offered after failed attempts')
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  MAX_RETRIES = 2;

  @Doc('a session nobody is connected to and nothing runs in for this long is closed')
  @Transform(toInt)
  @IsInt()
  @Min(100)
  SESSION_IDLE_TIMEOUT_MS = 1800000;

  @Doc('how often idle sessions are looked for')
  @Transform(toInt)
  @IsInt()
  @Min(50)
  SESSION_SWEEP_INTERVAL_MS = 300000;

  @Doc('token deltas are merged into one `generating` event at most this often')
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(5000)
  GENERATING_COALESCE_MS = 50;

  @Doc(
    '`builtin` (deterministic, offline) or `openai` (any OpenAI-compatible chat-completions server)',
  )
  @IsIn(['builtin', 'openai'])
  LLM_PROVIDER = 'builtin';

  @Doc(
    "the chat-completions server's base URL (ending in `/v1`); required when `LLM_PROVIDER=openai`",
  )
  @ValidateIf((o: EnvSchema) => o.LLM_PROVIDER === 'openai' || o.OPENAI_BASE_URL !== undefined)
  @Matches(/^https?:\/\/\S+$/, {
    message: 'must be an http(s) URL (required when LLM_PROVIDER=openai)',
  })
  OPENAI_BASE_URL?: string;

  @Doc('the API key sent to that server, if it needs one')
  @IsOptional()
  @IsString()
  OPENAI_API_KEY?: string;

  @Doc('the model name sent to that server; required when `LLM_PROVIDER=openai`')
  @ValidateIf((o: EnvSchema) => o.LLM_PROVIDER === 'openai' || o.LLM_MODEL !== undefined)
  @IsString({ message: 'is required when LLM_PROVIDER=openai' })
  @MinLength(1)
  LLM_MODEL?: string;

  @Doc("the built-in agent's pause between tokens")
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10000)
  BUILTIN_TOKEN_DELAY_MS = 15;

  @Doc('the first n attempts of every intent fail (to try the retry path)')
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  AGENT_FAIL_FIRST_ATTEMPTS = 0;

  @Doc(
    'a run not renewed this long is taken over (interrupted, retry offered; one waiting on a question is parked, its question kept); its node gives it up at 0.6 × this',
  )
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(600000)
  RUN_STALE_AFTER_MS = 20000;

  @Doc('how long a webhook delivery waits for the receiver to answer before the attempt fails')
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600000)
  WEBHOOK_TIMEOUT_MS = 10000;

  @Doc('wait before the second attempt of a webhook delivery; each later wait doubles it')
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(86400000)
  WEBHOOK_RETRY_BASE_MS = 5000;

  @Doc('attempts of a webhook delivery before it is marked failed')
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(50)
  WEBHOOK_MAX_ATTEMPTS = 8;

  @Doc('`true`: webhook URLs may point at loopback, private and link-local addresses')
  @IsIn(['true', 'false'])
  WEBHOOK_ALLOW_PRIVATE = 'false';
}
