import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import type { TranscriptMessage } from '../../runs/transcript.js';
import type { Tool } from '../tools/tool.js';
import { ConversationLogReader } from './conversation-log.reader.js';
import { ConversationTree, type Turn } from './conversation-tree.js';
import { systemPrompt } from './system-prompt.js';
import type { TokenCounter } from './token-counter.js';
import { TOKEN_COUNTER } from './token-counter.factory.js';

export interface ConversationContext {
  system: string;
  /** Earlier turns that fit the budget, oldest first, as user/assistant messages. */
  earlier: TranscriptMessage[];
  /** Earlier turns left out because the budget was spent (oldest first, whole turns). */
  droppedTurns: number;
}

const CACHED_SESSIONS = 1000;
/** All cached sessions together hold at most this many characters of text. */
const CACHED_CHARS = 50_000_000;
/** Intents kept per session (the newest, by the seq of their message). */
const REMEMBERED_INTENTS = 500;
/**
 * The most entries one incremental read takes. More than that logged since the last build (by
 * other nodes, while this one had the session cached) and the session is read afresh instead.
 */
const MAX_CATCH_UP = 5000;

/**
 * Builds each model call's context: a system prompt, then the earlier turns of the run's branch
 * (user message + answer of each intent from the run's intent's parent back to the first),
 * newest kept first within CONTEXT_MAX_TOKENS after the system prompt and the current
 * transcript, oldest dropped whole.
 *
 * The turns come from the session log; a bounded LRU cache per session keeps the tree of its
 * newest intents read so far, so a call reads only what was logged since the last. Every node
 * reads the same log, so the cache never holds anything the database does not.
 */
@Injectable()
export class ConversationContextBuilder {
  private readonly cache = new LRUCache<string, ConversationTree>({
    max: CACHED_SESSIONS,
    maxSize: CACHED_CHARS,
    sizeCalculation: (tree) => Math.max(1, tree.chars),
  });
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
    const tree = await this.treeOf(input.sessionId);
    let budget =
      this.maxTokens -
      this.counter.count(system) -
      input.transcript.reduce((n, m) => n + this.counter.count(m.content), 0);
    const chosen: Turn[] = [];
    let droppedTurns = 0;
    // Newest first; the first turn that does not fit is dropped with every older one.
    for (const turn of tree.branch(input.intentId)) {
      if (droppedTurns === 0 && turn.tokens <= budget) {
        budget -= turn.tokens;
        chosen.push(turn);
      } else {
        droppedTurns++;
      }
    }
    return {
      system,
      earlier: chosen
        .reverse()
        .flatMap((t): TranscriptMessage[] => [
          { role: 'user', content: t.user },
          ...(t.answer !== undefined ? [{ role: 'assistant' as const, content: t.answer }] : []),
        ]),
      droppedTurns,
    };
  }

  private async treeOf(sessionId: string): Promise<ConversationTree> {
    let tree = this.cache.get(sessionId);
    const fresh = tree && (await this.log.after(sessionId, tree.lastSeq, MAX_CATCH_UP));
    if (tree && fresh && fresh.length < MAX_CATCH_UP) {
      tree.apply(fresh);
    } else {
      tree = new ConversationTree({
        maxIntents: REMEMBERED_INTENTS,
        count: (text) => this.counter.count(text),
      });
      tree.apply(await this.log.newest(sessionId, REMEMBERED_INTENTS));
    }
    // Set again after every read: the tree's size changed.
    this.cache.set(sessionId, tree);
    return tree;
  }
}
