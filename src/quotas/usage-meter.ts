import type { UsageService } from './usage.service.js';

/** The one thing the meter needs of a tokenizer. */
export interface CountsTokens {
  count(text: string): number;
}

interface OpenCall {
  promptTokens: number;
  completionTokens: number;
  reported: boolean;
}

/**
 * Records a run's token usage as it is consumed, one model call at a time: the provider's own
 * numbers when it reports them, otherwise (a call cancelled or failed before its usage chunk)
 * what was sent and received, counted by the provider's tokenizer. So a cancelled or failed run
 * is billed for what it used, and the daily quota sees usage before the run ends.
 */
export class UsageMeter {
  readonly totals = { promptTokens: 0, completionTokens: 0 };
  private call: OpenCall | undefined;

  constructor(
    private readonly usage: UsageService,
    private readonly userId: string,
    private readonly counter: CountsTokens,
  ) {}

  beginCall(promptTexts: readonly string[]): void {
    this.call = {
      promptTokens: promptTexts.reduce((n, t) => n + this.counter.count(t), 0),
      completionTokens: 0,
      reported: false,
    };
  }

  received(text: string): void {
    if (this.call) this.call.completionTokens += this.counter.count(text);
  }

  /** The provider's usage for the current call: recorded at once. */
  async reported(promptTokens: number, completionTokens: number): Promise<void> {
    if (this.call) this.call.reported = true;
    await this.add(promptTokens, completionTokens);
  }

  /** Ends the current call; if the provider never reported usage, the counted usage is recorded. */
  async endCall(): Promise<void> {
    const call = this.call;
    this.call = undefined;
    if (call && !call.reported) await this.add(call.promptTokens, call.completionTokens);
  }

  private async add(promptTokens: number, completionTokens: number): Promise<void> {
    this.totals.promptTokens += promptTokens;
    this.totals.completionTokens += completionTokens;
    if (promptTokens || completionTokens)
      await this.usage.record(this.userId, { promptTokens, completionTokens });
  }
}
