import { Module } from '@nestjs/common';
import { ApprovalGrants } from './approval-grants.js';
import { ClusterAnswers } from './cluster-answers.js';
import { InteractionHub } from './interaction-hub.js';
import { InteractionLifecycle } from './interaction-lifecycle.service.js';
import { InteractionSweeper } from './interaction-sweeper.service.js';
import { InteractionTimers } from './interaction-timers.js';
import { LiveRunStopper } from './live-run-stopper.js';
import { LiveRuns } from './live-runs.js';
import { RunControlService } from './run-control.service.js';
import { RunFencing } from './run-fencing.service.js';
import { OpenQuestions } from './open-questions.js';
import { RunLifecycle } from './run-lifecycle.service.js';
import { RunQuestions } from './run-questions.js';
import { RunsRepository } from './runs.repository.js';
import { InboxRepository } from './inbox.repository.js';
import { RunsStore } from './runs.store.js';
import { QueueStore } from './queue.store.js';
import { RunLauncher } from './run-launcher.js';
import { SessionQueue } from './session-queue.js';
import { SessionBranches } from './session-branches.js';
import { AttemptStarts } from './attempt-starts.js';
import { QueueSweeper } from './queue-sweeper.js';
import { PausedRuns } from './paused-runs.js';
import { PausedRunsStore } from './paused-runs.store.js';

/**
 * The run engine: the one owner of runs, intents and interactions (their tables and state
 * machines), and of the control paths around them: the runs executing here (LiveRuns), cancel
 * local and remote, heartbeats and takeover, questions' timers and answers from other nodes.
 * What a run does inside is the agent's (agent/); it is started through RunLauncher, which
 * reaches the agent's executor by the RUN_EXECUTOR token. A session's queue of intents
 * (SessionQueue) starts the next one in the transaction that frees the session. Standing
 * approval grants (ApprovalGrants) are written with the answer that makes them. A run waiting
 * on a question outlives its process: parked, then adopted by whichever node sees it answered
 * (PausedRuns).
 */
@Module({
  providers: [
    RunsStore,
    QueueStore,
    RunLauncher,
    SessionQueue,
    SessionBranches,
    AttemptStarts,
    QueueSweeper,
    PausedRuns,
    PausedRunsStore,
    RunsRepository,
    InboxRepository,
    RunLifecycle,
    OpenQuestions,
    InteractionLifecycle,
    InteractionTimers,
    InteractionHub,
    RunQuestions,
    LiveRuns,
    RunControlService,
    LiveRunStopper,
    RunFencing,
    InteractionSweeper,
    ClusterAnswers,
    ApprovalGrants,
  ],
  exports: [
    RunsStore,
    QueueStore,
    RunLauncher,
    SessionQueue,
    SessionBranches,
    AttemptStarts,
    RunsRepository,
    InboxRepository,
    RunLifecycle,
    InteractionLifecycle,
    InteractionSweeper,
    RunQuestions,
    LiveRuns,
    RunControlService,
    LiveRunStopper,
    ApprovalGrants,
    PausedRuns,
  ],
})
export class RunsModule {}
