import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import type { TranscriptMessage } from '../../runs/transcript.js';
import type { Tool } from '../tools/tool.js';
import { type ConversationEntry, ConversationLogReader } from './conversation-log.reader.js';
import { systemPrompt } from './system-prompt.js';
import type { TokenCounter } from './token-counter.js';
import { TOKEN_COUNTER } from './token-counter.factory.js';

/** One earlier intent as the model sees it: what the user said and the final answer, if any. */
interface Turn {
  intentId: string;
  user: string;
  response: string | undefined;
  tokens: number;
}

interface SessionTurns {
  lastSeq: number;
  turns: Turn[];
}

export interface ConversationContext {
  system: string;
  /** Earlier turns that fit the budget, oldest first, as user/assistant messages. */
  earlier: TranscriptMessage[];
  /** Earlier turns left out because the budget was spent (oldest first, whole turns). */
  droppedTurns: number;
}

const CACHED_SESSIONS = 1000;

/**
 * Builds each model call's context: a system prompt, then the session's earlier turns (user
 * message + final response of each earlier intent), newest kept first within CONTEXT_MAX_TOKENS
 * after the system prompt and the current transcript, oldest dropped whole.
 *
 * The turns come from the session log; a bounded LRU cache per session keeps those already read
 * (at most CONTEXT_MAX_TOKENS worth each), so a call reads only what was logged since the last.
 * Every node reads the same log, so the cache never holds anything the database does not.
 */
@Injectable()
export class ConversationContextBuilder {
  private readonly cache = new LRUCache<string, SessionTurns>({ max: CACHED_SESSIONS });
  private readonly maxTokens: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(ConversationLogReader) private readonly log: ConversationLogReader,
    @Inject(TOKEN_COUNTER) private readonly counter: TokenCounter,
  ) {
    this.maxTokens = config.limits.contextMaxTokens;
  }

  async build(input: {
    sessionId: string;
    intentId: string;
    transcript: readonly TranscriptMessage[];
    tools: readonly Tool[];
    now?: Date;
  }): Promise<ConversationContext> {
    const system = systemPrompt(input.tools, input.now ?? new Date());
    const turns = (await this.turnsOf(input.sessionId)).filter(
      (t) => t.intentId !== input.intentId,
    );
    let budget =
      this.maxTokens -
      this.counter.count(system) -
      input.transcript.reduce((n, m) => n + this.counter.count(m.content), 0);
    let kept = 0;
    for (let i = turns.length - 1; i >= 0 && turns[i].tokens <= budget; i--) {
      budget -= turns[i].tokens;
      kept++;
    }
    const chosen = turns.slice(turns.length - kept);
    return {
      system,
      earlier: chosen.flatMap((t): TranscriptMessage[] => [
        { role: 'user', content: t.user },
        ...(t.response !== undefined ? [{ role: 'assistant' as const, content: t.response }] : []),
      ]),
      droppedTurns: turns.length - kept,
    };
  }

  private async turnsOf(sessionId: string): Promise<Turn[]> {
    let entry = this.cache.get(sessionId);
    const fresh = entry
      ? await this.log.after(sessionId, entry.lastSeq)
      : await this.log.newest(sessionId);
    entry ??= { lastSeq: 0, turns: [] };
    for (const e of fresh) this.apply(entry, e);
    entry.turns = this.trim(entry.turns);
    this.cache.set(sessionId, entry);
    return entry.turns;
  }

  private apply(s: SessionTurns, e: ConversationEntry): void {
    s.lastSeq = Math.max(s.lastSeq, e.seq);
    const existing = s.turns.find((t) => t.intentId === e.intentId);
    if (e.kind === 'user') {
      if (!existing) s.turns.push(this.turn(e.intentId, e.text, undefined));
      return;
    }
    // A response of an intent whose message was trimmed away is no use on its own.
    if (existing) Object.assign(existing, this.turn(e.intentId, existing.user, e.text));
  }

  private turn(intentId: string, user: string, response: string | undefined): Turn {
    const tokens = this.counter.count(user) + (response ? this.counter.count(response) : 0);
    return { intentId, user, response, tokens };
  }

  /** Keeps the newest turns that could ever fit the budget; older ones can never be sent. */
  private trim(turns: Turn[]): Turn[] {
    let total = 0;
    let i = turns.length;
    while (i > 0 && total + turns[i - 1].tokens <= this.maxTokens) total += turns[--i].tokens;
    // The newest turn stays even when it alone is over budget: it may be the current intent.
    return turns.slice(Math.min(i, turns.length - 1));
  }
}
