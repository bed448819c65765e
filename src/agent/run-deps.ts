import type { AppConfig } from '../config/app-config.js';
import type { HistoryService } from '../history/history.service.js';
import type { UsageService } from '../quotas/usage.service.js';
import type { RunsRepository } from '../sessions/runs.repository.js';
import type { Database } from '../database/database.js';
import type { AgentRepository } from './agent.repository.js';
import type { InteractionHub } from './interaction-hub.js';
import type { InteractionTimers } from './interaction-timers.js';
import type { LlmProvider, TranscriptMessage } from './providers/provider.js';
import type { ToolRegistry } from './tools/tool-registry.js';
import type { ToolCallLedger } from './tools/tool-call.ledger.js';
import type { ConversationContextBuilder } from './context/conversation-context.builder.js';
import type { TokenCounter } from './context/token-counter.js';
import type { QuotaGuard } from '../quotas/quota-guard.service.js';

/** Everything a run needs, handed over by the orchestrator (runs are objects, not providers). */
export interface RunDeps {
  config: AppConfig;
  db: Database;
  history: HistoryService;
  repo: AgentRepository;
  runs: RunsRepository;
  usage: UsageService;
  hub: InteractionHub;
  timers: InteractionTimers;
  provider: LlmProvider;
  tools: ToolRegistry;
  context: ConversationContextBuilder;
  tokens: TokenCounter;
  quotas: QuotaGuard;
  toolCalls: ToolCallLedger;
}

export interface RunSpec {
  runId: string;
  intentId: string;
  sessionId: string;
  userId: string;
  attempt: number;
  transcript: TranscriptMessage[];
}

/** Why a run stopped early; carried as the AbortSignal's reason. */
export class RunCancelled extends Error {
  constructor(readonly reason: 'user' | 'admin' | 'expired' | 'shutdown') {
    super(`run cancelled (${reason})`);
    this.name = 'RunCancelled';
  }
}

/** A failure of the attempt itself (model error, tool error, injected fault). */
export class AgentFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentFailure';
  }
}
