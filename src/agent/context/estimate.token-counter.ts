import type { TokenCounter } from './token-counter.js';

/**
 * For models whose tokenizer this service does not ship (Llama, Mistral, … behind an
 * OpenAI-compatible server): about four characters a token, the usual rule of thumb for English
 * with BPE vocabularies; rounded up so a budget errs on the short side.
 */
export class EstimateTokenCounter implements TokenCounter {
  readonly method = 'estimate';

  count(text: string): number {
    return Math.ceil(text.length / 4);
  }
}
