import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AgentController } from './agent.controller.js';
import { AgentRepository } from './agent.repository.js';
import { InteractionHub } from './interaction-hub.js';
import { ClusterAnswers } from './cluster-answers.js';
import { InteractionSweeper } from './interaction-sweeper.service.js';
import { RunFactory } from './run-factory.js';
import { RunFencing } from './run-fencing.service.js';
import { RunQuestions } from './run-questions.js';
import { OrchestratorService } from './orchestrator.service.js';
import { BuiltinProvider } from './providers/builtin.provider.js';
import { OpenAiProvider } from './providers/openai.provider.js';
import { LLM_PROVIDER, type LlmProvider } from './providers/provider.js';
import { ToolRegistry } from './tools/tool-registry.js';
import { AnswerInteractionUseCase } from './usecases/answer-interaction.usecase.js';
import { CancelRunUseCase } from './usecases/cancel-run.usecase.js';
import { ResumeIntentUseCase } from './usecases/resume-intent.usecase.js';
import { RetryIntentUseCase } from './usecases/retry-intent.usecase.js';
import { SendMessageUseCase } from './usecases/send-message.usecase.js';

function providerFor(config: AppConfig): LlmProvider {
  const openai = config.agent.openai;
  return config.agent.provider === 'openai' && openai
    ? new OpenAiProvider(openai)
    : new BuiltinProvider(config.agent.builtinTokenDelayMs);
}

@Module({
  imports: [SessionsModule],
  controllers: [AgentController],
  providers: [
    { provide: LLM_PROVIDER, inject: [APP_CONFIG], useFactory: providerFor },
    AgentRepository,
    InteractionHub,
    ToolRegistry,
    RunQuestions,
    RunFactory,
    OrchestratorService,
    RunFencing,
    InteractionSweeper,
    ClusterAnswers,
    SendMessageUseCase,
    AnswerInteractionUseCase,
    CancelRunUseCase,
    RetryIntentUseCase,
    ResumeIntentUseCase,
  ],
  exports: [
    SendMessageUseCase,
    AnswerInteractionUseCase,
    CancelRunUseCase,
    ResumeIntentUseCase,
    OrchestratorService,
  ],
})
export class AgentModule {}
