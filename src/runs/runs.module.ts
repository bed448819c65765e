import { Global, Module } from '@nestjs/common';
import { FaultPoints } from '../common/fault-points.js';
import { InteractionLifecycle } from './interaction-lifecycle.service.js';
import { InteractionTimers } from './interaction-timers.js';
import { OpenQuestions } from './open-questions.js';
import { RunLifecycle } from './run-lifecycle.service.js';
import { RunsStore } from './runs.store.js';

/**
 * The run lifecycle: the one owner of runs, intents and interactions. Global, because sessions
 * (close, expiry) and the agent (execution, use cases) both drive it.
 */
@Global()
@Module({
  providers: [
    FaultPoints,
    RunsStore,
    RunLifecycle,
    OpenQuestions,
    InteractionLifecycle,
    InteractionTimers,
  ],
  exports: [FaultPoints, RunsStore, RunLifecycle, InteractionLifecycle, InteractionTimers],
})
export class RunsModule {}
