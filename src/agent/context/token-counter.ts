/** Counts tokens the way the configured model does (or as near as this service can tell). */
export interface TokenCounter {
  /** How it counts, for logs and docs: `words`, `bpe:<encoding>` or `estimate`. */
  readonly method: string;
  count(text: string): number;
}
