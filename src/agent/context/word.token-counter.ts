import type { TokenCounter } from './token-counter.js';

/**
 * The built-in agent's measure: whitespace-separated words (docs/architecture.md, "Conversation
 * memory").
 */
export class WordTokenCounter implements TokenCounter {
  readonly method = 'words';

  count(text: string): number {
    return (text.match(/\S+/g) ?? []).length;
  }
}
