import { Inject, Injectable } from '@nestjs/common';
import { LiveRuns } from './live-runs.js';
import { RUN_EXECUTOR, type RunExecutor } from './run-executor.js';
import type { RunSpec } from './run-spec.js';

/**
 * Executes runs whose rows are committed, through the executor the agent module provides
 * (RUN_EXECUTOR), and hands them to LiveRuns. Provided next to the executor (AgentModule), so
 * the engine's folder needs nothing of the agent's.
 */
@Injectable()
export class RunLauncher {
  constructor(
    @Inject(RUN_EXECUTOR) private readonly executor: RunExecutor,
    @Inject(LiveRuns) private readonly live: LiveRuns,
  ) {}

  /** This node's id, written into the runs it starts. */
  get nodeId(): string {
    return this.live.nodeId;
  }

  /**
   * Refused while shutting down: the row is then left to the takeover sweep, which interrupts
   * it and offers a retry.
   */
  launch(spec: RunSpec): boolean {
    if (!this.live.accepting) return false;
    this.live.start(this.executor.create(spec));
    return true;
  }
}
