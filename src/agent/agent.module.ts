import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { RemindersModule } from '../reminders/reminders.module.js';
import { RUN_EXECUTOR } from '../runs/run-executor.js';
import { RunsModule } from '../runs/runs.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AgentController } from './agent.controller.js';
import { ApprovalsController } from './approvals.controller.js';
import { ToolsController } from './tools.controller.js';
import { SteeringController } from './steering.controller.js';
import { AgentRepository } from './agent.repository.js';
import { AgentToolkit } from './agent-toolkit.js';
import { ConversationContextBuilder } from './context/conversation-context.builder.js';
import { ConversationLogReader } from './context/conversation-log.reader.js';
import { TOKEN_COUNTER, loadTokenCounter } from './context/token-counter.factory.js';
import { BuiltinProvider } from './providers/builtin.provider.js';
import { OpenAiProvider } from './providers/openai.provider.js';
import { LLM_PROVIDER, type LlmProvider } from './providers/provider.js';
import { RunFactory } from './run-factory.js';
import { ToolCallLedger } from './tools/tool-call.ledger.js';
import { ToolRegistry } from './tools/tool-registry.js';
import { AnswerInteractionUseCase } from './usecases/answer-interaction.usecase.js';
import { CancelRunUseCase } from './usecases/cancel-run.usecase.js';
import { ResumeIntentUseCase } from './usecases/resume-intent.usecase.js';
import { RegenerateIntentUseCase } from './usecases/regenerate-intent.usecase.js';
import { RunStarts } from './usecases/run-starts.js';
import { BusySession } from './usecases/busy-session.js';
import { QuestionLookup } from './usecases/question-lookup.js';
import { SendMessageUseCase } from './usecases/send-message.usecase.js';

function providerFor(config: AppConfig): LlmProvider {
  const openai = config.agent.openai;
  return config.agent.provider === 'openai' && openai
    ? new OpenAiProvider(openai)
    : new BuiltinProvider(config.agent.builtinTokenDelayMs);
}

/**
 * What the agent does inside a run (model providers, tools, context, the executor) and the use
 * cases people drive it with. The run engine (runs/) starts executions through RUN_EXECUTOR,
 * which is the RunFactory here (RunLauncher looks it up when it first launches).
 */
@Module({
  imports: [SessionsModule, RemindersModule, RunsModule],
  controllers: [AgentController, SteeringController, ApprovalsController, ToolsController],
  providers: [
    { provide: LLM_PROVIDER, inject: [APP_CONFIG], useFactory: providerFor },
    AgentRepository,
    ToolRegistry,
    { provide: TOKEN_COUNTER, inject: [APP_CONFIG], useFactory: loadTokenCounter },
    ConversationLogReader,
    ConversationContextBuilder,
    ToolCallLedger,
    AgentToolkit,
    RunFactory,
    { provide: RUN_EXECUTOR, useExisting: RunFactory },
    SendMessageUseCase,
    AnswerInteractionUseCase,
    CancelRunUseCase,
    RunStarts,
    BusySession,
    QuestionLookup,
    ResumeIntentUseCase,
    RegenerateIntentUseCase,
  ],
  exports: [
    SendMessageUseCase,
    AnswerInteractionUseCase,
    CancelRunUseCase,
    ResumeIntentUseCase,
    RegenerateIntentUseCase,
  ],
})
export class AgentModule {}
