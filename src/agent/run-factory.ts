import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { FaultPoints } from '../common/fault-points.js';
import { HistoryService } from '../history/history.service.js';
import { UsageService } from '../quotas/usage.service.js';
import { QuotaGuard } from '../quotas/quota-guard.service.js';
import { UsageMeter } from '../quotas/usage-meter.js';
import { ConversationContextBuilder } from './context/conversation-context.builder.js';
import { TOKEN_COUNTER } from './context/token-counter.factory.js';
import type { TokenCounter } from './context/token-counter.js';
import { ToolCallLedger } from './tools/tool-call.ledger.js';
import { RunLifecycle } from '../runs/run-lifecycle.service.js';
import { LLM_PROVIDER, type LlmProvider } from './providers/provider.js';
import type { RunExecutor } from '../runs/run-executor.js';
import type { RunSpec } from '../runs/run-spec.js';
import { RunExecution } from './run-execution.js';
import { RunQuestions } from '../runs/run-questions.js';
import { ToolRegistry } from './tools/tool-registry.js';

/** Builds run executions (plain objects, one per attempt) with their collaborators. */
@Injectable()
export class RunFactory implements RunExecutor {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RunLifecycle) private readonly lifecycle: RunLifecycle,
    @Inject(RunQuestions) private readonly questions: RunQuestions,
    @Inject(LLM_PROVIDER) private readonly provider: LlmProvider,
    @Inject(ToolRegistry) private readonly tools: ToolRegistry,
    @Inject(ToolCallLedger) private readonly toolCalls: ToolCallLedger,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(ConversationContextBuilder) private readonly context: ConversationContextBuilder,
    @Inject(TOKEN_COUNTER) private readonly tokens: TokenCounter,
    @Inject(QuotaGuard) private readonly quotas: QuotaGuard,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {}

  create(spec: RunSpec): RunExecution {
    return new RunExecution(
      spec,
      this.lifecycle,
      this.questions,
      this.provider,
      this.tools,
      this.toolCalls,
      this.history,
      this.context,
      new UsageMeter(this.usage, spec.userId, this.tokens),
      this.quotas,
      this.faults,
      this.config.agent.failFirstAttempts,
    );
  }
}
