import { Inject, Injectable } from '@nestjs/common';
import { FaultPoints } from '../common/fault-points.js';
import { HistoryService } from '../history/history.service.js';
import { QuotaPolicy } from '../quotas/quota-policy.service.js';
import { RunLifecycle } from '../runs/run-lifecycle.service.js';
import type { RunExecutor } from '../runs/run-executor.js';
import { RunQuestions } from '../runs/run-questions.js';
import { PausedRuns } from '../runs/paused-runs.js';
import type { RunSpec } from '../runs/run-spec.js';
import { AgentToolkit } from './agent-toolkit.js';
import { RunExecution, type RunExecutionDeps } from './run-execution.js';

/** Builds run executions (plain objects, one per attempt), all sharing one set of collaborators. */
@Injectable()
export class RunFactory implements RunExecutor {
  private readonly deps: RunExecutionDeps;

  constructor(
    @Inject(RunLifecycle) lifecycle: RunLifecycle,
    @Inject(RunQuestions) questions: RunQuestions,
    @Inject(PausedRuns) pauses: PausedRuns,
    @Inject(AgentToolkit) agent: AgentToolkit,
    @Inject(HistoryService) history: HistoryService,
    @Inject(QuotaPolicy) quotas: QuotaPolicy,
    @Inject(FaultPoints) faults: FaultPoints,
  ) {
    this.deps = { lifecycle, questions, pauses, agent, history, quotas, faults };
  }

  create(spec: RunSpec): RunExecution {
    return new RunExecution(spec, this.deps);
  }
}
