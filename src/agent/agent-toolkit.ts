import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ApprovalGrants } from '../runs/approval-grants.js';
import { ConversationContextBuilder } from './context/conversation-context.builder.js';
import { TOKEN_COUNTER } from './context/token-counter.factory.js';
import type { TokenCounter } from './context/token-counter.js';
import { LLM_PROVIDER, type LlmProvider } from './providers/provider.js';
import { ToolCallLedger } from './tools/tool-call.ledger.js';
import { ToolRegistry } from './tools/tool-registry.js';

/**
 * What the agent works with inside a run: the model (and the attempts configured to fail, which
 * stand in for its failures), the tools and their idempotency ledger, the session's standing
 * approval grants (read only: the run engine writes them), the context it is given and the
 * tokenizer its usage is counted with.
 */
@Injectable()
export class AgentToolkit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LLM_PROVIDER) readonly provider: LlmProvider,
    @Inject(ToolRegistry) readonly tools: ToolRegistry,
    @Inject(ToolCallLedger) readonly toolCalls: ToolCallLedger,
    @Inject(ApprovalGrants) readonly grants: ApprovalGrants,
    @Inject(ConversationContextBuilder) readonly context: ConversationContextBuilder,
    @Inject(TOKEN_COUNTER) readonly tokens: TokenCounter,
  ) {}

  /**
   * AGENT_FAIL_FIRST_ATTEMPTS: attempts up to this number fail on purpose (for testing retries).
   * Read at each run's start: tests change it while the service runs.
   */
  get failFirstAttempts(): number {
    return this.config.agent.failFirstAttempts;
  }
}
