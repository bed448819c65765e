import type { TokenCounter } from './token-counter.js';

/** OpenAI's own byte-pair encoding of a known model, from gpt-tokenizer (encodings ship inside it). */
export class BpeTokenCounter implements TokenCounter {
  readonly method: string;

  constructor(
    encoding: string,
    private readonly countTokens: (text: string) => number,
  ) {
    this.method = `bpe:${encoding}`;
  }

  count(text: string): number {
    return text === '' ? 0 : this.countTokens(text);
  }
}
