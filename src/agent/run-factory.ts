import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { FaultPoints } from '../common/fault-points.js';
import { HistoryService } from '../history/history.service.js';
import { UsageService } from '../quotas/usage.service.js';
import { RunLifecycle } from '../runs/run-lifecycle.service.js';
import { LLM_PROVIDER, type LlmProvider } from './providers/provider.js';
import type { RunSpec } from './run-spec.js';
import { RunExecution } from './run-execution.js';
import { RunQuestions } from './run-questions.js';
import { ToolRegistry } from './tools/tool-registry.js';

/** Builds run executions (plain objects, one per attempt) with their collaborators. */
@Injectable()
export class RunFactory {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RunLifecycle) private readonly lifecycle: RunLifecycle,
    @Inject(RunQuestions) private readonly questions: RunQuestions,
    @Inject(LLM_PROVIDER) private readonly provider: LlmProvider,
    @Inject(ToolRegistry) private readonly tools: ToolRegistry,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(FaultPoints) private readonly faults: FaultPoints,
  ) {}

  create(spec: RunSpec): RunExecution {
    return new RunExecution(
      spec,
      this.lifecycle,
      this.questions,
      this.provider,
      this.tools,
      this.history,
      this.usage,
      this.faults,
      this.config.agent.failFirstAttempts,
    );
  }
}
