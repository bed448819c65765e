import type { AppConfig } from '../../config/app-config.js';
import { BpeTokenCounter } from './bpe.token-counter.js';
import { EstimateTokenCounter } from './estimate.token-counter.js';
import type { TokenCounter } from './token-counter.js';
import { WordTokenCounter } from './word.token-counter.js';

export const TOKEN_COUNTER = Symbol('TOKEN_COUNTER');

/**
 * The counter that fits the provider: words for the built-in agent; for an OpenAI-compatible
 * model that gpt-tokenizer knows by name (gpt-4o, gpt-4.1, o3, gpt-3.5-turbo, …) its real
 * encoding, loaded from the package on first use; for any other model name an estimate.
 */
export async function loadTokenCounter(config: AppConfig): Promise<TokenCounter> {
  const openai = config.agent.openai;
  if (config.agent.provider !== 'openai' || !openai) return new WordTokenCounter();
  const [models, mapping] = await Promise.all([
    import('gpt-tokenizer/models'),
    import('gpt-tokenizer/mapping'),
  ]);
  if (!Object.hasOwn(models, openai.model)) return new EstimateTokenCounter();
  const byModel = mapping.modelToEncodingMap as Record<string, string | undefined>;
  const encoding = byModel[openai.model] ?? mapping.DEFAULT_ENCODING;
  const encoder = (await import(`gpt-tokenizer/encoding/${encoding}`)) as {
    countTokens: (text: string) => number;
  };
  return new BpeTokenCounter(encoding, (text) => encoder.countTokens(text));
}
