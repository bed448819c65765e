import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/domain-error.js';
import { Database } from '../database/database.js';

export interface UsageDelta {
  messages?: number;
  runs?: number;
  promptTokens?: number;
  completionTokens?: number;
}

export interface UsageRow {
  userId: string;
  day: string;
  messages: number;
  runs: number;
  promptTokens: number;
  completionTokens: number;
}

/** The usage ledger: per user per UTC day, messages, runs and tokens; the daily token quota. */
@Injectable()
export class UsageService {
  constructor(
    @Inject(Database) private readonly db: Database,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async record(userId: string, d: UsageDelta): Promise<void> {
    await this.db.query(
      `INSERT INTO usage_ledger (user_id, day, messages, runs, prompt_tokens, completion_tokens)
       VALUES ($1, (now() AT TIME ZONE 'UTC')::date, $2, $3, $4, $5)
       ON CONFLICT (user_id, day) DO UPDATE SET
         messages = usage_ledger.messages + EXCLUDED.messages,
         runs = usage_ledger.runs + EXCLUDED.runs,
         prompt_tokens = usage_ledger.prompt_tokens + EXCLUDED.prompt_tokens,
         completion_tokens = usage_ledger.completion_tokens + EXCLUDED.completion_tokens`,
      [userId, d.messages ?? 0, d.runs ?? 0, d.promptTokens ?? 0, d.completionTokens ?? 0],
    );
  }

  async tokensToday(userId: string): Promise<number> {
    const rows = await this.db.query<{ total: string | null }>(
      `SELECT prompt_tokens + completion_tokens AS total FROM usage_ledger
       WHERE user_id = $1 AND day = (now() AT TIME ZONE 'UTC')::date`,
      [userId],
    );
    return Number(rows[0]?.total ?? 0);
  }

  /** QUOTA_EXCEEDED once today's tokens reached DAILY_TOKEN_QUOTA (0 = no quota). */
  async assertWithinQuota(userId: string): Promise<void> {
    const quota = this.config.limits.dailyTokenQuota;
    if (quota === 0) return;
    const used = await this.tokensToday(userId);
    if (used >= quota) {
      throw new DomainError(
        'QUOTA_EXCEEDED',
        `Daily token quota of ${quota} used up; it resets at 00:00 UTC`,
        {
          used,
          quota,
        },
      );
    }
  }

  async report(q: { userId?: string; from?: string; to?: string }): Promise<UsageRow[]> {
    const rows = await this.db.query<{
      user_id: string;
      day: string | Date;
      messages: number;
      runs: number;
      prompt_tokens: string;
      completion_tokens: string;
    }>(
      `SELECT user_id, to_char(day, 'YYYY-MM-DD') AS day, messages, runs, prompt_tokens, completion_tokens
       FROM usage_ledger
       WHERE ($1::uuid IS NULL OR user_id = $1) AND ($2::date IS NULL OR day >= $2) AND ($3::date IS NULL OR day <= $3)
       ORDER BY day DESC, user_id LIMIT 10000`,
      [q.userId ?? null, q.from ?? null, q.to ?? null],
    );
    return rows.map((r) => ({
      userId: r.user_id,
      day: String(r.day),
      messages: r.messages,
      runs: r.runs,
      promptTokens: Number(r.prompt_tokens),
      completionTokens: Number(r.completion_tokens),
    }));
  }
}
